"""Full-text search over the public read model: one interface (`SearchIndex`), an SQLite FTS5 and a
PostgreSQL tsvector implementation, and the rules (which items, how a query is read) on top.

A query is read as words (letters and digits); punctuation, quotes and operators typed by the user
never reach the engines' query languages, so nothing a user types is syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, Select, column, func, join, literal_column, select, table, text
from sqlalchemy.orm import Session

from openxiv.discovery import repository
from openxiv.discovery.entries import SEARCHABLE
from openxiv.discovery.repository import EntryFilter
from openxiv.errors import InvalidInput
from openxiv.models.discovery import SQLITE_SEARCH_TABLE, DiscoveryCategory, DiscoveryEntry

E = DiscoveryEntry
Sort = Literal["relevance", "newest"]
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    entry: DiscoveryEntry
    score: float


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    matched: Literal["all", "any"]  # every word matched, or (nothing did) any word
    has_more: bool


class SearchIndex(Protocol):
    """Ids and scores (higher is better) of rows matching the words under the filters.

    `window` bounds the work of relevance ranking: when more rows match, only the `window`
    newest matches (by id, which grows with time) are ranked. Ranking reads each candidate's
    document statistics, so without a bound a word found in most items would rank all of them
    (about 35 us a row on PostgreSQL, seconds at 100,000 items: docs/benchmarks.md). Each
    implementation's `window` is sized from that benchmark."""

    window: int

    def match(
        self,
        session: Session,
        terms: list[str],
        filters: EntryFilter,
        *,
        any_term: bool,
        sort: Sort,
        limit: int,
        offset: int,
        window: int,
    ) -> list[tuple[int, float]]: ...


def _window_floor(session: Session, candidates: Select[Any], order: Any, window: int) -> int | None:
    """The smallest id among the `window` newest candidates; None when fewer match (rank them all)."""
    found = session.scalar(candidates.order_by(order.desc()).offset(window - 1).limit(1))
    return None if found is None else int(found)


class SqliteFtsIndex:
    """FTS5 with BM25, title weighted 10, abstract 4, full text 1."""

    window = 2000  # BM25 in C: ~10 ms p50 / 23 ms p95 at 100,000 items

    _fts = table(SQLITE_SEARCH_TABLE, column("rowid"))
    _rank: ColumnElement[float] = literal_column(f"bm25({SQLITE_SEARCH_TABLE}, 10.0, 4.0, 1.0)")

    def match(
        self,
        session: Session,
        terms: list[str],
        filters: EntryFilter,
        *,
        any_term: bool,
        sort: Sort,
        limit: int,
        offset: int,
        window: int,
    ) -> list[tuple[int, float]]:
        # Each word as an FTS5 string (double quotes doubled): the tokenizer still stems it.
        quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
        expression = (" OR " if any_term else " AND ").join(quoted)
        matches = text(f"{SQLITE_SEARCH_TABLE} MATCH :fts_query").bindparams(fts_query=expression)
        joined = self._fts.join(E, E.submission_id == self._fts.c.rowid)
        conditions: list[Any] = [matches, *repository.where(filters)]
        if sort == "newest":
            statement: Any = (
                select(E.submission_id, literal_column("0.0")).select_from(joined).where(*conditions)
            )
            # Newest submitted first, in FTS5's own (reverse) rowid order: no sort, and the scan
            # stops once a page is found.
            order: tuple[ColumnElement[Any], ...] = (self._fts.c.rowid.desc(),)
        else:
            # Walked in FTS5's own rowid order, which needs no score and no sort.
            candidates = select(self._fts.c.rowid).select_from(joined).where(*conditions)
            floor = _window_floor(session, candidates, self._fts.c.rowid, window)
            if floor is not None:
                # A rowid range FTS5 itself applies, so only the window's rows are scored.
                conditions.append(self._fts.c.rowid >= floor)
            statement = select(E.submission_id, self._rank).select_from(joined).where(*conditions)
            order = (self._rank, E.submission_id.desc())
        rows = session.execute(statement.order_by(*order).limit(limit).offset(offset))
        return [(int(row[0]), -float(row[1])) for row in rows]


