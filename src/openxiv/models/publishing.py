from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openxiv.models.base import Base, utcnow

# The state of a DOI the registrar has taken: only such a DOI is a link anyone can follow.
REGISTERED = "registered"


class Doi(Base):
    """A DOI of a published item: one per published version, and one (`version_number` empty)
    for the item as a whole, the concept DOI that always resolves to its latest version.

    The row exists from the moment the item is published, so the page can show the DOI as
    pending while the registrar is unreachable; `state` becomes `registered` once the registrar
    took it, or `failed` when the retries are spent. `stale` asks for the registrar's copy of the
    metadata to be updated (a newer version now points back at this one)."""

    __tablename__ = "dois"
    __table_args__ = (
        UniqueConstraint("submission_id", "version_number"),
        Index("ix_dois_state_next_attempt", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_number: Mapped[int | None] = mapped_column(Integer)
    doi: Mapped[str] = mapped_column(String(255), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | registered | failed
    registrar: Mapped[str] = mapped_column(String(16))  # local | datacite
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_at: Mapped[datetime | None]
