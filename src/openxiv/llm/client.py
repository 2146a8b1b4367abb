"""`LLMClient`: structured generation with retries, repair, concurrency limits and recording.

    client = LLMClient(settings.llm, recorder=JsonlRecorder("calls.jsonl"))
    review, usage = client.generate(ReviewReport, [system("..."), user("...")], "embedded")

`agenerate` is the coroutine (use `asyncio.gather` on it for concurrent calls); `generate` is the
blocking entry point for worker threads and the CLI. A `replay` lookup makes every alias answer
from recorded calls instead of a model.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from openxiv.llm.port import (
    Adapter,
    CallContext,
    CallRecord,
    Completion,
    InvalidOutputError,
    LLMAuthError,
    LLMError,
    LLMUnavailableError,
    Message,
    ModelCall,
    TransientLLMError,
    Usage,
    assistant,
    user,
)
from openxiv.llm.recording import CallLookup, CallRecorder, NullRecorder, now_iso
from openxiv.llm.settings import LLMSettings, ModelAlias

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

# Concurrency limits are per provider endpoint and per process, shared by every client and
# thread (Huey runs many worker threads, each with its own event loop).
_LIMITS: dict[tuple[str, str, str], threading.BoundedSemaphore] = {}
_LIMITS_LOCK = threading.Lock()


def _limit_for(alias: ModelAlias) -> threading.BoundedSemaphore:
    key = (alias.provider, alias.base_url or "", alias.model)
    with _LIMITS_LOCK:
        if key not in _LIMITS:
            _LIMITS[key] = threading.BoundedSemaphore(alias.max_concurrency)
        return _LIMITS[key]


async def _acquire(semaphore: threading.BoundedSemaphore) -> None:
    if semaphore.acquire(blocking=False):
        return
    waiter = asyncio.ensure_future(asyncio.to_thread(semaphore.acquire))
    try:
        await asyncio.shield(waiter)
    except asyncio.CancelledError:
        # The thread may still get the slot after we gave up: hand it straight back.
        waiter.add_done_callback(_release_if_acquired(semaphore))
        raise


def _release_if_acquired(semaphore: threading.BoundedSemaphore) -> Callable[[asyncio.Future[Any]], None]:
    # A waiter that failed (its executor shut down with the process) never took the slot.
    def release(waiter: asyncio.Future[Any]) -> None:
        if not waiter.cancelled() and waiter.exception() is None:
            semaphore.release()

    return release


def run_sync(coroutine: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine to completion from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
        running = True
    except RuntimeError:
        running = False
    if not running:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The JSON value in a model's answer: bare, fenced, or the outermost {...} in prose."""
    stripped = text.strip()
    candidates = [stripped]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    last_error: json.JSONDecodeError | None = None
    for candidate in candidates:
        try:
            # strict=False: raw tabs and newlines inside strings are a common, harmless slip of
            # small models (and of constrained grammars); everything else stays strict JSON.
            return json.loads(candidate, strict=False)
        except json.JSONDecodeError as error:
            last_error = error
    if not stripped:
        raise ValueError("the answer was empty")
    assert last_error is not None
    raise ValueError(f"the answer is not valid JSON ({last_error.msg} at char {last_error.pos})")


def validation_problem(schema: type[BaseModel], text: str) -> tuple[BaseModel | None, str | None]:
    try:
        data = extract_json(text)
    except ValueError as error:
        return None, str(error)
    try:
        return schema.model_validate(data), None
    except ValidationError as error:
        lines = []
        for item in error.errors()[:12]:
            where = ".".join(str(part) for part in item["loc"]) or "(root)"
            lines.append(f"{where}: {item['msg']}")
        more = error.error_count() - len(lines)
        return None, "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def _repair_prompt(problem: str) -> str:
    return (
        "Your previous answer could not be used: "
        f"{problem}. Answer again with one JSON object that matches the required schema exactly, "
        "with no text before or after it."
    )


