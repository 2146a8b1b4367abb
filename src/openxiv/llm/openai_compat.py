"""OpenAI-compatible servers (vLLM, Ollama, llama-cpp-python's server, OpenRouter, DeepSeek ...).

"OpenAI-compatible" is several dialects when it comes to structured output. This adapter asks
for it in the strongest form a server accepts, in this order:

1. `json_schema`  -- `response_format: {"type": "json_schema", ...}` (OpenAI, vLLM, Ollama);
2. `json_object`  -- `response_format: {"type": "json_object", "schema": ...}` (llama-cpp-python:
   grammar-constrained by the schema; others ignore the schema and still answer JSON);
3. `tools`        -- one forced function call whose parameters are the schema;
4. `prompted`     -- the schema in the instructions; the client validates and repairs the answer.

A server that rejects a form (HTTP 400/404/415/422/501, or a 500 that names the field) gets the
next one; the first form that works is remembered for the alias in this process, and every
completion says which form produced it (`structured_mode`, kept in the call record).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import httpx

from openxiv.llm.port import (
    Completion,
    LLMAuthError,
    LLMConfigError,
    ModelCall,
    PermanentLLMError,
    TransientLLMError,
    estimate_tokens,
)
from openxiv.llm.settings import ModelAlias

MODES = ("json_schema", "json_object", "tools", "prompted")
_REJECTED_STATUSES = {400, 404, 415, 422, 501}
# A 500 counts as "this form is not supported" only when the error names the form.
_FORM_WORDS = ("response_format", "json_schema", "json_object", "tool", "schema")

# What each alias's server accepted, shared by every adapter and thread of this process.
_ACCEPTED: dict[tuple[str, str, str], str] = {}
_ACCEPTED_LOCK = threading.Lock()


def forget_accepted_modes() -> None:
    """Forget what servers accepted (tests; a server that was upgraded)."""
    with _ACCEPTED_LOCK:
        _ACCEPTED.clear()


class _FormRejected(Exception):
    def __init__(self, mode: str, status: int, detail: str) -> None:
        super().__init__(f"{mode}: HTTP {status} {detail}")
        self.mode, self.status, self.detail = mode, status, detail


class OpenAICompatibleAdapter:
    """Chat completions over HTTP with negotiated structured output. Never retries by itself."""

    def __init__(
        self,
        name: str,
        alias: ModelAlias,
        *,
        base_url: str | None = None,
        extra_body: dict[str, Any] | None = None,
        mode: str | None = None,
        count_tokens: Any = None,
    ) -> None:
        self.name = name
        self.alias = alias
        self.base_url = (base_url or alias.base_url or "").rstrip("/")
        if not self.base_url:
            raise LLMConfigError(f"model alias {name!r}: provider openai-compatible needs base_url")
        # Sampling options that only some servers know (llama.cpp: repeat_penalty).
        self.extra_body = dict(extra_body or {})
        self._fixed_mode = mode or _configured_mode(alias)
        self._count_tokens = count_tokens

    def count_tokens(self, text: str) -> int:
        return int(self._count_tokens(text)) if self._count_tokens else estimate_tokens(text)

    def _key(self) -> tuple[str, str, str]:
        return (self.name, self.base_url, self.alias.model)

    def _modes(self) -> list[str]:
        if self._fixed_mode is not None:
            return [self._fixed_mode]
        with _ACCEPTED_LOCK:
            known = _ACCEPTED.get(self._key())
        return [known] if known else list(MODES)

    def accepted_mode(self) -> str | None:
        with _ACCEPTED_LOCK:
            return _ACCEPTED.get(self._key())

    def _headers(self) -> dict[str, str]:
        env = self.alias.key_env()
        key = os.environ.get(env) if env else None
        if not key:
            if self.alias.api_key_env:
                raise LLMConfigError(
                    f"model alias {self.name!r} (provider {self.alias.provider}) needs an API key: "
                    f"set the environment variable {env}"
                )
            key = "not-needed"  # local servers (llama.cpp, Ollama, vLLM) usually take no key
        return {"Authorization": f"Bearer {key}"}

    async def complete(self, call: ModelCall) -> Completion:
        headers = self._headers()
        modes = self._modes()
        negotiating = self._fixed_mode is None and len(modes) > 1
        rejected: list[str] = []
        async with httpx.AsyncClient(timeout=self.alias.timeout_s) as http:
            for mode in modes:
                try:
                    completion = await self._request(http, headers, call, mode, negotiating)
                except _FormRejected as rejection:
                    rejected.append(str(rejection))
                    continue
                if negotiating:
                    with _ACCEPTED_LOCK:
                        _ACCEPTED[self._key()] = mode
                return completion
        raise PermanentLLMError(
            f"model alias {self.name!r}: the server at {self.base_url} accepted no form of structured "
            f"output ({'; '.join(rejected)})"
        )

    async def _request(
        self, http: httpx.AsyncClient, headers: dict[str, str], call: ModelCall, mode: str, negotiating: bool
    ) -> Completion:
        body = self._body(call, mode)
        try:
            response = await http.post(f"{self.base_url}/chat/completions", json=body, headers=headers)
        except httpx.TimeoutException as error:
            raise TransientLLMError(
                f"model alias {self.name!r}: no answer within {self.alias.timeout_s:g} s"
            ) from error
        except httpx.HTTPError as error:
            raise TransientLLMError(
                f"model alias {self.name!r}: cannot reach {self.base_url} ({type(error).__name__}: {error})"
            ) from error
        status = response.status_code
        if status >= 400:
            detail = response.text.replace("\n", " ")[:300]
            if negotiating and (
                status in _REJECTED_STATUSES
                or (status == 500 and any(word in detail.lower() for word in _FORM_WORDS))
            ):
                raise _FormRejected(mode, status, detail)
            self._raise_for(status, detail, response.headers.get("retry-after"))
        try:
            data = response.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise TransientLLMError(
                f"model alias {self.name!r}: unreadable answer {response.text[:200]!r}"
            ) from error
        text = message.get("content") or ""
        if mode == "tools":
            calls = message.get("tool_calls") or []
            if calls:
                text = (calls[0].get("function") or {}).get("arguments") or text
        usage = data.get("usage") or {}
        return Completion(
            text=text if isinstance(text, str) else json.dumps(text),
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            model=str(data.get("model") or self.alias.model),
            finish_reason=choice.get("finish_reason"),
            structured_mode=mode,
        )

    def _body(self, call: ModelCall, mode: str) -> dict[str, Any]:
        messages = [{"role": m.role, "content": m.content} for m in call.messages]
        body: dict[str, Any] = {
            "model": self.alias.model,
            "messages": messages,
            "temperature": call.temperature,
            "max_tokens": call.max_output_tokens,
            **self.extra_body,
        }
        schema = call.json_schema
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": call.schema_name, "schema": schema, "strict": False},
            }
        elif mode == "json_object":
            body["response_format"] = {"type": "json_object", "schema": schema}
        elif mode == "tools":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": call.schema_name,
                        "description": f"Give the answer as a {call.schema_name}.",
                        "parameters": schema,
                    },
                }
            ]
            body["tool_choice"] = {"type": "function", "function": {"name": call.schema_name}}
        else:
            instruction = (
                f"Answer with one JSON object, and nothing else, that matches this JSON schema "
                f"({call.schema_name}):\n{json.dumps(schema, separators=(',', ':'))}"
            )
            if messages and messages[0]["role"] == "system":
                messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{instruction}"}
            else:
                messages.insert(0, {"role": "system", "content": instruction})
        return body

    def _raise_for(self, status: int, detail: str, retry_after: str | None) -> None:
        if status in (401, 403):
            raise LLMAuthError(self.name, self.alias.provider, self.alias.key_env(), detail)
        if status in (408, 429) or status >= 500:
            try:
                wait = float(retry_after) if retry_after else None
            except ValueError:
                wait = None
            raise TransientLLMError(
                f"model alias {self.name!r}: HTTP {status} {detail}".strip(), retry_after=wait, status=status
            )
        raise PermanentLLMError(f"model alias {self.name!r}: HTTP {status} {detail}")


def _configured_mode(alias: ModelAlias) -> str | None:
    """`native` negotiates; `prompted` or one named form is used as it is."""
    return None if alias.structured == "native" else alias.structured
