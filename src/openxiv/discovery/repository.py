"""Queries over the public read model. No rules here: callers pass the statuses they may show."""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Collection, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, bindparam, cast, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased, load_only

from openxiv.models.community import Hide
from openxiv.models.discovery import DiscoveryCategory, DiscoveryEntry

E = DiscoveryEntry


@dataclass(frozen=True)
class EntryFilter:
    statuses: Collection[str]
    kind: str | None = None
    category: str | None = None
    submitter_id: int | None = None
    listed_from: datetime | None = None  # inclusive
    listed_to: datetime | None = None  # exclusive
    published_from: datetime | None = None
    published_to: datetime | None = None


def not_hidden() -> ColumnElement[bool]:
    """Not hidden by moderators (the community domain's `hides`; restoring deletes the row)."""
    return ~exists().where(Hide.submission_id == E.submission_id, Hide.comment_id.is_(None))


def hidden_ids(session: Session, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    rows = session.scalars(
        select(Hide.submission_id).where(Hide.submission_id.in_(list(ids)), Hide.comment_id.is_(None))
    )
    return set(rows)


def in_category(category: str) -> ColumnElement[bool]:
    """A probe of the category's primary key per candidate row. `IN (the category's ids)` made
    SQLite read every id of the category (15,000 at 100,000 items) into a list per query and then
    sort all of the category's rows, where the probe lets it walk the newest-first index and stop
    after a page (`accepted.rss?category=`: 52 -> 1.7 ms); PostgreSQL plans both as a semi-join."""
    return exists().where(
        DiscoveryCategory.submission_id == E.submission_id, DiscoveryCategory.category == category
    )


def where(filters: EntryFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [E.status.in_(list(filters.statuses)), not_hidden()]
    if filters.kind:
        conditions.append(E.kind == filters.kind)
    if filters.category:
        conditions.append(in_category(filters.category))
    if filters.submitter_id is not None:
        conditions.append(E.submitter_id == filters.submitter_id)
    if filters.listed_from:
        conditions.append(E.listed_at >= filters.listed_from)
    if filters.listed_to:
        conditions.append(E.listed_at < filters.listed_to)
    if filters.published_from:
        conditions.append(E.published_at >= filters.published_from)
    if filters.published_to:
        conditions.append(E.published_at < filters.published_to)
    return conditions


def newest(
    session: Session, filters: EntryFilter, *, by: str, limit: int, offset: int = 0
) -> list[DiscoveryEntry]:
    """Newest first by `listed_at` or `published_at` (ties broken by id, newest first)."""
    column = E.published_at if by == "published_at" else E.listed_at
    statement = (
        select(E)
        .where(*where(filters), column.is_not(None))
        .order_by(column.desc(), E.submission_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement))


def newest_change(session: Session, filters: EntryFilter) -> datetime | None:
    """The latest datestamp among matching rows: a feed's Last-Modified."""
    # ORDER BY ... LIMIT 1 rather than max(): the planner walks the datestamp index from the top
    # and stops at the first matching row instead of reading every match.
    value = session.scalar(
        select(E.datestamp)
        .where(*where(filters))
        .order_by(E.datestamp.desc(), E.submission_id.desc())
        .limit(1)
    )
    return as_utc(value)


def top_scored(
    session: Session, filters: EntryFilter, score: ColumnElement[float], *, limit: int, offset: int
) -> list[tuple[int, float]]:
    """(id, score) of one page of the matches, highest score first (ties: newer publication
    first), `score` being an expression over the entry's columns."""
    if session.get_bind().dialect.name == "sqlite":
        _ensure_sqlite_power(session)
    rows = session.execute(
        select(E.submission_id, score.label("score"))
        .where(*where(filters), E.published_at.is_not(None))
        .order_by(score.desc(), E.published_at.desc(), E.submission_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(int(row[0]), float(row[1])) for row in rows]


def epoch_seconds(column: ColumnElement[datetime] | Any, dialect: str) -> ColumnElement[float]:
    """Seconds since 1970 of a UTC timestamp column (SQLite keeps them as text)."""
    if dialect == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    # extract() answers numeric on PostgreSQL 14+, which would carry numeric arithmetic into the
    # score; double precision is what Python computes with.
    return cast(func.extract("epoch", column), Float)


def _sqlite_has_math() -> bool:
    with closing(sqlite3.connect(":memory:")) as probe:
        try:
            probe.execute("SELECT power(2, 0.5)")
        except sqlite3.OperationalError:
            return False
    return True


_SQLITE_MATH = _sqlite_has_math()


def _ensure_sqlite_power(session: Session) -> None:
    # SQLite has power() only when built with its math functions (most builds since 3.35 are);
    # elsewhere the connection gets Python's.
    if not _SQLITE_MATH:
        raw: Any = session.connection().connection.driver_connection
        raw.create_function("power", 2, math.pow, deterministic=True)


def by_ids(session: Session, ids: Sequence[int]) -> dict[int, DiscoveryEntry]:
    if not ids:
        return {}
    return {e.submission_id: e for e in session.scalars(select(E).where(E.submission_id.in_(list(ids))))}


def by_identifier(session: Session, identifier: str) -> DiscoveryEntry | None:
    return session.scalar(select(E).where(E.identifier == identifier))


def categories(session: Session, statuses: Collection[str]) -> list[str]:
    """Categories with at least one entry in `statuses` (the homepage's filter, OAI ListSets)."""
    return list(session.scalars(_categories_statement(), {"statuses": sorted(statuses)}))


@functools.cache
def _categories_statement() -> Select[str]:
    """The distinct categories walked through the category index one step at a time (each the
    least name after the previous: a dozen index probes, where DISTINCT read all 150,000 rows on
    PostgreSQL, which has no skip scan), each kept when a probe finds one entry in `:statuses`
    (a LIMIT 1 lookup: a semi-join hashed every entry of each category). 157 -> 0.3 ms on
    PostgreSQL, 1.8 -> 0.2 ms on SQLite at 100,000 items; built once, bound by parameters."""
    names = select(func.min(DiscoveryCategory.category).label("name")).cte("category_names", recursive=True)
    later = aliased(DiscoveryCategory)
    names = names.union_all(
        select(select(func.min(later.category)).where(later.category > names.c.name).scalar_subquery()).where(
            names.c.name.is_not(None)
        )
    )
    probe = aliased(DiscoveryCategory)
    one_in_status = (
        select(probe.submission_id)
        .join(E, E.submission_id == probe.submission_id)
        .where(probe.category == names.c.name, E.status.in_(bindparam("statuses", expanding=True)))
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(names.c.name)
        .where(names.c.name.is_not(None), one_in_status.is_not(None))
        .order_by(names.c.name)
    )


def kinds(session: Session, statuses: Collection[str]) -> list[str]:
    return list(
        session.scalars(select(E.kind).where(E.status.in_(list(statuses))).distinct().order_by(E.kind))
    )


# ---------------------------------------------------------------------------- OAI-PMH harvesting


# What a harvested record reads of an entry: its header (identifier, datestamp, sets, deleted or
# not) and which version its metadata is written from.
HARVEST_COLUMNS = (
    E.submission_id,
    E.identifier,
    E.kind,
    E.status,
    E.categories,
    E.datestamp,
    E.published_at,
    E.version_number,
)


@dataclass(frozen=True)
class HarvestFilter:
    published: Collection[str]  # shown as records
    deleted: str  # shown as deleted records when once published
    kind: str | None = None
    category: str | None = None
    since: datetime | None = None  # datestamp >= since
    before: datetime | None = None  # datestamp < before


def _harvest_where(filters: HarvestFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        E.published_at.is_not(None),
        or_(E.status.in_(list(filters.published)), E.status == filters.deleted),
    ]
    if filters.kind:
        conditions.append(E.kind == filters.kind)
    if filters.category:
        conditions.append(in_category(filters.category))
    if filters.since:
        conditions.append(E.datestamp >= filters.since)
    if filters.before:
        conditions.append(E.datestamp < filters.before)
    return conditions


def harvest_page(
    session: Session, filters: HarvestFilter, *, after: tuple[datetime, int] | None, limit: int
) -> list[DiscoveryEntry]:
    """Oldest change first, keyset-paged on (datestamp, id) so a deep page costs what the first does
    and a record changing mid-harvest moves behind the cursor instead of shifting every page.

    The position is one row-value comparison, which both databases read as a range of the
    datestamp index; spelled `datestamp > d OR (datestamp = d AND id > i)` it was a filter, so
    PostgreSQL walked the index from the oldest change on every page (183 -> 1 ms for a page in
    the middle of 82,000 records). Only `HARVEST_COLUMNS` are loaded: a record's metadata comes
    from its version (`oai._versions`), and titles, abstracts and author lists are kilobytes a row."""
    statement: Select[Any] = (
        select(E).options(load_only(*HARVEST_COLUMNS, raiseload=True)).where(*_harvest_where(filters))
    )
    if after is not None:
        statement = statement.where(tuple_(E.datestamp, E.submission_id) > tuple_(*after))
    statement = statement.order_by(E.datestamp, E.submission_id).limit(limit)
    return list(session.scalars(statement))


def harvest_count(session: Session, filters: HarvestFilter) -> int:
    return int(session.scalar(select(func.count()).select_from(E).where(*_harvest_where(filters))) or 0)


def earliest_datestamp(session: Session, filters: HarvestFilter) -> datetime | None:
    return as_utc(session.scalar(select(func.min(E.datestamp)).where(*_harvest_where(filters))))


def as_utc(value: Any) -> datetime | None:
    # Aggregates bypass the column type: SQLite hands back text, and no time zone.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
