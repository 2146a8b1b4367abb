"""The literature the reviewers of one version were shown, as its item page lists it: the
related works with links by identifier, and which of them the submission does not cite (the
likely missing citations). Read from the grounding stored with the version's own AI review, so
a page view never searches an index or calls an outside service."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from openxiv.review.schemas import ReviewOut

# Where each kind of identifier a literature record carries can be read (ours is the item page).
_LINKS: tuple[tuple[str, str, str], ...] = (
    ("openxiv", "OpenXiv", "/abs/{}"),
    ("doi", "DOI", "https://doi.org/{}"),
    ("arxiv", "arXiv", "https://arxiv.org/abs/{}"),
    ("s2", "Semantic Scholar", "https://www.semanticscholar.org/paper/{}"),
    ("openalex", "OpenAlex", "https://openalex.org/{}"),
)


@dataclass(frozen=True)
class RelatedWorkLink:
    label: str
    url: str


@dataclass(frozen=True)
class RelatedWorkEntry:
    title: str
    year: int | None
    venue: str | None
    links: list[RelatedWorkLink]
    cited: bool
    likely_missing: bool  # highly related and not cited
    closest: bool  # among the closest prior work (possible overlap)


@dataclass(frozen=True)
class RelatedLiterature:
    works: list[RelatedWorkEntry]
    sources: list[str]
    note: str  # why grounding was skipped or degraded; empty when it ran in full

    @property
    def missing(self) -> list[RelatedWorkEntry]:
        return [w for w in self.works if w.likely_missing]


def _links(ids: Mapping[str, Any]) -> list[RelatedWorkLink]:
    # Identifiers come from outside services: each is quoted into a fixed address, never a URL of its own.
    return [
        RelatedWorkLink(label, pattern.format(quote(str(ids[key]), safe="/:.()-_;")))
        for key, label, pattern in _LINKS
        if ids.get(key)
    ]


def _year(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def related_literature(reviews: Iterable[ReviewOut]) -> RelatedLiterature | None:
    """From the first of the version's completed AI reviews that recorded a grounding (the
    reviewers of one run all see the same literature); None when no review recorded one."""
    grounding: Mapping[str, Any] | None = None
    for review in reviews:
        if review.ai_generated and review.status == "completed" and review.grounding:
            grounding = review.grounding
            break
    if grounding is None:
        return None
    missing = set(grounding.get("missing_citations") or [])
    closest = set(grounding.get("closest_prior_work") or [])
    works = []
    for work in grounding.get("related") or []:
        title = _text(work.get("title")) if isinstance(work, Mapping) else None
        if title is None:
            continue
        ids = work.get("ids")
        works.append(
            RelatedWorkEntry(
                title=title,
                year=_year(work.get("year")),
                venue=_text(work.get("venue")),
                links=_links(ids if isinstance(ids, Mapping) else {}),
                cited=bool(work.get("cited")),
                likely_missing=title in missing,
                closest=title in closest,
            )
        )
    return RelatedLiterature(
        works=works,
        sources=[str(s) for s in grounding.get("sources") or []],
        note=str(grounding.get("note") or ""),
    )
