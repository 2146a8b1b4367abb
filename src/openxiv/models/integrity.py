from __future__ import annotations

# ORM tables of the integrity domain live here; they are imported by models/__init__ for Alembic.
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from openxiv.models.base import Base, JSONType, utcnow


class IntegrityReportRecord(Base):
    """The prompt-injection scan of one submission version (at most one per version)."""

    __tablename__ = "integrity_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"), unique=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    scanner_version: Mapped[str] = mapped_column(String(64))
    flagged: Mapped[bool] = mapped_column(Boolean)
    risk_score: Mapped[float] = mapped_column(Float)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # IntegrityReport.model_dump(mode="json"), visible text included.
    report: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
