"""What the review engine needs from the literature domain, and nothing more.

The review engine depends only on this protocol; the literature domain provides the
implementation (local index first, external connectors when configured).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class RelatedWork:
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    ids: dict[str, str]  # doi, arxiv, s2, openxiv ...
    passage: str  # the part of the record that makes it relevant
    score: float
    cited: bool  # does the submission already cite it?


@dataclass(frozen=True)
class Grounding:
    related: list[RelatedWork]
    missing_citations: list[RelatedWork]  # highly related and not cited
    closest_prior_work: list[RelatedWork]  # possible overlap
    sources: list[str]  # which indexes / services answered, e.g. ["local-bm25", "semantic-scholar"]
    degraded: str | None = None  # why an external source was skipped, if one was
    queries: list[str] = field(default_factory=list)


class LiteratureGrounder(Protocol):
    def ground(self, *, title: str, abstract: str, text: str, k: int = 8) -> Grounding: ...
