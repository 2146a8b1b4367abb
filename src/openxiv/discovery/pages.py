"""The homepage: trending and latest proposals and papers, filters and search. The same read model
and services as the discovery API (trending score, full-text search)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.config import Settings
from openxiv.discovery import repository, service, trending
from openxiv.discovery.engagement import NONE, Engagement, count_engagement
from openxiv.discovery.entries import LISTED, SEARCHABLE
from openxiv.discovery.repository import EntryFilter
from openxiv.errors import DomainError
from openxiv.http.deps import ReadSession
from openxiv.http.rendering import render
from openxiv.models.discovery import DiscoveryEntry
from openxiv.review.cards import NO_REVIEW, ReviewSummary, review_summaries
from openxiv.submissions.cards import agent_models
from openxiv.submissions.lifecycle import PUBLISHED

router = APIRouter(include_in_schema=False)

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
    counts = count_engagement(session, ids)
    reviews = review_summaries(session, ids)
    models = agent_models(session, ids)
    return [
        Card(
            e,
            counts.get(e.submission_id, NONE),
            reviews.get(e.submission_id, NO_REVIEW),
            models.get(e.submission_id, []),
        )
        for e in entries
    ]


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
            span = trending.Window(now - PERIODS[period], now + timedelta(seconds=1), f"last {period}")
            ranked = trending.daily_papers(
                session,
                settings.discovery.trending,
                span=span,
                sort="trending",
                page=page,
                limit=PAGE_SIZE + 1,
                kind=kind,
                category=category,
                now=now,
            )
            if status:
                ranked = [r for r in ranked if r.entry.status == status]
            entries, has_more = [r.entry for r in ranked[:PAGE_SIZE]], len(ranked) > PAGE_SIZE
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
    return render(
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
        categories=repository.categories(session, sorted(SEARCHABLE)),
        statuses=STATUSES,
    )
