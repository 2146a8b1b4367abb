"""What the evaluation harness needs from a review engine, as small protocols.

The harness never builds prompts or talks to models itself: it hands paper text to an object
satisfying these protocols and scores what comes back. `openxiv.evaluation.adapters` binds them to
the platform's review engine (`openxiv.review`) and LLM client; tests can bind them to anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

# Which document won a judgement: "a" (the first argument of `compare`), "b", or neither.
Pick = Literal["a", "b", "tie"]


@dataclass(frozen=True)
class Cost:
    """What some model work consumed. `cached` calls were answered from the call records."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    latency_ms: float = 0.0

    def plus(self, other: Cost) -> Cost:
        return Cost(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cost_usd + other.cost_usd,
            self.calls + other.calls,
            self.latency_ms + other.latency_ms,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "calls": self.calls,
            "latency_ms": round(self.latency_ms, 1),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Cost:
        data = data or {}
        return cls(
            int(data.get("input_tokens", 0)),
            int(data.get("output_tokens", 0)),
            float(data.get("cost_usd", 0.0)),
            int(data.get("calls", 0)),
            float(data.get("latency_ms", 0.0)),
        )


@dataclass(frozen=True)
class PointwiseVerdict:
    """A single review reduced to what the metrics use, plus its text for the revision loop."""

    overall: float
    accept: bool
    review_text: str = ""
    cost: Cost = field(default_factory=Cost)


@dataclass(frozen=True)
class PairVerdict:
    """One pair judged in both orders: the pick with `a` shown first, and with `b` shown first."""

    a_first: Pick
    b_first: Pick
    cost: Cost = field(default_factory=Cost)


@dataclass(frozen=True)
class RevisedPaper:
    """A paper rewritten in answer to a review, with the authors' response letter (may be empty)."""

    text: str
    response_letter: str = ""
    cost: Cost = field(default_factory=Cost)


@dataclass(frozen=True)
class PanelVote:
    """One vote per panel seat (seat name -> accept?) and the panel's decision."""

    votes: Mapping[str, bool]
    accepted: bool
    cost: Cost = field(default_factory=Cost)


@runtime_checkable
class ReviewerUnderTest(Protocol):
    """The review engine under evaluation: the operations the harness drives. `text` is untrusted
    paper text; the engine delimits it. (Not `openxiv.review.engine.ReviewEngine`, which
    `adapters.PlatformEngine` wraps to satisfy this protocol.)"""

    name: str

    def review(self, text: str, *, mode: Literal["single", "meta"] = "single") -> PointwiseVerdict: ...

    def compare(self, a: str, b: str) -> PairVerdict: ...

    def revise(self, text: str, review_text: str, *, with_response: bool) -> RevisedPaper: ...

    def vote(self, text: str) -> PanelVote: ...


@runtime_checkable
class IntegrityBenchmark(Protocol):
    """The integrity benchmark as the harness needs it: run it, get a JSON-able report and Markdown."""

    def run(self) -> tuple[dict[str, Any], str]: ...
