"""Queries of the submissions domain. No business rules here."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, or_, select
from sqlalchemy.orm import Session, aliased, defer, joinedload, selectinload

from openxiv.errors import InvalidInput
from openxiv.models import (
    Agent,
    AuthorWord,
    Blob,
    StageRun,
    Submission,
    SubmissionVersion,
    Transition,
    VersionAuthor,
)
from openxiv.models.community import Hide
from openxiv.models.publishing import REGISTERED, Doi
from openxiv.submissions.author_words import name_words, prefix_upper_bound
from openxiv.submissions.records import (
    VERSION_PARTS,
    AuthorRecord,
    BlobRecord,
    ItemRecord,
    SubmissionRecord,
    VersionRecord,
)


@dataclass(frozen=True)
class SubmissionFilter:
    kind: str | None = None
    status: str | None = None
    author: str | None = None  # every word must start a word of an author's name (case-insensitive)
    account_id: int | None = None  # a human author on the platform
    agent_id: int | None = None  # an agent author
    owner_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"s:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "s":
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not valid; pass the next_cursor of a previous page", field="cursor"
        ) from None


def by_identifier(session: Session, identifier: str, *, for_update: bool = False) -> Submission | None:
    statement = select(Submission).where(Submission.identifier == identifier)
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement)


# What a presenter shows of a version besides its own columns, loaded in the same round trip.
_VERSION_FILES = (joinedload(SubmissionVersion.source_blob), joinedload(SubmissionVersion.pdf_blob))
_VERSION_PARTS = (joinedload(SubmissionVersion.authors), *_VERSION_FILES)


def version(session: Session, submission_id: int, number: int) -> SubmissionVersion | None:
    return (
        session.scalars(
            select(SubmissionVersion)
            .where(SubmissionVersion.submission_id == submission_id, SubmissionVersion.number == number)
            .options(*_VERSION_PARTS)
        )
        .unique()
        .first()
    )


# Read by every item page: built once, bound by parameters (building a statement with its loader
# options costs more than running it).
_VERSIONS = (
    select(SubmissionVersion)
    .where(SubmissionVersion.submission_id == bindparam("submission_id"))
    .order_by(SubmissionVersion.number)
    # Authors in a second query: joined, they would repeat every version's columns.
    .options(selectinload(SubmissionVersion.authors), *_VERSION_FILES)
)


def versions(session: Session, submission_id: int) -> list[SubmissionVersion]:
    """Every version, oldest first, with its authors and files (one query for the versions, one
    for all their authors)."""
    return list(session.scalars(_VERSIONS, {"submission_id": submission_id}))


@dataclass(frozen=True)
class ItemRow:
    submission: Submission
    version: SubmissionVersion | None  # None: the submission has no such version
    hidden_by_moderators: bool


def _item_statement(*, latest: bool) -> Select[Submission, SubmissionVersion, bool]:
    hidden = exists().where(Hide.submission_id == Submission.id, Hide.comment_id.is_(None))
    number = Submission.latest_version if latest else bindparam("number")
    return (
        select(Submission, SubmissionVersion, hidden.label("hidden"))
        .outerjoin(
            SubmissionVersion,
            and_(SubmissionVersion.submission_id == Submission.id, SubmissionVersion.number == number),
        )
        .where(Submission.identifier == bindparam("identifier"))
        .options(defer(SubmissionVersion.extracted_text), *_VERSION_PARTS)
    )


# Built once: building this statement and its cache key took longer than running it.
_ITEM_LATEST = _item_statement(latest=True)
_ITEM_PINNED = _item_statement(latest=False)


def item(session: Session, identifier: str, number: int | None) -> ItemRow | None:
    """A submission with one version (`number`, or its latest), that version's authors and files,
    and whether moderators hid the item: the whole of an item read in one statement. The
    version's text stays in the database; its length comes along (`text_characters`)."""
    if number is None:
        result = session.execute(_ITEM_LATEST, {"identifier": identifier})
    else:
        result = session.execute(_ITEM_PINNED, {"identifier": identifier, "number": number})
    row = result.unique().first()
    if row is None:
        return None
    return ItemRow(submission=row[0], version=row[1], hidden_by_moderators=bool(row[2]))


def _columns(entity: Any, record: type, *, skip: tuple[str, ...] = ()) -> list[Any]:
    """The columns a record is made of, in its fields' order (a record is built from a row slice)."""
    return [getattr(entity, f.name) for f in fields(record) if f.name not in skip]


_SOURCE, _PDF = aliased(Blob), aliased(Blob)
_RECORD_PARTS = (
    _columns(Submission, SubmissionRecord),
    _columns(SubmissionVersion, VersionRecord, skip=VERSION_PARTS),
    _columns(_SOURCE, BlobRecord),
    _columns(_PDF, BlobRecord),
    _columns(VersionAuthor, AuthorRecord),
)
_VERSION_COLUMN_NAMES = [f.name for f in fields(VersionRecord) if f.name not in VERSION_PARTS]
_ENDS = [sum(len(part) for part in _RECORD_PARTS[: i + 1]) for i in range(len(_RECORD_PARTS))]


