"""Results of the review engine: plain pydantic models, independent of the database."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from openxiv.llm.port import Usage


class Truncation(BaseModel):
    """How much of an input a call saw; recorded with every review."""

    original_tokens: int
    kept_tokens: int
    truncated: bool
    budget_tokens: int


class GroundingSummary(BaseModel):
    used: bool
    note: str = ""  # why grounding was skipped or degraded
    sources: list[str] = Field(default_factory=list)
    related: list[dict[str, Any]] = Field(default_factory=list)
    missing_citations: list[str] = Field(default_factory=list)
    closest_prior_work: list[str] = Field(default_factory=list)
    # The literature exactly as the prompts quoted it (kept so that a review can be replayed).
    text: str | None = None


class Provenance(BaseModel):
    rubric_id: str
    rubric_version: str
    prompt_version: str


class SingleReviewResult(BaseModel):
    mode: Literal["single"] = "single"
    provenance: Provenance
    model_alias: str
    model: str
    report: dict[str, Any]
    usage: Usage
    truncation: Truncation
    grounding: GroundingSummary
    revised: bool = False


class SubReviewResult(BaseModel):
    position: int
    spec: dict[str, Any]
    model_alias: str
    model: str
    status: Literal["completed", "failed"]
    error: str | None = None
    report: dict[str, Any] | None = None
    usage: Usage
    truncation: Truncation | None = None


class MetaReviewResult(BaseModel):
    mode: Literal["meta"] = "meta"
    provenance: Provenance
    model_alias: str  # the area chair's
    model: str
    plan: dict[str, Any]
    sub_reviews: list[SubReviewResult]
    synthesis: dict[str, Any]
    usage: Usage  # totals; latency_ms is the wall time of the whole meta review
    truncation: Truncation
    grounding: GroundingSummary
    revised: bool = False


class OrderVerdict(BaseModel):
    order: Literal["ab", "ba"]
    better: Literal["first", "second"]
    winner: Literal["a", "b"]
    reasons: list[str]


class PairwiseResult(BaseModel):
    mode: Literal["pairwise"] = "pairwise"
    provenance: Provenance
    model_alias: str
    model: str
    label_a: str
    label_b: str
    winner: Literal["a", "b", "tie"]
    consistent: bool
    verdicts: list[OrderVerdict]
    usage: Usage
    truncation: list[Truncation]


class VoteResult(BaseModel):
    position: int
    model_alias: str
    model: str
    status: Literal["completed", "failed"]
    error: str | None = None
    decision: Literal["accept", "reject"] | None = None
    confidence: float | None = None
    reasons: list[str] = Field(default_factory=list)
    scores: dict[str, int] = Field(default_factory=dict)
    score: float | None = None  # weighted criterion score scaled to 0..1
    usage: Usage


class PanelResult(BaseModel):
    mode: Literal["vote"] = "vote"
    provenance: Provenance
    votes: list[VoteResult]
    n: int
    k: int
    accept_count: int
    vote_decision: Literal["accept", "reject"]
    score_mean: float
    score_threshold: float
    score_decision: Literal["accept", "reject"]
    # Seats that share a model: their votes are not independent evidence.
    independent: bool
    repeated_models: dict[str, int]
    distinct_models: int
    usage: Usage
    truncation: Truncation
    grounding: GroundingSummary
    revised: bool = False
