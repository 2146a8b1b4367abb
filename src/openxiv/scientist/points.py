"""The points a revision must answer, read from what the reviewers wrote about a version.

Every concrete request counts: the meta-review's weaknesses, and from each reviewer's report
(the area chair's sub-reviews and any single or external review) its major concerns, minor
issues and questions. Vote reasons are left out: they justify a seat's vote rather than ask for
a change, and the meta-review already weighs them. The same words from two reviewers are one
point with both sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openxiv.client.models import Review, VersionReviews

_REPORT_HEADINGS = (
    ("major_concerns", "major concern"),
    ("minor_issues", "minor issue"),
    ("questions_for_authors", "question"),
)


@dataclass(frozen=True)
class ReviewerPoint:
    id: str  # "P1", "P2", ... in the order the letter answers them
    sources: tuple[str, ...]  # e.g. ("meta-review weakness", "reviewer 2 (Methods) major concern")
    text: str


def _items(content: dict[str, Any] | None, key: str) -> list[str]:
    values = (content or {}).get(key) or []
    return [" ".join(str(v).split()) for v in values if str(v).strip()] if isinstance(values, list) else []


def _reviewer_label(position: int, spec: dict[str, Any]) -> str:
    name = str(spec.get("name") or "").strip()
    return f"reviewer {position + 1}" + (f" ({name})" if name else "")


def _is_external(review: Review) -> bool:
    return review.mode == "external" or review.reviewer_kind != "ai"


def _external_label(review: Review) -> str:
    extra = review.model_extra or {}
    who = f"agent {extra['agent_id']}" if extra.get("agent_id") else ""
    return f"external review {review.id}" + (f" by {who}" if who else "")


def extract_points(reviews: VersionReviews) -> list[ReviewerPoint]:
    found: dict[str, tuple[list[str], str]] = {}

    def add(source: str, text: str) -> None:
        key = re.sub(r"\W+", " ", text.casefold()).strip()
        if not key:
            return
        if key in found:
            found[key][0].append(source)
        else:
            found[key] = ([source], text)

    completed = [r for r in reviews.reviews if r.status == "completed"]
    meta = reviews.meta_review
    if meta is not None and meta.status == "completed":
        for text in _items(meta.content, "weaknesses"):
            add("meta-review weakness", text)
        for sub in meta.sub_reviews:
            if sub.status != "completed":
                continue
            label = _reviewer_label(sub.position, sub.spec)
            for key, what in _REPORT_HEADINGS:
                for text in _items(sub.content, key):
                    add(f"{label} {what}", text)
    for review in completed:
        if review.mode == "meta":
            continue
        label = _external_label(review) if _is_external(review) else "single review"
        for key, what in _REPORT_HEADINGS:
            for text in _items(review.content, key):
                add(f"{label} {what}", text)
    return [
        ReviewerPoint(id=f"P{n}", sources=tuple(sources), text=text)
        for n, (sources, text) in enumerate(found.values(), start=1)
    ]


def review_digest(reviews: VersionReviews) -> dict[str, Any]:
    """The scores of one round, for the trajectory: meta-review rating and decision, the panel's
    votes and decision, the pairwise verdict against the previous version."""
    meta = reviews.meta_review
    panel = reviews.panel
    pairwise = max(reviews.pairwise, key=lambda p: p.id) if reviews.pairwise else None
    return {
        "meta_review": None
        if meta is None
        else {
            "rating": meta.rating,
            "decision": meta.decision,
            "summary": (meta.content or {}).get("summary"),
            "reviewers": len([s for s in meta.sub_reviews if s.status == "completed"]),
        },
        "external_reviews": [
            {"id": r.id, "reviewer_kind": r.reviewer_kind, "rating": r.rating, "decision": r.decision}
            for r in reviews.reviews
            if _is_external(r) and r.status == "completed"
        ],
        "panel": None
        if panel is None
        else {
            "n": panel.n,
            "k": panel.k,
            "accept_count": panel.accept_count,
            "decision": panel.decision,
            "decision_source": panel.decision_source,
            "score_mean": panel.score_mean,
            "score_threshold": panel.score_threshold,
            "votes": [
                {"position": v.position, "decision": v.decision, "confidence": v.confidence, "score": v.score}
                for v in panel.votes
            ],
        },
        "pairwise": None
        if pairwise is None
        else {
            "winner": pairwise.winner,
            "consistent": pairwise.consistent,
            "labels": [pairwise.label_a, pairwise.label_b],
        },
    }
