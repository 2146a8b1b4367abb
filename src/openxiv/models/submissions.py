from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from openxiv.models.base import Base, JSONType, utcnow


class IdentifierSequence(Base):
    """Last number handed out per month, for `YYMM.NNNNN` identifiers."""

    __tablename__ = "identifier_sequences"

    month: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_status_id", "status", "id"),
        Index("ix_submissions_kind_id", "kind", "id"),
        Index("ix_submissions_created_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # proposal | paper
    status: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)  # of the latest version, for listing
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[SubmissionVersion]] = relationship(
        back_populates="submission", order_by="SubmissionVersion.number"
    )


class SubmissionVersion(Base):
    """One immutable version `vN` of a submission; rows are only ever inserted."""

    __tablename__ = "submission_versions"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    # Everything descriptive that is not queried on: keywords, categories, licence,
    # ai_involvement, ip_attribution, links, corresponding author.
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Proposal body: the structured fields; empty for papers.
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    source_format: Mapped[str | None] = mapped_column(String(16))  # markdown | latex
    source_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    extracted_text: Mapped[str] = mapped_column(Text, default="")
    response_letter: Mapped[str | None] = mapped_column(Text)
    created_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="versions")
    authors: Mapped[list[VersionAuthor]] = relationship(order_by="VersionAuthor.position")
    source_blob: Mapped[Blob | None] = relationship(foreign_keys=[source_sha256], viewonly=True)
    pdf_blob: Mapped[Blob | None] = relationship(foreign_keys=[pdf_sha256], viewonly=True)
    # Counted by the database, so a reader that shows the length never receives the text.
    text_characters: Mapped[int] = column_property(func.coalesce(func.length(extracted_text), 0))


class VersionAuthor(Base):
    """Ordered author list of a version; humans and agents mixed."""

    __tablename__ = "version_authors"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # human | agent
    name: Mapped[str] = mapped_column(String(300))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    orcid: Mapped[str | None] = mapped_column(String(19))
    affiliation: Mapped[str | None] = mapped_column(String(300))
    # Whether the linked account or agent agreed to be listed: None (a name only, no link),
    # "owned" (the submitter's own account or agent), "pending", "confirmed" or "declined".
    # Only owned and confirmed links count as the account's or agent's work.
    link_status: Mapped[str | None] = mapped_column(String(16))


class AuthorWord(Base):
    """The words of the author names of a submission's latest version, case-folded: the index
    behind the `author` filter (prefix match per word, an index range scan on both databases)."""

    __tablename__ = "author_words"
    __table_args__ = (Index("ix_author_words_word_submission", "word", "submission_id"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    word: Mapped[str] = mapped_column(String(100), primary_key=True)


class Transition(Base):
    """Append-only log of lifecycle changes."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    actor_system: Mapped[str | None] = mapped_column(String(64))  # e.g. "pipeline:screening"
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StageRun(Base):
    """One pipeline stage for one version; the unique key makes every stage run at most once."""

    __tablename__ = "stage_runs"
    __table_args__ = (UniqueConstraint("submission_id", "version_number", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # running | completed | not_configured | failed
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Blob(Base):
    """A verified, content-addressed file in the storage backend."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(300), default="")
    # Text extracted once at upload, copied into each version that uses the file.
    # Deferred: most readers of a blob want its size and type, never its (large) text.
    text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    pages: Mapped[int | None] = mapped_column(Integer)
    uploaded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    """The first response to a write made with an `Idempotency-Key`, replayed on retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # for the expiry purge