def _registered_doi(which: ColumnElement[bool]) -> Any:
    return (
        select(Doi.doi)
        .where(Doi.submission_id == Submission.id, Doi.state == REGISTERED, which)
        .scalar_subquery()
    )


def _item_record_statement(*, latest: bool) -> Select[Any]:
    hidden = exists().where(Hide.submission_id == Submission.id, Hide.comment_id.is_(None))
    number = Submission.latest_version if latest else bindparam("number")
    return (
        select(
            *(column for part in _RECORD_PARTS for column in part),
            hidden.label("hidden"),
            _registered_doi(Doi.version_number == SubmissionVersion.number).label("version_doi"),
            _registered_doi(Doi.version_number.is_(None)).label("concept_doi"),
        )
        .select_from(Submission)
        .outerjoin(
            SubmissionVersion,
            and_(SubmissionVersion.submission_id == Submission.id, SubmissionVersion.number == number),
        )
        .outerjoin(_SOURCE, _SOURCE.sha256 == SubmissionVersion.source_sha256)
        .outerjoin(_PDF, _PDF.sha256 == SubmissionVersion.pdf_sha256)
        .outerjoin(VersionAuthor, VersionAuthor.version_id == SubmissionVersion.id)
        .where(Submission.identifier == bindparam("identifier"))
        .order_by(VersionAuthor.position)
    )


_RECORD_LATEST = _item_record_statement(latest=True)
_RECORD_PINNED = _item_record_statement(latest=False)


def item_record(session: Session, identifier: str, number: int | None) -> ItemRecord | None:
    """What `item` reads, with the version's and the item's registered DOIs, as plain values
    (`records`): one row per author, on the connection (none of the ORM session's steps)."""
    connection = session.connection()
    if number is None:
        rows = connection.execute(_RECORD_LATEST, {"identifier": identifier}).all()
    else:
        rows = connection.execute(_RECORD_PINNED, {"identifier": identifier, "number": number}).all()
    if not rows:
        return None
    first = rows[0]
    submission_end, version_end, source_end, pdf_end, author_end = _ENDS
    version = None
    if first[submission_end] is not None:  # the version's id: None when no version matched
        version = VersionRecord(
            **dict(zip(_VERSION_COLUMN_NAMES, first[submission_end:version_end], strict=True)),
            authors=tuple(AuthorRecord(*row[pdf_end:author_end]) for row in rows if row[pdf_end] is not None),
            source_blob=BlobRecord(*first[version_end:source_end]) if first[version_end] else None,
            pdf_blob=BlobRecord(*first[source_end:pdf_end]) if first[source_end] else None,
        )
    return ItemRecord(
        submission=SubmissionRecord(*first[:submission_end]),
        version=version,
        hidden_by_moderators=bool(first[author_end]),
        version_doi=first[author_end + 1],
        concept_doi=first[author_end + 2],
    )


def blobs(session: Session, sha256s: set[str]) -> dict[str, Blob]:
    if not sha256s:
        return {}
    return {blob.sha256: blob for blob in session.scalars(select(Blob).where(Blob.sha256.in_(sha256s)))}


# A listed account or agent counts as an author only once it agreed (or it is the submitter's own).
_AGREED_LINK = VersionAuthor.link_status.in_(("owned", "confirmed"))


def _latest_authors_match(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(VersionAuthor.id)
        .join(SubmissionVersion, SubmissionVersion.id == VersionAuthor.version_id)
        .where(
            SubmissionVersion.submission_id == Submission.id,
            SubmissionVersion.number == Submission.latest_version,
            *conditions,
        )
    )


def list_page(
    session: Session,
    filters: SubmissionFilter,
    *,
    after_id: int | None,
    limit: int,
    hidden_statuses: frozenset[str],
    viewer_id: int | None,
) -> list[Submission]:
    """Newest first; keyset paging on the primary key so deep pages cost the same as the first."""
    statement: Select[Any] = select(Submission).order_by(Submission.id.desc()).limit(limit)
    if after_id is not None:
        statement = statement.where(Submission.id < after_id)
    if filters.kind:
        statement = statement.where(Submission.kind == filters.kind)
    if filters.status:
        statement = statement.where(Submission.status == filters.status)
    if filters.owner_id is not None:
        statement = statement.where(Submission.owner_id == filters.owner_id)
    if filters.created_from:
        statement = statement.where(Submission.created_at >= filters.created_from)
    if filters.created_to:
        statement = statement.where(Submission.created_at < filters.created_to)
    if filters.author:
        for word in name_words([filters.author]):
            starts_with_word = select(AuthorWord.submission_id).where(
                AuthorWord.word >= word, AuthorWord.word < prefix_upper_bound(word)
            )
            statement = statement.where(Submission.id.in_(starts_with_word))
    if filters.account_id is not None:
        statement = statement.where(
            _latest_authors_match(VersionAuthor.account_id == filters.account_id, _AGREED_LINK)
        )
    if filters.agent_id is not None:
        statement = statement.where(
            _latest_authors_match(VersionAuthor.agent_id == filters.agent_id, _AGREED_LINK)
        )
    if hidden_statuses:
        visible: ColumnElement[bool] = and_(
            Submission.status.not_in(hidden_statuses), Submission.id.not_in(_HIDDEN_BY_MODERATORS)
        )
        if viewer_id is not None:
            visible = or_(visible, Submission.owner_id == viewer_id)
        statement = statement.where(visible)
    return list(session.scalars(statement))


