"""What the delivery layers call: one function per question, each taking a session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.orm import Session

from openxiv.discovery import hf, oai, repository, search, trending
from openxiv.discovery.engagement import engagement_of
from openxiv.discovery.entries import SEARCHABLE
from openxiv.discovery.feeds import Feed, FeedFormat, build_feed, feed_spec
from openxiv.discovery.repository import EntryFilter
from openxiv.discovery.settings import DiscoverySettings
from openxiv.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Site:
    """What the documents say about the site itself."""

    base_url: str
    name: str
    settings: DiscoverySettings

    @property
    def oai_repository(self) -> oai.Repository:
        namespace = self.settings.oai_namespace or urlparse(self.base_url).hostname or "localhost"
        return oai.Repository(
            base_url=self.base_url.rstrip("/"),
            name=self.name,
            admin_email=self.settings.oai_admin_email,
            namespace=namespace,
            page_size=self.settings.oai_page_size,
        )


def feed(
    session: Session, site: Site, name: str, fmt: FeedFormat, *, category: str | None, kind: str | None
) -> Feed:
    spec = feed_spec(name, category, kind)
    return build_feed(
        session,
        spec,
        fmt,
        base_url=site.base_url.rstrip("/"),
        instance_name=site.name,
        size=site.settings.feed_size,
    )


def oai_response(session: Session, site: Site, arguments: Mapping[str, Sequence[str]]) -> bytes:
    return oai.respond(session, arguments, site.oai_repository, now=datetime.now(UTC))


def _day_start(value: date | None) -> datetime | None:
    return datetime.combine(value, datetime.min.time(), UTC) if value else None


def search_items(
    session: Session,
    query: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    status: str | None = None,
    listed_from: date | None = None,
    listed_to: date | None = None,
    sort: search.Sort = "relevance",
    limit: int = 20,
    offset: int = 0,
) -> search.SearchPage:
    """`listed_to` is inclusive (the whole day)."""
    allowed = sorted(s.value for s in SEARCHABLE)
    if status is not None and status not in allowed:
        raise InvalidInput(f"status must be one of {', '.join(allowed)}", field="status")
    end = _day_start(listed_to)
    filters = EntryFilter(
        statuses=[status] if status else allowed,
        kind=kind,
        category=category,
        listed_from=_day_start(listed_from),
        listed_to=end + timedelta(days=1) if end else None,
    )
    return search.search(session, query, filters, sort=sort, limit=limit, offset=offset)


def daily_papers(
    session: Session,
    site: Site,
    *,
    day: str | None,
    week: str | None,
    month: str | None,
    sort: str,
    page: int,
    limit: int,
    submitter: str | None,
) -> list[dict[str, Any]]:
    if sort not in ("trending", "publishedAt"):
        raise InvalidInput("sort is trending or publishedAt", field="sort")
    submitter_id = None
    if submitter is not None:
        if not submitter.isdigit():
            raise InvalidInput(
                "submitter is an account id (the submittedBy.user of a paper)", field="submitter"
            )
        submitter_id = int(submitter)
    span = trending.window(day, week, month, today=datetime.now(UTC).date())
    rows = trending.daily_papers(
        session,
        site.settings.trending,
        span=span,
        sort=sort,  # type: ignore[arg-type]
        page=page,
        limit=limit,
        submitter_id=submitter_id,
    )
    return [hf.daily_paper(r.entry, r.engagement, base_url=site.base_url, score=r.score) for r in rows]


def paper(session: Session, site: Site, identifier: str) -> dict[str, Any]:
    entry = repository.by_identifier(session, identifier.split("v")[0] if "v" in identifier else identifier)
    hidden = entry is not None and bool(repository.hidden_ids(session, [entry.submission_id]))
    if entry is None or hidden or entry.status not in {s.value for s in SEARCHABLE}:
        raise NotFound(f"no paper {identifier}")
    return hf.paper(entry, engagement_of(entry), base_url=site.base_url)


def papers_search(session: Session, site: Site, query: str, limit: int) -> list[dict[str, Any]]:
    found = search.search(
        session,
        query,
        EntryFilter(statuses=sorted(s.value for s in SEARCHABLE)),
        limit=min(max(limit, 1), 100),
    )
    return [hf.daily_paper(hit.entry, engagement_of(hit.entry), base_url=site.base_url) for hit in found.hits]
