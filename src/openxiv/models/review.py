from __future__ import annotations

# ORM tables of the review domain live here; they are imported by models/__init__ for Alembic.
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openxiv.models.base import Base, JSONType, utcnow

_COMPLETED_AI = text("status = 'completed' AND reviewer_kind = 'ai'")
_COMPLETED = text("status = 'completed'")


class _Accounting:
    """Columns every model-produced row carries: what produced it and what it cost."""

    model_alias: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)


class Review(_Accounting, Base):
    """A single review or a meta-review (with its sub-reviews) of one version.

    Failed attempts stay as rows with `status = 'failed'` and the reason; at most one completed AI
    review per (version, mode) exists, which is what keeps a re-run stage from duplicating it.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        Index(
            "uq_reviews_completed_ai",
            "version_id",
            "mode",
            unique=True,
            sqlite_where=_COMPLETED_AI,
            postgresql_where=_COMPLETED_AI,
        ),
        Index("ix_reviews_version_id_id", "version_id", "id"),
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
    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_version: Mapped[str] = mapped_column(String(32))
    prompt_version: Mapped[str] = mapped_column(String(32))
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # the area chair's reviewer plan
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # report or synthesis
    rating: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(16))
    revised: Mapped[bool] = mapped_column(Boolean, default=False)
    grounding: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    truncation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

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


class PairwiseVerdict(_Accounting, Base):
    """Which of two versions (or submissions) is better, judged in both orders."""

    __tablename__ = "pairwise_verdicts"
    __table_args__ = (
        Index(
            "uq_pairwise_verdicts_completed",
            "version_id",
            "other_version_id",
            unique=True,
            sqlite_where=_COMPLETED,
            postgresql_where=_COMPLETED,
        ),
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
    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_version: Mapped[str] = mapped_column(String(32))
    prompt_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VotePanel(Base):
    """The decision panel for one version: N seats, accept when at least K accept."""

    __tablename__ = "vote_panels"
    __table_args__ = (
        Index(
            "uq_vote_panels_completed",
            "version_id",
            unique=True,
            sqlite_where=_COMPLETED,
            postgresql_where=_COMPLETED,
        ),
    )

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
    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_version: Mapped[str] = mapped_column(String(32))
    prompt_version: Mapped[str] = mapped_column(String(32))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
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
