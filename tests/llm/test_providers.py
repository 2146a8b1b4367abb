"""The hosted-provider adapters over real HTTP against local servers speaking each wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, Field

from openxiv.llm.client import LLMClient
from openxiv.llm.port import LLMAuthError, LLMConfigError, LLMUnavailableError, system, user
from openxiv.llm.recording import MemoryRecorder
from openxiv.llm.settings import LLMSettings
from openxiv.tooling.fake_llm_server import FakeLLMServer, FakeReply, FakeRequest, schema_responder


class Finding(BaseModel):
    label: str
    severity: int = Field(ge=0, le=3)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "TEST_KEY"):
        monkeypatch.setenv(name, f"key-{name.lower()}")


def alias(provider: str, model: str, url: str, **extra: object) -> dict[str, object]:
    base = f"{url}/v1" if provider in ("openai", "openai-compatible") else url
    return {"provider": provider, "model": model, "base_url": base, "price_in_per_mtok": 1.0, **extra}


CASES = [
    ("openai", "gpt-4.1", "openai", "authorization", "Bearer key-openai_api_key"),
    ("openai-compatible", "deepseek-chat", "openai", "authorization", "Bearer key-test_key"),
    ("anthropic", "claude-sonnet-4-5", "anthropic", "authorization", "Bearer key-anthropic_api_key"),
    ("gemini", "gemini-2.5-pro", "gemini", "x-goog-api-key", "key-gemini_api_key"),
]


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as running:
        yield running


@pytest.mark.parametrize(("provider", "model", "wire", "header", "value"), CASES)
def test_structured_call_over_each_wire_format(
    keys: None, server: FakeLLMServer, provider: str, model: str, wire: str, header: str, value: str
) -> None:
    extra = {"api_key_env": "TEST_KEY"} if provider == "openai-compatible" else {}
    settings = LLMSettings(models={"m": alias(provider, model, server.url, **extra)})
    recorder = MemoryRecorder()
    finding, usage = LLMClient(settings, recorder).generate(
        Finding, [system("classify"), user("a paper")], "m"
    )
    assert isinstance(finding, Finding)
    (request,) = server.requests
    assert request.wire == wire
    assert request.headers[header] == value
    # Native structured output: the schema travels in the request, not in the prompt.
    schema = request.schema()
    assert schema is not None and set(schema["properties"]) == {"label", "severity"}
    assert "a paper" in json.dumps(request.body)
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.cost_usd == pytest.approx(usage.input_tokens / 1e6)
    assert recorder.records[0].model == model


def test_prompted_mode_puts_the_schema_in_the_instructions(keys: None) -> None:
    def respond(request: FakeRequest) -> FakeReply:
        return FakeReply('Here it is: {"label": "fine", "severity": 1}')

    with FakeLLMServer(respond) as server:
        settings = LLMSettings(
            models={"m": alias("anthropic", "claude-3-haiku-old", server.url, structured="prompted")}
        )
        finding, _ = LLMClient(settings).generate(Finding, [user("x")], "m")
        assert finding == Finding(label="fine", severity=1)
        assert "severity" in json.dumps(server.requests[0].body["system"])


def test_401_names_the_alias_and_the_env_var(keys: None) -> None:
    with FakeLLMServer(lambda r: FakeReply(status=401, error="invalid x-api-key")) as server:
        settings = LLMSettings(models={"reviewer": alias("anthropic", "claude-sonnet-4-5", server.url)})
        recorder = MemoryRecorder()
        with pytest.raises(LLMAuthError) as caught:
            LLMClient(settings, recorder, sleep=Sleeps()).generate(Finding, [user("x")], "reviewer")
        message = str(caught.value)
        assert "'reviewer'" in message and "ANTHROPIC_API_KEY" in message
        assert len(server.requests) == 1  # never retried
        assert recorder.records[0].status == "error"


def test_missing_key_is_a_config_error_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    settings = LLMSettings(models={"g": alias("gemini", "gemini-2.5-pro", "http://127.0.0.1:9")})
    with pytest.raises(LLMConfigError, match="GEMINI_API_KEY"):
        LLMClient(settings).generate(Finding, [user("x")], "g")


def test_429_with_retry_after_then_success(keys: None) -> None:
    answers = [FakeReply(status=429, error="slow down", headers={"Retry-After": "2"})]

    def respond(request: FakeRequest) -> FakeReply:
        return answers.pop(0) if answers else schema_responder(request)

    with FakeLLMServer(respond) as server:
        sleeps = Sleeps()
        settings = LLMSettings(models={"m": alias("openai", "gpt-4.1", server.url)})
        finding, usage = LLMClient(settings, sleep=sleeps).generate(Finding, [user("x")], "m")
        assert isinstance(finding, Finding) and usage.calls == 2
        assert len(server.requests) == 2  # the SDK's own retries are off: we retried once
        assert 2.0 <= sleeps.delays[0] <= 3.0


def test_server_error_storm_gives_up(keys: None) -> None:
    with FakeLLMServer(lambda r: FakeReply(status=503, error="down")) as server:
        settings = LLMSettings(
            models={"m": alias("gemini", "gemini-2.5-pro", server.url)}, retry={"max_attempts": 3}
        )
        with pytest.raises(LLMUnavailableError, match="3 attempts"):
            LLMClient(settings, sleep=Sleeps()).generate(Finding, [user("x")], "m")
        assert len(server.requests) == 3


def test_timeout_is_retried_then_reported(keys: None) -> None:
    with FakeLLMServer(delay_s=1.0) as server:
        settings = LLMSettings(
            models={"m": alias("openai", "gpt-4.1", server.url, timeout_s=0.2)}, retry={"max_attempts": 2}
        )
        with pytest.raises(LLMUnavailableError):
            LLMClient(settings, sleep=Sleeps()).generate(Finding, [user("x")], "m")


def test_concurrency_limit_per_provider_is_respected(keys: None) -> None:
    import asyncio

    with FakeLLMServer(delay_s=0.15) as server:
        settings = LLMSettings(models={"m": alias("openai", "gpt-limited", server.url, max_concurrency=2)})
        client = LLMClient(settings)

        async def many() -> None:
            await asyncio.gather(*(client.agenerate(Finding, [user(f"x{i}")], "m") for i in range(6)))

        asyncio.run(many())
        assert len(server.requests) == 6
        assert server.max_in_flight == 2
