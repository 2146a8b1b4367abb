"""Adapters that need no model: replay of recorded calls, and a deterministic test model."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from typing import Any

from openxiv.llm.port import Completion, ModelCall, ReplayMissError, estimate_tokens
from openxiv.llm.recording import CallLookup


class ReplayAdapter:
    """Answers each call with the recorded response of the call that had the same request hash."""

    def __init__(self, lookup: CallLookup, *, run_id: str | None = None) -> None:
        self.lookup = lookup
        self.run_id = run_id

    async def complete(self, call: ModelCall) -> Completion:
        digest = call.request_hash()
        record = self.lookup.find(digest, self.run_id)
        if record is None or record.response is None:
            raise ReplayMissError(digest)
        response = record.response
        return Completion(
            text=str(response.get("text", "")),
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            model=str(response.get("model") or record.model),
            finish_reason=response.get("finish_reason"),
            recorded_latency_ms=record.latency_ms,
        )

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)


class FunctionAdapter:
    """Answers with whatever `respond(call)` returns; for tests and the evaluation harness."""

    def __init__(self, respond: Callable[[ModelCall], str], *, model: str = "function") -> None:
        self.respond = respond
        self.model = model
        self.calls: list[ModelCall] = []

    async def complete(self, call: ModelCall) -> Completion:
        self.calls.append(call)
        text = self.respond(call)
        prompt = "".join(m.content for m in call.messages)
        return Completion(text, estimate_tokens(prompt), estimate_tokens(text), self.model, "stop")

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)


class SchemaFillAdapter:
    """The `test` provider: a valid instance of the requested schema, derived from the request hash.

    Deterministic and instant; lets the whole pipeline run in tests without any model. Decisions and
    scores vary with the request so that panels and pairwise judgements are not all identical.
    """

    def __init__(self, model: str = "schema-fill") -> None:
        self.model = model

    async def complete(self, call: ModelCall) -> Completion:
        text = json.dumps(fill_schema(call.json_schema, seed=call.request_hash()))
        prompt = "".join(m.content for m in call.messages)
        return Completion(text, estimate_tokens(prompt), estimate_tokens(text), self.model, "stop")

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)


def fill_schema(schema: dict[str, Any], *, seed: str = "") -> Any:
    """A value that validates against a (pydantic-generated) JSON schema."""
    rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))
    defs = schema.get("$defs", {})
    return _fill(schema, defs, rng, "value")


def _fill(node: dict[str, Any], defs: dict[str, Any], rng: random.Random, name: str) -> Any:
    if "$ref" in node:
        return _fill(defs[node["$ref"].rsplit("/", 1)[-1]], defs, rng, name)
    for key in ("anyOf", "oneOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"] or node[key]
            return _fill(options[0], defs, rng, name)
    if "allOf" in node:
        return _fill(node["allOf"][0], defs, rng, name)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return rng.choice(node["enum"])
    kind = node.get("type", "object")
    if kind == "object":
        props: dict[str, Any] = node.get("properties", {})
        return {key: _fill(sub, defs, rng, key) for key, sub in props.items()}
    if kind == "array":
        low = int(node.get("minItems", 1))
        high = int(node.get("maxItems", max(low, 2)))
        count = max(low, min(high, 2))
        return [_fill(node.get("items", {}), defs, rng, name) for _ in range(count)]
    if kind == "integer":
        low = int(node.get("minimum", 0))
        high = int(node.get("maximum", low + 10))
        return rng.randint(low, high)
    if kind == "number":
        bottom = float(node.get("minimum", 0.0))
        top = float(node.get("maximum", bottom + 1.0))
        return round(rng.uniform(bottom, top), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    text = f"{name.replace('_', ' ')} {rng.randint(1, 999)}"
    low, high = int(node.get("minLength", 0)), int(node.get("maxLength", 10_000))
    text = text.ljust(low, ".")
    return text[:high]
