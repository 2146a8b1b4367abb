"""Recorders on a real database, schema tightening, and (marked `embedded`) the local model."""

from __future__ import annotations

import importlib.util

import pytest
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from openxiv.llm.client import LLMClient
from openxiv.llm.local import tighten_schema
from openxiv.llm.port import user
from openxiv.llm.recording import DatabaseRecorder, MemoryRecorder, SessionRecorder
from openxiv.llm.replay import FunctionAdapter
from openxiv.llm.settings import LLMSettings
from openxiv.models.llm import LLMCall
from tests.conftest import missing


class Answer(BaseModel):
    topic: str
    tags: list[str]
    confidence: int = Field(ge=0, le=9)


def test_database_recorder_records_and_replays(session_factory: sessionmaker[Session]) -> None:
    settings = LLMSettings(models={"m": {"provider": "test", "model": "x"}})
    adapter = FunctionAdapter(lambda call: '{"topic": "routing", "tags": ["moe"], "confidence": 4}')
    recorder = DatabaseRecorder(session_factory)
    value, usage = LLMClient(settings, recorder, adapters={"m": adapter}).generate(Answer, [user("q")], "m")
    with session_factory() as session:
        (row,) = session.query(LLMCall).all()
        assert row.status == "ok" and row.valid is True and row.model_alias == "m"
        assert row.request["messages"] == [{"role": "user", "content": "q"}]
        assert row.input_tokens == usage.input_tokens and row.created_at.tzinfo is not None
        replayed, _ = LLMClient(settings, replay=SessionRecorder(session)).generate(Answer, [user("q")], "m")
    assert replayed == value


def test_tightened_schema_bounds_lists_and_strings_but_keeps_minimums() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "score": {"type": "integer", "minimum": 1, "maximum": 4},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "weight": {"type": "number", "minimum": 0},
            "reviewers": {
                "type": "array",
                "minItems": 3,
                "maxItems": 5,
                "items": {"type": "string", "enum": ["a"]},
            },
        },
    }
    tight = tighten_schema(schema, max_items=2, max_chars=40)
    assert tight["properties"]["tags"]["maxItems"] == 2
    assert tight["properties"]["tags"]["items"]["maxLength"] == 40
    assert (
        tight["properties"]["reviewers"]["maxItems"] == 3
        and tight["properties"]["reviewers"]["minItems"] == 3
    )
    assert "maxLength" not in tight["properties"]["reviewers"]["items"]  # enums are left alone
    assert tight["properties"]["score"]["enum"] == [1, 2, 3, 4]
    assert tight["properties"]["confidence"]["enum"] == [i / 10 for i in range(11)]
    assert "enum" not in tight["properties"]["weight"]  # unbounded above: left alone
    assert "maxItems" not in schema["properties"]["tags"]  # the original is untouched


def _require_llama() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        missing("llama-cpp-python is not installed (make install-test builds it)")


@pytest.mark.embedded
def test_embedded_model_answers_with_schema_valid_json() -> None:
    _require_llama()
    recorder = MemoryRecorder()
    client = LLMClient(LLMSettings(), recorder)
    value, usage = client.generate(
        Answer,
        [user("Give the topic and tags of: sparse expert routing.")],
        "embedded",
        max_output_tokens=200,
    )
    assert isinstance(value, Answer) and usage.output_tokens > 0 and usage.input_tokens > 0
    assert usage.model == "smollm2-135m-instruct" and usage.cost_usd == 0.0
    assert recorder.records[0].valid is True
    # Greedy decoding: the replay and a second live call agree with the first answer.
    again, _ = client.generate(
        Answer,
        [user("Give the topic and tags of: sparse expert routing.")],
        "embedded",
        max_output_tokens=200,
    )
    assert again == value


@pytest.mark.embedded
def test_embedded_answers_do_not_depend_on_the_prompt_cache() -> None:
    _require_llama()
    paper = user("A paper on sparse expert routing: tokens pick two experts by a learned gate. " * 20)
    ask = [paper, user("Give the topic and tags of the paper above.")]
    other = [user("Give the topic and tags of: protein folding with diffusion models.")]

    def answers(cache_mib: int) -> list[Answer]:
        settings = LLMSettings.model_validate({"embedded": {"prompt_cache_mib": cache_mib}})
        client = LLMClient(settings, MemoryRecorder())
        # ask, something else, ask again: the third call finds its prefix only in the cache.
        return [client.generate(Answer, m, "embedded", max_output_tokens=200)[0] for m in (ask, other, ask)]

    cached, uncached = answers(64), answers(0)
    # Calls that find nothing to reuse answer exactly as without a cache, and without a cache the
    # model is deterministic. A prefix restored from the cache is not bit-identical to one computed
    # afresh (llama.cpp evaluates it in other batches), so on a prompt this close to noise greedy
    # decoding may pick another token there: the third cached answer need only be a valid one.
    assert cached[0] == uncached[0] == uncached[2]
    assert cached[1] == uncached[1]
    assert isinstance(cached[2], Answer)
