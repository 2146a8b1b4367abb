"""REST shapes of the discovery domain."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from openxiv.discovery.search import SearchHit


class SearchItem(BaseModel):
    id: str
    url: str
    kind: str
    status: str
    version: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    listed_at: datetime | None
    published_at: datetime | None
    score: float


class SearchResponse(BaseModel):
    query: str
    matched: Literal["all", "any"] = Field(
        description="all: every word matched; any: no item had them all, these have some"
    )
    hits: list[SearchItem]
    next_offset: int | None


def search_item(hit: SearchHit, base_url: str) -> SearchItem:
    entry = hit.entry
    return SearchItem(
        id=entry.identifier,
        url=f"{base_url}/abs/{entry.identifier}",
        kind=entry.kind,
        status=entry.status,
        version=entry.version_number,
        title=entry.title,
        abstract=entry.abstract,
        authors=[str(a.get("name", "")) for a in entry.authors],
        categories=list(entry.categories),
        listed_at=entry.listed_at,
        published_at=entry.published_at,
        score=hit.score,
    )


class DigestSubscriptionIn(BaseModel):
    categories: list[str] = Field(min_length=1, max_length=50, description="e.g. ['cs.LG', 'stat.ML']")


class DigestSubscriptionOut(BaseModel):
    categories: list[str]
    last_sent_at: datetime | None
