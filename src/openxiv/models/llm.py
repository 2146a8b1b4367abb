from __future__ import annotations

# ORM tables of the llm domain live here; they are imported by models/__init__ for Alembic.
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openxiv.models.base import Base, JSONType, utcnow


class LLMCall(Base):
    """One call to a language model, exactly as sent and received; rows are only inserted.

    `request_hash` is the sha256 of the canonical request (provider, model, messages, schema,
    temperature, max tokens, sample): the replay adapter answers a call from the row with the same
    hash, which is what makes a review reproducible byte for byte.
    """

    __tablename__ = "llm_calls"
    __table_args__ = (
        Index("ix_llm_calls_request_hash_id", "request_hash", "id"),
        Index("ix_llm_calls_version_id_id", "version_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    purpose: Mapped[str] = mapped_column(String(64), default="")
    model_alias: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict[str, Any]] = mapped_column(JSONType)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(8))  # ok | error
    error: Mapped[str | None] = mapped_column(Text)
    valid: Mapped[bool | None] = mapped_column(Boolean)
    validation_error: Mapped[str | None] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("submission_versions.id"))
    # Set once the review row exists (calls are made before it is final); no FK so that the
    # llm domain does not depend on the review tables.
    review_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
