"""Read models of the review domain, returned as they are by the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Cost(_Out):
    model_alias: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float


class SubReviewOut(Cost):
    id: int
    position: int
    spec: dict[str, Any]
    status: str
    failure_reason: str | None
    content: dict[str, Any] | None
    truncation: dict[str, Any]


class ReviewOut(Cost):
    id: int
    submission_id: int
    version_id: int
    mode: str
    status: str
    failure_reason: str | None
    reviewer_kind: str
    rubric_id: str
    rubric_version: str
    prompt_version: str
    plan: dict[str, Any] | None
    content: dict[str, Any] | None
    rating: int | None
    decision: str | None
    revised: bool
    grounding: dict[str, Any]
    truncation: dict[str, Any]
    created_at: datetime
    sub_reviews: list[SubReviewOut]
    ai_generated: bool = True


class PairwiseOut(Cost):
    id: int
    submission_id: int
    version_id: int
    other_version_id: int
    status: str
    failure_reason: str | None
    label_a: str
    label_b: str
    winner: str | None
    consistent: bool | None
    verdicts: list[Any]
    rubric_id: str
    rubric_version: str
    prompt_version: str
    created_at: datetime


class VoteOut(Cost):
    id: int
    position: int
    status: str
    failure_reason: str | None
    decision: str | None
    confidence: float | None
    reasons: list[Any]
    scores: dict[str, Any]
    score: float | None


class VotePanelOut(_Out):
    id: int
    submission_id: int
    version_id: int
    status: str
    failure_reason: str | None
    n: int
    k: int
    accept_count: int
    vote_decision: str | None
    score_mean: float | None
    score_threshold: float | None
    score_decision: str | None
    decision_source: str
    decision: str | None
    independent: bool
    repeated_models: dict[str, Any]
    distinct_models: int
    revised: bool
    rubric_id: str
    rubric_version: str
    prompt_version: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    created_at: datetime
    votes: list[VoteOut]


class LLMCallOut(_Out):
    id: int
    request_hash: str
    run_id: str | None
    purpose: str
    model_alias: str
    provider: str
    model: str
    status: str
    error: str | None
    valid: bool | None
    validation_error: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    attempt: int
    review_id: int | None
    created_at: datetime
    request: dict[str, Any] | None = None  # included only when asked for (can be large)
    response: dict[str, Any] | None = None


class TrajectoryPoint(BaseModel):
    """One version's scores, for the quality trajectory across revisions."""

    version_id: int
    version_number: int
    rating: int | None
    review_decision: str | None
    score_mean: float | None
    panel_decision: str | None
    accept_count: int | None
    beats_previous: str | None  # pairwise winner against the previous version: a | b | tie


class VersionReviewsOut(BaseModel):
    version_id: int
    reviews: list[ReviewOut]
    pairwise: list[PairwiseOut]
    panels: list[VotePanelOut]
