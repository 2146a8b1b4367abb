"""Full-text search over the public read model: one interface (`SearchIndex`), an SQLite FTS5 and a
PostgreSQL tsvector implementation, and the rules (which items, how a query is read) on top.

A query is read as words (letters and digits); punctuation, quotes and operators typed by the user
never reach the engines' query languages, so nothing a user types is syntax.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, Select, column, exists, func, literal_column, select, table, text, true
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
        conditions: list[Any] = [matches]
        if filters.category:
            # The category probed by FTS5's rowid rather than the entry's id, so SQLite tests it as
            # it steps through the matches, before it looks the entry up (most matches are not in
            # the category: 85 % in the benchmark): p50 26 -> 16 ms, p95 41 -> 30, same hits.
            conditions.append(
                exists().where(
                    DiscoveryCategory.submission_id == self._fts.c.rowid,
                    DiscoveryCategory.category == filters.category,
                )
            )
            filters = replace(filters, category=None)
        conditions += repository.where(filters)
        if sort == "newest":
            statement: Any = (
                select(E.submission_id, literal_column("0.0")).select_from(joined).where(*conditions)
            )
            # Newest submitted first, in FTS5's own (reverse) rowid order: no sort, and the scan
            # stops once a page is found.
            order: tuple[ColumnElement[Any], ...] = (self._fts.c.rowid.desc(),)
        else:
            # One walk in FTS5's own (reverse) rowid order that scores the window's newest matches
            # as it goes and stops after `window` of them; only those are sorted. A window bound
            # found by a first walk and then a ranking of the rows above it walked the matches
            # twice: the one walk halved the time (category + kind p50 37 -> 20 ms, p95 65 -> 39;
            # no filter p95 18 -> 14; same hits, interleaved A/B in docs/benchmarks.md).
            newest = (
                select(E.submission_id.label("id"), self._rank.label("rank"))
                .select_from(joined)
                .where(*conditions)
                .order_by(self._fts.c.rowid.desc())
                .limit(window)
            ).subquery()
            statement = select(newest.c.id, newest.c.rank)
            order = (newest.c.rank, newest.c.id.desc())
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
        matches = E.search_vector.op("@@")(query)
        rank = func.ts_rank(E.search_vector, query)
        statement: Any
        if filters.category:
            wanted = window if sort == "relevance" else offset + limit
            candidates = self._in_category(session, matches, filters, wanted)
            if sort == "newest":
                statement = candidates.add_columns(literal_column("0.0"))
            else:
                # The window's newest matches, then only those ranked, in one statement.
                newest = candidates.limit(window).subquery()
                statement = (
                    select(E.submission_id, rank)
                    .join(newest, newest.c.submission_id == E.submission_id)
                    .order_by(rank.desc(), E.submission_id.desc())
                )
        elif sort == "newest":
            statement = (
                select(E.submission_id, literal_column("0.0"))
                .where(*repository.where(filters), matches)
                .order_by(E.submission_id.desc())
            )
        else:
            # Without a category, a window bound found by walking the id index and a ranking of
            # the rows above it (one statement measured slower here: p50 60 -> 140 ms, A/B in
            # docs/benchmarks.md).
            conditions = [*repository.where(filters), matches]
            floor = _window_floor(
                session, select(E.submission_id).where(*conditions), E.submission_id, window
            )
            if floor is not None:
                conditions.append(E.submission_id >= floor)
            statement = (
                select(E.submission_id, rank).where(*conditions).order_by(rank.desc(), E.submission_id.desc())
            )
        rows = session.execute(statement.limit(limit).offset(offset))
        return [(int(row[0]), float(row[1])) for row in rows]

    def _in_category(
        self, session: Session, matches: ColumnElement[bool], filters: EntryFilter, wanted: int
    ) -> Select[Any]:
        """The ids of the matches in the category (newest first, as a select to limit), found the
        cheaper of two ways. Testing the match on one row reads its vector out of TOAST and
        visiting a row in a bitmap reads its heap page: both cost about the same per row (25 us
        at 100,000 items), so the choice is the one that touches fewer rows.

        - A walk down the category's rows (an index in id order), testing each item, until
          `wanted` match: about wanted x category / matches-in-category rows. Cheap when most of
          the category matches (common words).
        - The GIN indexes of the vector and of the categories ANDed into one bitmap, every
          match in the category visited, then sorted: about matches-in-category rows. Cheap for
          rare words, where the walk would test the whole category.

        The counts are the planner's estimates (from the column statistics of both indexes),
        read with EXPLAIN (a millisecond each)."""
        category = filters.category
        assert category is not None
        in_json = E.categories.op("@>")(func.jsonb_build_array(category))
        # The category's rows stay the filter (what `repository.where` tests); the JSON copy on the
        # entry, written with them by `refresh_entry`, is what the bitmap reads.
        bitmap = select(E.submission_id).where(in_json, *repository.where(filters), matches)
        # Estimated without the category's rows: the planner would count the category twice.
        others = repository.where(replace(filters, category=None))
        estimates = _estimated_rows(
            session,
            select(E.submission_id).where(in_json, *others, matches),
            select(E.submission_id).where(in_json, matches),
            select(E.submission_id).where(in_json),
        )
        if estimates is not None:
            found, visited, size = estimates
            if found <= 0 or wanted * size / found > visited:
                return bitmap.order_by(E.submission_id.desc())
        # The walk: a LATERAL probe per category row, so the planner cannot turn it into a merge
        # join that tests the match on every item in id order (all categories: six times the rows).
        probe = (
            select(literal_column("1"))
            .where(
                E.submission_id == DiscoveryCategory.submission_id,
                *others,
                matches,
            )
            .limit(1)
            .lateral()
        )
        return (
            select(DiscoveryCategory.submission_id)
            .join(probe, true())
            .where(DiscoveryCategory.category == category)
            .order_by(DiscoveryCategory.submission_id.desc())
        )


def _estimated_rows(session: Session, *statements: Select[Any]) -> tuple[float, ...] | None:
    """The planner's row estimate of each statement (EXPLAIN: nothing runs). One EXPLAIN per
    statement: in a UNION ALL a parallel plan gives each member's rows per worker."""
    dialect = session.get_bind().dialect
    connection = session.connection()
    estimates = []
    for statement in statements:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
        try:
            document: Any = json.loads(plan) if isinstance(plan, str) else plan
            estimates.append(float(document[0]["Plan"]["Plan Rows"]))
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return tuple(estimates)


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
