"""Adapters and settings shared by the review tests (no model needed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from openxiv.llm.client import LLMClient
from openxiv.llm.port import Completion, ModelCall, estimate_tokens
from openxiv.llm.recording import CallRecorder, MemoryRecorder
from openxiv.llm.replay import fill_schema
from openxiv.llm.settings import LLMSettings
from openxiv.review.settings import ReviewSettings


def llm_settings(*aliases: str, **alias_options: Any) -> LLMSettings:
    return LLMSettings(
        models={
            a: {"provider": "test", "model": f"model-{a}", "context_tokens": 32000, **alias_options}
            for a in aliases
        }
    )


def review_settings(alias: str = "t", **options: Any) -> ReviewSettings:
    base: dict[str, Any] = {
        "single_model": alias,
        "area_chair_model": alias,
        "reviewer_models": [alias],
        "pairwise_model": alias,
        "panel": [alias] * 5,
    }
    return ReviewSettings(**{**base, **options})


def user_text(call: ModelCall) -> str:
    return "\n".join(m.content for m in call.messages if m.role == "user")


class Programmable:
    """An async adapter: answers through `respond(call) -> dict | str`, counting concurrent calls."""

    def __init__(self, respond: Callable[[ModelCall], Any] | None = None, *, delay_s: float = 0.0) -> None:
        self.respond = respond or (lambda call: fill_schema(call.json_schema, seed=call.request_hash()))
        self.delay_s = delay_s
        self.calls: list[ModelCall] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, call: ModelCall) -> Completion:
        self.calls.append(call)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            answer = self.respond(call)
        finally:
            self.in_flight -= 1
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return Completion(text, estimate_tokens(user_text(call)), estimate_tokens(text), f"prog-{call.alias}")

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)


def client(adapters: dict[str, Any], recorder: CallRecorder | None = None, **alias_options: Any) -> LLMClient:
    return LLMClient(
        llm_settings(*adapters, **alias_options), recorder or MemoryRecorder(), adapters=adapters
    )