class LLMClient:
    """Structured generation over the configured model aliases. Thread-safe."""

    def __init__(
        self,
        settings: LLMSettings,
        recorder: CallRecorder | None = None,
        *,
        adapters: Mapping[str, Adapter] | None = None,
        replay: CallLookup | None = None,
        replay_run_id: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.recorder: CallRecorder = recorder if recorder is not None else NullRecorder()
        self._adapters: dict[str, Adapter] = dict(adapters or {})
        self._replay = replay
        self._replay_run_id = replay_run_id
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    # Adapters -----------------------------------------------------------------------------

    def alias(self, name: str) -> ModelAlias:
        try:
            return self.settings.alias(name)
        except KeyError as error:
            raise LLMError(str(error.args[0])) from None

    def adapter(self, name: str) -> Adapter:
        with self._lock:
            if name not in self._adapters:
                if self._replay is not None:
                    from openxiv.llm.replay import ReplayAdapter

                    self._adapters[name] = ReplayAdapter(self._replay, run_id=self._replay_run_id)
                else:
                    from openxiv.llm.providers import build_adapter

                    self._adapters[name] = build_adapter(name, self.alias(name), self.settings)
            return self._adapters[name]

    def count_tokens(self, alias: str, text: str) -> int:
        return self.adapter(alias).count_tokens(text)

    def model_name(self, alias: str) -> str:
        return self.alias(alias).model

    # Generation ---------------------------------------------------------------------------

    def generate(
        self,
        schema: type[T],
        messages: Sequence[Message],
        model_alias: str,
        **options: Any,
    ) -> tuple[T, Usage]:
        """Blocking form of `agenerate`, for worker threads and the CLI."""
        return run_sync(self.agenerate(schema, messages, model_alias, **options))

    async def agenerate(
        self,
        schema: type[T],
        messages: Sequence[Message],
        model_alias: str,
        *,
        context: CallContext | None = None,
        temperature: float | None = None,
        max_output_tokens: int | None = None,
        sample: int = 0,
    ) -> tuple[T, Usage]:
        """Ask `model_alias` for an object of `schema`; returns it validated, with the usage.

        Raises `InvalidOutputError` when the answer never validates (after the repair attempts),
        `LLMAuthError` on a rejected key, `LLMUnavailableError` when retries run out, and other
        `LLMError`s for requests the provider refuses.
        """
        alias = self.alias(model_alias)
        context = context or CallContext()
        adapter = self.adapter(model_alias)
        conversation = list(messages)
        usage = Usage(model_alias=model_alias, provider=alias.provider, model=alias.model)
        problems: list[str] = []
        last_text = ""
        for repair in range(self.settings.retry.repair_attempts + 1):
            call = ModelCall(
                alias=model_alias,
                provider=alias.provider,
                model=alias.model,
                messages=tuple(conversation),
                schema_name=schema.__name__,
                json_schema=schema.model_json_schema(),
                temperature=alias.temperature if temperature is None else temperature,
                max_output_tokens=max_output_tokens or alias.max_output_tokens,
                sample=sample,
            )
            completion, latency_ms, attempts = await self._call_with_retries(call, alias, adapter, context)
            value, problem = validation_problem(schema, completion.text)
            cost = alias.cost_usd(completion.input_tokens, completion.output_tokens)
            self._record(
                call,
                context,
                completion=completion,
                latency_ms=latency_ms,
                attempt=attempts,
                cost=cost,
                valid=problem is None,
                validation_error=problem,
            )
            usage.input_tokens += completion.input_tokens
            usage.output_tokens += completion.output_tokens
            usage.cost_usd += cost
            usage.latency_ms += latency_ms
            usage.calls += attempts
            usage.repairs = repair
            if completion.model:
                usage.model = completion.model
            if value is not None:
                return value, usage  # type: ignore[return-value]
            assert problem is not None
            problems.append(problem)
            last_text = completion.text
            # Feed the broken answer back (clipped: a runaway answer must not eat the context).
            conversation += [assistant(completion.text[:4000]), user(_repair_prompt(problem))]
        raise InvalidOutputError(model_alias, schema.__name__, problems, last_text)

    async def _call_with_retries(
        self, call: ModelCall, alias: ModelAlias, adapter: Adapter, context: CallContext
    ) -> tuple[Completion, float, int]:
        retry = self.settings.retry
        limit = _limit_for(alias) if self._replay is None else None
        for attempt in range(1, retry.max_attempts + 1):
            if limit is not None:
                await _acquire(limit)
            started = time.perf_counter()
            try:
                completion = await asyncio.wait_for(adapter.complete(call), timeout=alias.timeout_s)
            except (TimeoutError, TransientLLMError) as error:
                latency_ms = (time.perf_counter() - started) * 1000
                if isinstance(error, TimeoutError):
                    error = TransientLLMError(f"no answer within {alias.timeout_s:g} s")
                self._record(call, context, error=str(error), latency_ms=latency_ms, attempt=attempt)
                delay = self._delay(attempt, error.retry_after)
                if attempt == retry.max_attempts or delay is None:
                    raise LLMUnavailableError(
                        f"model alias {call.alias!r}: {error} (gave up after {attempt} attempts)"
                    ) from error
            except LLMError as error:
                latency_ms = (time.perf_counter() - started) * 1000
                self._record(call, context, error=str(error), latency_ms=latency_ms, attempt=attempt)
                raise
            else:
                latency_ms = round((time.perf_counter() - started) * 1000, 3)
                if completion.recorded_latency_ms is not None:
                    latency_ms = completion.recorded_latency_ms
                return completion, latency_ms, attempt
            finally:
                if limit is not None:
                    limit.release()
            await self._sleep(delay)
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt; None when the provider asks for too long."""
        retry = self.settings.retry
        backoff = min(retry.backoff_max_s, retry.backoff_base_s * 2 ** (attempt - 1))
        jittered = backoff * (0.5 + self._rng.random())
        if retry_after is None:
            return jittered
        if retry_after > retry.retry_after_max_s:
            return None
        # Honour the provider's wait, plus a little jitter so that waiting clients do not stampede.
        return retry_after + self._rng.random() * min(1.0, retry.backoff_base_s)

    def _record(
        self,
        call: ModelCall,
        context: CallContext,
        *,
        completion: Completion | None = None,
        error: str | None = None,
        latency_ms: float = 0.0,
        attempt: int = 1,
        cost: float = 0.0,
        valid: bool | None = None,
        validation_error: str | None = None,
    ) -> None:
        response = None
        if completion is not None:
            response = {
                "text": completion.text,
                "model": completion.model,
                "finish_reason": completion.finish_reason,
                "input_tokens": completion.input_tokens,
                "output_tokens": completion.output_tokens,
            }
            if completion.structured_mode:
                response["structured_mode"] = completion.structured_mode
        self.recorder.record(
            CallRecord(
                request_hash=call.request_hash(),
                alias=call.alias,
                provider=call.provider,
                model=(completion.model if completion and completion.model else call.model),
                request=call.request_dict(),
                response=response,
                status="ok" if completion is not None else "error",
                error=error,
                valid=valid,
                validation_error=validation_error,
                input_tokens=completion.input_tokens if completion else 0,
                output_tokens=completion.output_tokens if completion else 0,
                cost_usd=cost,
                latency_ms=round(latency_ms, 3),
                attempt=attempt,
                purpose=context.purpose,
                run_id=context.run_id,
                submission_id=context.submission_id,
                version_id=context.version_id,
                review_id=context.review_id,
                created_at=now_iso(),
            )
        )


__all__ = ["LLMAuthError", "LLMClient", "extract_json", "run_sync", "validation_problem"]
