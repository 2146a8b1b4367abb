"""LLMClient: validation, repair, retries with backoff and Retry-After, recording, replay."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import BaseModel, Field

from openxiv.llm.client import LLMClient, extract_json
from openxiv.llm.port import (
    InvalidOutputError,
    LLMUnavailableError,
    ModelCall,
    PermanentLLMError,
    ReplayMissError,
    TransientLLMError,
    system,
    user,
)
from openxiv.llm.recording import JsonlRecorder, MemoryRecorder
from openxiv.llm.replay import FunctionAdapter
from openxiv.llm.settings import LLMSettings


class Verdict(BaseModel):
    decision: str
    score: int = Field(ge=0, le=10)


def settings(**retry: object) -> LLMSettings:
    return LLMSettings(
        models={
            "m": {
                "provider": "test",
                "model": "scripted",
                "price_in_per_mtok": 2.0,
                "price_out_per_mtok": 8.0,
            }
        },
        retry=retry or {},
    )


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def scripted(*answers: str | Exception) -> FunctionAdapter:
    queue = list(answers)

    def respond(call: ModelCall) -> str:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return FunctionAdapter(respond, model="scripted-1")


def test_valid_answer_returns_object_usage_and_one_record() -> None:
    recorder = MemoryRecorder()
    adapter = scripted('{"decision": "accept", "score": 7}')
    client = LLMClient(settings(), recorder, adapters={"m": adapter})
    value, usage = client.generate(Verdict, [system("judge"), user("text")], "m")
    assert value == Verdict(decision="accept", score=7)
    assert usage.calls == 1 and usage.repairs == 0 and usage.model == "scripted-1"
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    expected_cost = (usage.input_tokens * 2.0 + usage.output_tokens * 8.0) / 1e6
    assert usage.cost_usd == pytest.approx(expected_cost)
    (record,) = recorder.records
    assert record.status == "ok" and record.valid is True
    assert record.request["messages"][1] == {"role": "user", "content": "text"}
    assert record.response is not None and json.loads(record.response["text"])["score"] == 7
    assert len(record.request_hash) == 64


def test_repair_feeds_the_validation_error_back() -> None:
    recorder = MemoryRecorder()
    adapter = scripted(
        '{"decision": "accept", "score": 99}', 'Sure! ```json\n{"decision": "reject", "score": 3}\n```'
    )
    client = LLMClient(settings(), recorder, adapters={"m": adapter})
    value, usage = client.generate(Verdict, [user("text")], "m")
    assert value.score == 3 and usage.repairs == 1 and usage.calls == 2
    repair_request = adapter.calls[1].messages
    assert repair_request[-2].role == "assistant" and "99" in repair_request[-2].content
    assert "score" in repair_request[-1].content and "less than or equal to 10" in repair_request[-1].content
    assert [r.valid for r in recorder.records] == [False, True]
    assert "score" in (recorder.records[0].validation_error or "")


def test_invalid_json_every_time_gives_up_after_two_repairs() -> None:
    recorder = MemoryRecorder()
    adapter = scripted("not json", "{broken", '{"decision": "x"}')
    client = LLMClient(settings(), recorder, adapters={"m": adapter})
    with pytest.raises(InvalidOutputError) as caught:
        client.generate(Verdict, [user("text")], "m")
    assert len(adapter.calls) == 3
    assert "'m'" in str(caught.value) and "Verdict" in str(caught.value)
    assert len(caught.value.errors) == 3 and caught.value.last_text == '{"decision": "x"}'
    assert len(recorder.records) == 3 and all(r.valid is False for r in recorder.records)


def test_transient_errors_back_off_with_jitter_and_honour_retry_after() -> None:
    sleeps = Sleeps()
    adapter = scripted(
        TransientLLMError("429", retry_after=7.0, status=429),
        TransientLLMError("503", status=503),
        '{"decision": "accept", "score": 5}',
    )
    recorder = MemoryRecorder()
    client = LLMClient(
        settings(backoff_base_s=1.0, backoff_max_s=30.0), recorder, adapters={"m": adapter}, sleep=sleeps
    )
    value, usage = client.generate(Verdict, [user("text")], "m")
    assert value.score == 5 and usage.calls == 3
    assert 7.0 <= sleeps.delays[0] <= 8.0  # Retry-After plus at most one second of jitter
    assert 1.0 <= sleeps.delays[1] <= 3.0  # second attempt: base * 2 with jitter in [0.5, 1.5)
    assert [r.status for r in recorder.records] == ["error", "error", "ok"]
    assert [r.attempt for r in recorder.records] == [1, 2, 3]


def test_retry_storm_ends_with_unavailable_after_max_attempts() -> None:
    sleeps = Sleeps()
    adapter = scripted(*[TransientLLMError("429", status=429) for _ in range(4)])
    client = LLMClient(
        settings(max_attempts=4, backoff_base_s=1.0), MemoryRecorder(), adapters={"m": adapter}, sleep=sleeps
    )
    with pytest.raises(LLMUnavailableError, match="gave up after 4 attempts"):
        client.generate(Verdict, [user("text")], "m")
    assert len(sleeps.delays) == 3
    for attempt, delay in enumerate(sleeps.delays):
        assert 0.5 * 2**attempt <= delay < 1.5 * 2**attempt  # exponential, jittered


def test_retry_after_beyond_the_limit_fails_at_once() -> None:
    sleeps = Sleeps()
    adapter = scripted(TransientLLMError("429", retry_after=3600.0, status=429))
    client = LLMClient(
        settings(retry_after_max_s=60), MemoryRecorder(), adapters={"m": adapter}, sleep=sleeps
    )
    with pytest.raises(LLMUnavailableError):
        client.generate(Verdict, [user("text")], "m")
    assert sleeps.delays == []


def test_permanent_error_is_not_retried() -> None:
    adapter = scripted(PermanentLLMError("bad request"), '{"decision": "a", "score": 1}')
    client = LLMClient(settings(), MemoryRecorder(), adapters={"m": adapter}, sleep=Sleeps())
    with pytest.raises(PermanentLLMError):
        client.generate(Verdict, [user("text")], "m")
    assert len(adapter.calls) == 1


def test_timeout_counts_as_transient() -> None:
    class Slow:
        calls = 0

        async def complete(self, call: ModelCall):  # type: ignore[no-untyped-def]
            Slow.calls += 1
            await asyncio.sleep(5)

        def count_tokens(self, text: str) -> int:
            return len(text)

    base = settings(max_attempts=2)
    base.models["m"].timeout_s = 0.05
    client = LLMClient(base, MemoryRecorder(), adapters={"m": Slow()}, sleep=Sleeps())
    with pytest.raises(LLMUnavailableError, match="no answer within"):
        client.generate(Verdict, [user("text")], "m")
    assert Slow.calls == 2


def test_unknown_alias_is_a_clear_error() -> None:
    client = LLMClient(settings())
    with pytest.raises(Exception, match="unknown model alias 'nope'"):
        client.generate(Verdict, [user("x")], "nope")


def test_replay_reproduces_answers_and_usage_byte_for_byte(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "calls.jsonl"
    adapter = scripted('{"decision": "accept", "score": 11}', '{"decision": "accept", "score": 9}')
    original = LLMClient(settings(), JsonlRecorder(path), adapters={"m": adapter})
    value, usage = original.generate(Verdict, [user("text")], "m")
    replayed_value, replayed_usage = LLMClient(settings(), replay=JsonlRecorder(path)).generate(
        Verdict, [user("text")], "m"
    )
    assert replayed_value.model_dump_json() == value.model_dump_json()
    assert replayed_usage.model_dump_json() == usage.model_dump_json()
    with pytest.raises(ReplayMissError):
        LLMClient(settings(), replay=JsonlRecorder(path)).generate(Verdict, [user("other text")], "m")


def test_sample_tells_identical_requests_apart_in_replay() -> None:
    recorder = MemoryRecorder()
    adapter = scripted('{"decision": "accept", "score": 1}', '{"decision": "reject", "score": 2}')
    client = LLMClient(settings(), recorder, adapters={"m": adapter})
    first, _ = client.generate(Verdict, [user("same")], "m", sample=0)
    second, _ = client.generate(Verdict, [user("same")], "m", sample=1)
    replay = LLMClient(settings(), replay=recorder)
    assert replay.generate(Verdict, [user("same")], "m", sample=1)[0] == second
    assert replay.generate(Verdict, [user("same")], "m", sample=0)[0] == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Here you go:\n```json\n{"a": 2}\n```', {"a": 2}),
        ('prefix {"a": {"b": 3}} suffix', {"a": {"b": 3}}),
    ],
)
def test_extract_json(text: str, expected: dict[str, object]) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "{unclosed"])
def test_extract_json_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        extract_json(text)


def test_sync_entry_point_works_inside_a_running_loop() -> None:
    client = LLMClient(settings(), adapters={"m": scripted('{"decision": "a", "score": 1}')})

    async def inside() -> Verdict:
        return client.generate(Verdict, [user("x")], "m")[0]

    assert asyncio.run(inside()).score == 1
