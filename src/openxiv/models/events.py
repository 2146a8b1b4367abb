from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openxiv.models.base import Base, utcnow


class Event(Base):
    """Something that happened to a submission, written in the transaction that made it happen.

    The table is an outbox: `dispatched_at` is empty until the dispatcher has handed the event to
    its subscribers (jobs such as literature indexing), so a crash between commit and dispatch
    loses nothing. The id orders events and is the `Last-Event-ID` of the event stream.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_undispatched", "dispatched_at", "id"),
        Index("ix_events_submission_id", "submission_id", "id"),
        Index("ix_events_owner_id", "owner_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(48))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    version_number: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
