from __future__ import annotations

# ORM tables of the review domain live here; they are imported by models/__init__ for Alembic.
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openxiv.models.base import Base, JSONType, unique_where, utcnow

# An external agent's review is model-written too (reviewer_kind 'ai'); the platform's own
# one-review-per-mode rule covers only the reviews it produced itself.
_COMPLETED_AI = text("status = 'completed' AND reviewer_kind = 'ai' AND reviewer_origin = 'internal'")
_COMPLETED = text("status = 'completed'")
_EXTERNAL_AGENT_REVIEW = text("status = 'completed' AND reviewer_origin = 'external_agent'")
_EXTERNAL_HUMAN_REVIEW = text("status = 'completed' AND reviewer_origin = 'external_human'")
_EXTERNAL_AGENT = text("reviewer_origin = 'external_agent'")
_EXTERNAL_HUMAN = text("reviewer_origin = 'external_human'")

# Who wrote a review or cast a vote: the platform's own panel, or a reviewer from outside it.
REVIEWER_ORIGINS = ("internal", "external_agent", "external_human")


class _Costs:
    """What producing a row cost (a panel's are the sum of its votes')."""

    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)


class _Accounting(_Costs):
    """Columns every model-produced row carries: what produced it and what it cost."""

    model_alias: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(200), default="")


class _Provenance:
    """Which rubric and prompts a review, verdict or panel was produced under."""

    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_version: Mapped[str] = mapped_column(String(32))
    prompt_version: Mapped[str] = mapped_column(String(32))


class Review(_Accounting, _Provenance, Base):
    """A single review or a meta-review (with its sub-reviews) of one version.

    Failed attempts stay as rows with `status = 'failed'` and the reason; at most one completed AI
    review per (version, mode) exists, which is what keeps a re-run stage from duplicating it.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        unique_where("uq_reviews_completed_ai", "version_id", "mode", where=_COMPLETED_AI),
        Index("ix_reviews_version_id_id", "version_id", "id"),
        # One review per outside reviewer per version: an agent is the reviewer when it holds the
        # key, otherwise the person's account is.
        unique_where("uq_reviews_external_agent", "version_id", "agent_id", where=_EXTERNAL_AGENT_REVIEW),
        unique_where("uq_reviews_external_human", "version_id", "account_id", where=_EXTERNAL_HUMAN_REVIEW),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    mode: Mapped[str] = mapped_column(String(16))  # single | meta
    status: Mapped[str] = mapped_column(String(16))  # completed | failed
    failure_reason: Mapped[str | None] = mapped_column(Text)
    reviewer_kind: Mapped[str] = mapped_column(String(8), default="ai")  # ai | human
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # the area chair's reviewer plan
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # report or synthesis
    rating: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(16))
    revised: Mapped[bool] = mapped_column(Boolean, default=False)
    grounding: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    truncation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewer_origin: Mapped[str] = mapped_column(String(16), default="internal", server_default="internal")
    # The account answerable for an outside review: the person, or the owner of the agent.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    model_provider: Mapped[str | None] = mapped_column(String(100))
    model_family: Mapped[str | None] = mapped_column(String(100))
    conflict_of_interest: Mapped[str | None] = mapped_column(Text)

    sub_reviews: Mapped[list[SubReview]] = relationship(order_by="SubReview.position")


class SubReview(_Accounting, Base):
    __tablename__ = "sub_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)  # name, expertise, focus
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    truncation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class PairwiseVerdict(_Accounting, _Provenance, Base):
    """Which of two versions (or submissions) is better, judged in both orders."""

    __tablename__ = "pairwise_verdicts"
    __table_args__ = (
        unique_where("uq_pairwise_verdicts_completed", "version_id", "other_version_id", where=_COMPLETED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"), index=True)  # "b"
    other_version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))  # "a"
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    label_a: Mapped[str] = mapped_column(String(32), default="")
    label_b: Mapped[str] = mapped_column(String(32), default="")
    winner: Mapped[str | None] = mapped_column(String(8))  # a | b | tie
    consistent: Mapped[bool | None] = mapped_column(Boolean)
    verdicts: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VotePanel(_Costs, _Provenance, Base):
    """The decision panel for one version: N seats, accept when at least K accept."""

    __tablename__ = "vote_panels"
    __table_args__ = (unique_where("uq_vote_panels_completed", "version_id", where=_COMPLETED),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    n: Mapped[int] = mapped_column(Integer)
    k: Mapped[int] = mapped_column(Integer)
    accept_count: Mapped[int] = mapped_column(Integer, default=0)
    vote_decision: Mapped[str | None] = mapped_column(String(8))  # from the models' own words
    score_mean: Mapped[float | None] = mapped_column(Float)
    score_threshold: Mapped[float | None] = mapped_column(Float)
    score_decision: Mapped[str | None] = mapped_column(String(8))  # from the scores
    decision_source: Mapped[str] = mapped_column(String(8), default="votes")
    decision: Mapped[str | None] = mapped_column(String(8))  # the one that moved the status
    independent: Mapped[bool] = mapped_column(Boolean, default=True)
    repeated_models: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    distinct_models: Mapped[int] = mapped_column(Integer, default=0)
    revised: Mapped[bool] = mapped_column(Boolean, default=False)
    grounding: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    truncation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    votes: Mapped[list[Vote]] = relationship(order_by="Vote.position")


class Vote(_Accounting, Base):
    """One seat's vote on the panel."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("vote_panels.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(8))
    confidence: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    score: Mapped[float | None] = mapped_column(Float)


class ExternalVote(Base):
    """An outside reviewer's accept/reject vote on one version, with its confidence and reasons.

    The platform's own votes belong to a panel (`votes`); these have no panel and are counted by the
    upgrade policy instead. One vote per reviewer (agent, or person without an agent) per version.
    """

    __tablename__ = "external_votes"
    __table_args__ = (
        Index("ix_external_votes_version_id_id", "version_id", "id"),
        unique_where("uq_external_votes_agent", "version_id", "agent_id", where=_EXTERNAL_AGENT),
        unique_where("uq_external_votes_human", "version_id", "account_id", where=_EXTERNAL_HUMAN),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    reviewer_origin: Mapped[str] = mapped_column(String(16))  # external_agent | external_human
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    model_provider: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    model_family: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(8))  # accept | reject
    confidence: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    conflict_of_interest: Mapped[str] = mapped_column(Text)
    # The submission's status when the vote arrived: only votes cast on a provisionally accepted
    # version count toward the upgrade.
    status_at_vote: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
