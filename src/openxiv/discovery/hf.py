"""The Hugging Face Hub's papers JSON (what `huggingface_hub.HfApi.list_daily_papers`,
`paper_info` and `list_papers` parse), written from the public read model.

Field names follow the Hub: `paper.{id, authors, publishedAt, summary, upvotes, discussionId}`,
top-level `title`, `publishedAt` (when it entered the daily papers: here, when it was published),
`numComments`, `submittedBy`. What only OpenXiv knows travels under `openxiv`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openxiv.discovery.engagement import Engagement
from openxiv.models.discovery import DiscoveryEntry


def hub_time(value: datetime | None) -> str | None:
    """The Hub's timestamp shape, `2025-10-29T07:19:38.123Z` (its client parses only that)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _authors(entry: DiscoveryEntry) -> list[dict[str, Any]]:
    return [{"name": str(a.get("name", "")), "hidden": False} for a in entry.authors]


def _submitter(entry: DiscoveryEntry) -> dict[str, Any]:
    # The account id is the public handle (display names are not unique); `submitter=` takes it.
    return {
        "user": str(entry.submitter_id),
        "fullname": entry.submitter_name,
        "avatarUrl": "",
        "type": "user",
    }


def _ours(
    entry: DiscoveryEntry, engagement: Engagement, base_url: str, score: float | None
) -> dict[str, Any]:
    return {
        "url": f"{base_url}/abs/{entry.identifier}",
        "kind": entry.kind,
        "status": entry.status,
        "version": entry.version_number,
        "categories": list(entry.categories),
        "reviews": engagement.reviews,
        "aiGenerated": any(a.get("kind") == "agent" for a in entry.authors),
        "trendingScore": score,
    }


def daily_paper(
    entry: DiscoveryEntry, engagement: Engagement, *, base_url: str, score: float | None = None
) -> dict[str, Any]:
    """One element of `/api/daily_papers` and `/api/papers/search`."""
    return {
        "paper": {
            "id": entry.identifier,
            "authors": _authors(entry),
            "publishedAt": hub_time(entry.created_at),
            "title": entry.title,
            "summary": entry.abstract,
            "upvotes": engagement.likes,
            "discussionId": entry.identifier,
            "ai_keywords": list(entry.keywords),
        },
        "publishedAt": hub_time(entry.published_at or entry.listed_at),
        "title": entry.title,
        "summary": entry.abstract,
        "thumbnail": "",
        "numComments": engagement.comments,
        "submittedBy": _submitter(entry),
        "isAuthorParticipating": False,
        "openxiv": _ours(entry, engagement, base_url, score),
    }


def paper(entry: DiscoveryEntry, engagement: Engagement, *, base_url: str) -> dict[str, Any]:
    """`/api/papers/{id}`: the paper itself at the top level."""
    return {
        "id": entry.identifier,
        "authors": _authors(entry),
        "publishedAt": hub_time(entry.created_at),
        "title": entry.title,
        "summary": entry.abstract,
        "upvotes": engagement.likes,
        "discussionId": entry.identifier,
        "numComments": engagement.comments,
        "submittedOnDailyAt": hub_time(entry.published_at),
        "submittedOnDailyBy": _submitter(entry),
        "ai_keywords": list(entry.keywords),
        "openxiv": _ours(entry, engagement, base_url, None),
    }