# Items moderators hid (a `Hide` of the item itself, not of one of its comments); the community
# domain writes these rows, the submissions domain only reads them.
_HIDDEN_BY_MODERATORS = select(Hide.submission_id).where(Hide.comment_id.is_(None)).scalar_subquery()


def hidden_by_moderators(session: Session, submission_id: int) -> bool:
    found = session.scalar(
        select(Hide.id).where(Hide.submission_id == submission_id, Hide.comment_id.is_(None)).limit(1)
    )
    return found is not None


def version_times_since(session: Session, owner_id: int, since: datetime, limit: int) -> list[datetime]:
    """When the owner's newest versions (at most `limit`) created after `since` were made, oldest first."""
    newest = (
        select(SubmissionVersion.created_at)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(Submission.owner_id == owner_id, SubmissionVersion.created_at >= since)
        .order_by(SubmissionVersion.created_at.desc())
        .limit(limit)
    )
    return sorted(session.scalars(newest))


_TRANSITIONS = (
    select(Transition).where(Transition.submission_id == bindparam("submission_id")).order_by(Transition.id)
)
_STAGE_RUNS = (
    select(StageRun)
    .where(StageRun.submission_id == bindparam("submission_id"))
    .order_by(StageRun.version_number, StageRun.id)
)


def transitions(session: Session, submission_id: int) -> list[Transition]:
    return list(session.scalars(_TRANSITIONS, {"submission_id": submission_id}))


def stage_runs(session: Session, submission_id: int) -> list[StageRun]:
    return list(session.scalars(_STAGE_RUNS, {"submission_id": submission_id}))


def stage_run(session: Session, submission_id: int, version_number: int, stage: str) -> StageRun | None:
    return session.scalar(
        select(StageRun).where(
            StageRun.submission_id == submission_id,
            StageRun.version_number == version_number,
            StageRun.stage == stage,
        )
    )


def stage_runs_named(session: Session, submission_id: int, stage: str) -> dict[int, StageRun]:
    """One stage's run of every version, by version number."""
    return {
        run.version_number: run
        for run in session.scalars(
            select(StageRun).where(StageRun.submission_id == submission_id, StageRun.stage == stage)
        )
    }


def author_links(session: Session, submission_id: int) -> list[VersionAuthor]:
    """Every linked author entry of every version of a submission."""
    return list(
        session.scalars(
            select(VersionAuthor)
            .join(SubmissionVersion, SubmissionVersion.id == VersionAuthor.version_id)
            .where(
                SubmissionVersion.submission_id == submission_id,
                VersionAuthor.link_status.is_not(None),
            )
        )
    )


def with_pending_links(session: Session, account_id: int | None, agent_ids: set[int]) -> list[Submission]:
    """Submissions, newest first, where the account (as a human author) or one of the agents is
    linked and has not answered yet."""
    mine: list[ColumnElement[bool]] = []
    if account_id is not None:
        mine.append((VersionAuthor.kind == "human") & (VersionAuthor.account_id == account_id))
    if agent_ids:
        mine.append(VersionAuthor.agent_id.in_(agent_ids))
    if not mine:
        return []
    pending = (
        select(SubmissionVersion.submission_id)
        .join(VersionAuthor, VersionAuthor.version_id == SubmissionVersion.id)
        .where(VersionAuthor.link_status == "pending", or_(*mine))
    )
    return list(
        session.scalars(select(Submission).where(Submission.id.in_(pending)).order_by(Submission.id.desc()))
    )


def agent_ids_of(session: Session, owner_id: int) -> set[int]:
    return set(session.scalars(select(Agent.id).where(Agent.owner_id == owner_id)))


def replace_author_words(session: Session, submission_id: int, names: list[str]) -> None:
    session.execute(delete(AuthorWord).where(AuthorWord.submission_id == submission_id))
    session.add_all(AuthorWord(submission_id=submission_id, word=w) for w in sorted(name_words(names)))