class PostgresTsvectorIndex:
    """`search_vector` (title A, abstract B, full text C, GIN-indexed) with ts_rank."""

    # ts_rank reads each candidate's vector out of TOAST: 2,000 candidates cost 150-220 ms for
    # the commonest words at 100,000 items, 500 a quarter of that.
    window = 500

    def match(
        self,
        session: Session,
        terms: list[str],
        filters: EntryFilter,
        *,
        any_term: bool,
        sort: Sort,
        limit: int,
        offset: int,
        window: int,
    ) -> list[tuple[int, float]]:
        query: ColumnElement[Any]
        if any_term:
            query = reduce(
                lambda left, right: left.op("||")(right),
                [func.plainto_tsquery("english", term) for term in terms],
            )
        else:
            query = func.plainto_tsquery("english", " ".join(terms))
        conditions: list[ColumnElement[bool]] = [E.search_vector.op("@@")(query)]
        ids: Any = E.submission_id
        source: Any = E
        filters_category = filters.category
        if filters.category:
            # Driven from the category's rows (an index in id order), so the match is tested only
            # on items in the category: testing it reads the item's vector out of TOAST, and the
            # planner would otherwise test every item and join the category afterwards.
            ids = DiscoveryCategory.submission_id
            source = join(DiscoveryCategory, E, DiscoveryCategory.submission_id == E.submission_id)
            conditions.append(DiscoveryCategory.category == filters.category)
            filters = replace(filters, category=None)
        conditions += repository.where(filters)
        if sort == "newest":
            statement: Any = (
                select(E.submission_id, literal_column("0.0")).select_from(source).where(*conditions)
            )
            order: tuple[ColumnElement[Any], ...] = (ids.desc(),)
        elif filters_category:
            # With a category, one statement: the window's newest matches, then only those ranked.
            # Each match test and each rank reads the item's vector out of TOAST, and the walk
            # along the category's rows is the long part; two statements (a window bound, then
            # the ranking) walked it twice. Interleaved with the two-statement form on one
            # database under the same load it took half the time, same hits (docs/benchmarks.md).
            newest = (
                select(ids.label("id"))
                .select_from(source)
                .where(*conditions)
                .order_by(ids.desc())
                .limit(window)
            ).subquery()
            rank = func.ts_rank(E.search_vector, query)
            statement = select(E.submission_id, rank).join(newest, newest.c.id == E.submission_id)
            order = (rank.desc(), E.submission_id.desc())
        else:
            # Without one, the same shape measured slower (p50 60 -> 140 ms, same A/B) than a
            # window bound found by walking the id index and a ranking of the rows above it.
            floor = _window_floor(session, select(ids).select_from(source).where(*conditions), ids, window)
            if floor is not None:
                conditions.append(ids >= floor)
            rank = func.ts_rank(E.search_vector, query)
            statement = select(E.submission_id, rank).select_from(source).where(*conditions)
            order = (rank.desc(), ids.desc())
        rows = session.execute(statement.order_by(*order).limit(limit).offset(offset))
        return [(int(row[0]), float(row[1])) for row in rows]


def index_for(dialect: str) -> SearchIndex:
    if dialect == "postgresql":
        return PostgresTsvectorIndex()
    if dialect == "sqlite":
        return SqliteFtsIndex()
    raise InvalidInput(f"full-text search is not available on {dialect}")


def terms_of(query: str) -> list[str]:
    words = [word.lower() for word in _WORD.findall(query)]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def search(
    session: Session,
    query: str,
    filters: EntryFilter,
    *,
    sort: Sort = "relevance",
    limit: int = 20,
    offset: int = 0,
    index: SearchIndex | None = None,
    window: int | None = None,
) -> SearchPage:
    """Items with every word first; when none has them all, items with any of them (a typo or a
    rare word does not empty the page)."""
    terms = terms_of(query)
    if not terms:
        raise InvalidInput("the query has no words to search for", field="q")
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100", field="limit")
    if offset < 0 or offset > 10_000:
        raise InvalidInput("offset must be between 0 and 10000", field="offset")
    allowed = {s.value for s in SEARCHABLE}
    statuses = [s for s in filters.statuses if s in allowed] if filters.statuses else sorted(allowed)
    if not statuses:
        raise InvalidInput(f"status must be one of {', '.join(sorted(allowed))}", field="status")
    filters = EntryFilter(**{**filters.__dict__, "statuses": statuses})
    index = index or index_for(session.get_bind().dialect.name)
    window = window or index.window
    matched: Literal["all", "any"] = "all"
    rows = index.match(
        session, terms, filters, any_term=False, sort=sort, limit=limit + 1, offset=offset, window=window
    )
    # A later page of an any-word result finds no all-word rows either: ask whether page one had some.
    no_full_match = not rows and (
        offset == 0
        or not index.match(
            session, terms, filters, any_term=False, sort=sort, limit=1, offset=0, window=window
        )
    )
    if no_full_match and len(terms) > 1:
        matched = "any"
        rows = index.match(
            session, terms, filters, any_term=True, sort=sort, limit=limit + 1, offset=offset, window=window
        )
    entries = repository.by_ids(session, [row[0] for row in rows[:limit]])
    hits = [SearchHit(entries[i], score) for i, score in rows[:limit] if i in entries]
    return SearchPage(hits=hits, matched=matched, has_more=len(rows) > limit)
