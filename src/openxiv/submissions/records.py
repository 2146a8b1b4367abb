"""One item as plain values: what its JSON shows, read in one statement without the ORM
(`repository.item_record`).

The item's JSON is the most requested response there is, and turning the joined row into mapped
objects cost more than running the statement (an item read: 0.84 ms through the ORM, 0.37 ms as
plain rows, SQLite). The presenters and the citation record take either these records or the
mapped rows (`SubmissionView`, `VersionView`); the field names are the columns' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openxiv.models import Blob, Submission, SubmissionVersion, VersionAuthor


@dataclass(frozen=True, slots=True)
class BlobRecord:
    sha256: str
    size: int
    media_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    position: int
    kind: str
    name: str
    account_id: int | None
    agent_id: int | None
    orcid: str | None
    affiliation: str | None
    link_status: str | None


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    id: int
    identifier: str
    kind: str
    status: str
    title: str
    owner_id: int
    latest_version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class VersionRecord:
    id: int
    number: int
    title: str
    abstract: str
    meta: dict[str, Any]
    proposal: dict[str, Any] | None
    source_format: str | None
    source_sha256: str | None
    pdf_sha256: str | None
    response_letter: str | None
    created_by_account_id: int
    created_by_agent_id: int | None
    created_at: datetime
    text_characters: int
    # Not columns of the version: read by the same statement's joins.
    authors: tuple[AuthorRecord, ...] = ()
    source_blob: BlobRecord | None = None
    pdf_blob: BlobRecord | None = None


VERSION_PARTS = ("authors", "source_blob", "pdf_blob")


@dataclass(frozen=True, slots=True)
class ItemRecord:
    submission: SubmissionRecord
    version: VersionRecord | None  # None: the submission has no such version
    hidden_by_moderators: bool
    # Registered DOIs only (a pending one is not yet a link anyone can follow).
    version_doi: str | None
    concept_doi: str | None


SubmissionView = Submission | SubmissionRecord
VersionView = SubmissionVersion | VersionRecord
AuthorView = VersionAuthor | AuthorRecord
BlobView = Blob | BlobRecord
