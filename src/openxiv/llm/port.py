"""The LLM port: what the rest of OpenXiv knows about language models, and nothing more.

Callers use `LLMClient.generate(schema, messages, model_alias)` (see `openxiv.llm.client`). Below it,
an `Adapter` turns one `ModelCall` into one `Completion` for one provider. Everything a call needs
to be reproduced is in the `ModelCall`, so its canonical JSON hash identifies it for replay.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


def system(content: str) -> Message:
    return Message(role="system", content=content)


def user(content: str) -> Message:
    return Message(role="user", content=content)


def assistant(content: str) -> Message:
    return Message(role="assistant", content=content)


@dataclass(frozen=True)
class CallContext:
    """What a call is for; stored with its record so calls can be traced to a review."""

    purpose: str = ""
    run_id: str | None = None
    submission_id: int | None = None
    version_id: int | None = None
    review_id: int | None = None

    def with_purpose(self, purpose: str) -> CallContext:
        return CallContext(purpose, self.run_id, self.submission_id, self.version_id, self.review_id)


@dataclass(frozen=True)
class ModelCall:
    """One request to one model, provider-neutral."""

    alias: str
    provider: str
    model: str
    messages: tuple[Message, ...]
    schema_name: str
    json_schema: dict[str, Any]
    temperature: float
    max_output_tokens: int
    # Tells apart calls that are otherwise identical (five panel seats on one alias), so that
    # replay returns each its own answer. Not sent to the provider.
    sample: int = 0

    def request_dict(self) -> dict[str, Any]:
        # The alias is left out on purpose: renaming an alias must not break replay of its calls.
        return {
            "provider": self.provider,
            "model": self.model,
            "messages": [m.model_dump() for m in self.messages],
            "schema_name": self.schema_name,
            "json_schema": self.json_schema,
            "temperature": self.temperature,
            "max_output_tokens": self.max_output_tokens,
            "sample": self.sample,
        }

    def request_hash(self) -> str:
        return request_hash(self.request_dict())


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(request).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Completion:
    """The raw answer of one model call."""

    text: str
    input_tokens: int
    output_tokens: int
    model: str
    finish_reason: str | None = None
    # Set by the replay adapter: the latency measured when the call was first made.
    recorded_latency_ms: float | None = None
    # How the structured output was asked for (json_schema, json_object, tools, prompted,
    # grammar), where the adapter chooses among several; kept in the call record.
    structured_mode: str | None = None


class Usage(BaseModel):
    """What a `generate` call (all its retries and repairs together) consumed."""

    model_alias: str = ""
    provider: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    calls: int = 0  # model calls made, including retries and repairs
    repairs: int = 0

    def plus(self, other: Usage) -> Usage:
        """Sum of two usages (latency adds up: use it for sequential work only)."""
        return Usage(
            model_alias=self.model_alias if self.model_alias == other.model_alias else "mixed",
            provider=self.provider if self.provider == other.provider else "mixed",
            model=self.model if self.model == other.model else "mixed",
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            latency_ms=self.latency_ms + other.latency_ms,
            calls=self.calls + other.calls,
            repairs=self.repairs + other.repairs,
        )

    @staticmethod
    def total(usages: list[Usage], *, wall_ms: float | None = None) -> Usage:
        """Sum of usages; `wall_ms` replaces the summed latency for work that ran concurrently."""
        result = Usage()
        first = True
        for usage in usages:
            result = usage.model_copy() if first else result.plus(usage)
            first = False
        if wall_ms is not None:
            result.latency_ms = wall_ms
        return result


class Adapter(Protocol):
    """One provider. Raises the `LLMError` subclasses below; never retries by itself."""

    async def complete(self, call: ModelCall) -> Completion: ...

    def count_tokens(self, text: str) -> int: ...


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 4 characters per token for English and code)."""
    return max(1, (len(text) + 3) // 4) if text else 0


# Errors -------------------------------------------------------------------------------------


class LLMError(Exception):
    """Base class; the message is written for the operator."""


class LLMConfigError(LLMError):
    """The configuration cannot work (unknown alias, missing package, missing key)."""


class LLMAuthError(LLMError):
    def __init__(self, alias: str, provider: str, env_var: str | None, detail: str = "") -> None:
        self.alias, self.provider, self.env_var = alias, provider, env_var
        where = f"set the environment variable {env_var}" if env_var else "configure an API key"
        message = (
            f"model alias {alias!r} (provider {provider}): the provider rejected the API key; "
            f"{where} to a valid key (configured in [llm.models.{alias}] api_key_env)"
        )
        super().__init__(message + (f" -- {detail}" if detail else ""))


class TransientLLMError(LLMError):
    """Worth retrying: rate limit, server error, timeout, dropped connection."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class PermanentLLMError(LLMError):
    """The provider rejected the request itself; sending it again will not help."""


class LLMUnavailableError(LLMError):
    """Transient errors went on after every retry."""


class ReplayMissError(LLMError):
    def __init__(self, request_hash: str) -> None:
        super().__init__(f"no recorded call with request hash {request_hash}")
        self.request_hash = request_hash


class InvalidOutputError(LLMError):
    """The model never produced JSON matching the schema, after every repair attempt."""

    def __init__(self, alias: str, schema_name: str, errors: list[str], last_text: str) -> None:
        self.alias, self.schema_name, self.errors, self.last_text = alias, schema_name, errors, last_text
        shown = "; ".join(errors[-1:])[:500]
        super().__init__(
            f"model alias {alias!r} returned no valid {schema_name} after {len(errors)} attempts: {shown}"
        )


@dataclass
class CallRecord:
    """One model call as it is stored by a recorder (see `openxiv.llm.recording`)."""

    request_hash: str
    alias: str
    provider: str
    model: str
    request: dict[str, Any]
    response: dict[str, Any] | None  # text, model, finish_reason; None when the call failed
    status: Literal["ok", "error"]
    error: str | None = None
    valid: bool | None = None  # did the text validate against the schema?
    validation_error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    attempt: int = 1
    purpose: str = ""
    run_id: str | None = None
    submission_id: int | None = None
    version_id: int | None = None
    review_id: int | None = None
    created_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallRecord:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})
