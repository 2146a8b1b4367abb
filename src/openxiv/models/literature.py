"""Tables of the literature domain: the local bibliography and the state of resumable imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openxiv.models.base import Base, JSONType, utcnow


class LiteratureRecord(Base):
    """One paper known to the platform: imported, fetched from a service, or published here.

    Every external id is unique when present, so the same paper can never be stored twice under
    one id; `title_key` (the title folded to lower-case letters and digits) catches the copies
    that carry no shared id.
    """

    __tablename__ = "literature_records"
    # Covers the index refresh's "changed since" look-up without touching the table.
    __table_args__ = (Index("ix_literature_records_changes", "updated_at", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(200), index=True)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    venue: Mapped[str | None] = mapped_column(String(300))
    doi: Mapped[str | None] = mapped_column(String(200), unique=True)
    arxiv_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    s2_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    openalex_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    openxiv_id: Mapped[str | None] = mapped_column(String(16), unique=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(
        String(32)
    )  # jsonl | arxiv | oai | s2 | bibtex | openalex | openxiv | starter
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    fetched_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LiteratureImport(Base):
    """Progress of one import of one source, so an interrupted import resumes where it stopped.

    `source_key` identifies the content (sha256 of the bytes), not the file name: the same
    file imported again continues, a changed file starts afresh.
    """

    __tablename__ = "literature_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    source_name: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))  # running | completed
    position: Mapped[int] = mapped_column(Integer, default=0)  # items of the source handled so far
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # The first few hundred rejections and duplicates, with reasons, for the report.
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
