"""The homepage: trending and latest proposals and papers, filters and search. The same read model
and services as the discovery API (trending score, full-text search)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.config import Settings
from openxiv.discovery import repository, service, trending
from openxiv.discovery.engagement import Engagement, engagement_of
from openxiv.discovery.entries import LISTED, SEARCHABLE
from openxiv.discovery.repository import EntryFilter
from openxiv.errors import DomainError
from openxiv.http.caching import LISTINGS, declare_public
from openxiv.http.deps import ReadSession
from openxiv.http.rendering import render
from openxiv.models.discovery import DiscoveryEntry
from openxiv.review.cards import NO_REVIEW, ReviewSummary, review_summaries
from openxiv.submissions.cards import agent_models
from openxiv.submissions.lifecycle import PUBLISHED

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

PAGE_SIZE = 20
PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
KINDS = ("paper", "proposal")
STATUSES = sorted(s.value for s in SEARCHABLE)


@dataclass(frozen=True)
class Card:
    entry: DiscoveryEntry
    engagement: Engagement
    review: ReviewSummary
    agent_models: list[str | None]  # per author, in order: the model of an agent author


def _cards(session: Any, entries: list[DiscoveryEntry]) -> list[Card]:
    ids = [e.submission_id for e in entries]
    reviews = review_summaries(session, ids)
    models = agent_models(session, ids)
    return [
        Card(
            e,
            engagement_of(e),
            reviews.get(e.submission_id, NO_REVIEW),
            models.get(e.submission_id, []),
        )
        for e in entries
    ]


CACHE_S = 60.0
CACHE_ENTRIES = 512


def _cached(request: Request, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """A value kept for CACHE_S seconds in this process (per app): what the homepage may show a
    minute late -- the filter's category list and the trending order."""
    store: dict[tuple[Any, ...], tuple[float, Any]] | None = getattr(
        request.app.state, "homepage_cache", None
    )
    if store is None:
        store = {}
        request.app.state.homepage_cache = store
    now = time.monotonic()
    hit = store.get(key)
    if hit is not None and hit[0] > now:
        return cast(T, hit[1])
    if len(store) >= CACHE_ENTRIES:
        store.clear()
    value = compute()
    store[key] = (now + CACHE_S, value)
    return value


def _choice(value: str | None, allowed: tuple[str, ...] | list[str]) -> str | None:
    return value if value in allowed else None


@router.get("/", response_class=HTMLResponse)
def homepage(
    request: Request,
    principal: OptionalPrincipal,
    session: ReadSession,
    tab: str = "trending",
    period: str = "week",
    kind: str | None = None,
    category: str | None = None,
    status: str | None = None,
    q: str = "",
    page: int = 0,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    kind = _choice(kind, KINDS)
    status = _choice(status, STATUSES)
    category = (category or "").strip()[:64] or None
    page = min(max(page, 0), 500)
    query = q.strip()[:300]
    # Trending ranks published items only; a status outside that set asks for the latest list.
    if tab not in ("trending", "latest") or (tab == "trending" and status and status not in PUBLISHED):
        tab = "latest"
    period = period if period in PERIODS or (tab == "latest" and period == "all") else "week"
    now = datetime.now(UTC)
    has_more = False
    error = None
    matched = "all"
    entries: list[DiscoveryEntry] = []
    try:
        if query:
            found = service.search_items(
                session,
                query,
                kind=kind,
                category=category,
                status=status,
                limit=PAGE_SIZE,
                offset=page * PAGE_SIZE,
            )
            entries, has_more, matched = [h.entry for h in found.hits], found.has_more, found.matched
        elif tab == "trending":

            def rank() -> tuple[list[int], bool]:
                span = trending.Window(now - PERIODS[period], now + timedelta(seconds=1), f"last {period}")
                ranked = trending.daily_papers(
                    session,
                    settings.discovery.trending,
                    span=span,
                    sort="trending",
                    page=page,
                    limit=PAGE_SIZE,
                    look_ahead=1,
                    kind=kind,
                    category=category,
                    now=now,
                )
                return [r.entry.submission_id for r in ranked[:PAGE_SIZE]], len(ranked) > PAGE_SIZE

            # The ranking is kept a minute (it scores every item of the window); the entries and
            # their counts are read fresh, so a status change or a like shows at once.
            ids, has_more = _cached(request, ("trending", period, kind, category, page), rank)
            found_entries = repository.by_ids(session, ids)
            entries = [
                found_entries[i]
                for i in ids
                if i in found_entries and (not status or found_entries[i].status == status)
            ]
        else:
            since = now - PERIODS[period] if period in PERIODS else None
            rows = repository.newest(
                session,
                EntryFilter(
                    statuses=[status] if status else sorted(LISTED),
                    kind=kind,
                    category=category,
                    listed_from=since,
                ),
                by="listed_at",
                limit=PAGE_SIZE + 1,
                offset=page * PAGE_SIZE,
            )
            entries, has_more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    except DomainError as failure:
        error = failure.detail
    page_out = render(
        request,
        "index.html",
        cards=_cards(session, entries),
        tab=tab,
        period=period,
        kind=kind,
        category=category,
        status=status,
        q=query,
        page=page,
        has_more=has_more,
        matched=matched,
        error=error,
        categories=_cached(
            request, ("categories",), lambda: repository.categories(session, sorted(SEARCHABLE))
        ),
        statuses=STATUSES,
    )
    if principal is None and error is None:
        declare_public(request, page_out.headers, group=LISTINGS)
    return page_out
