"""What a listing shows of an item's review outcome: the rating of its latest completed review
and the tally of its latest completed panel, read for a whole page of items at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openxiv.models.review import Review, VotePanel


@dataclass(frozen=True)
class ReviewSummary:
    rating: int | None = None
    review_decision: str | None = None
    accept_count: int | None = None
    seats: int | None = None
    panel_decision: str | None = None


NO_REVIEW = ReviewSummary()


def review_summaries(session: Session, submission_ids: Iterable[int]) -> dict[int, ReviewSummary]:
    """Per item, the platform's own (internal) latest completed review and panel; external
    reviews are shown on the item page, not folded into a listing's number."""
    ids = list(set(submission_ids))
    if not ids:
        return {}
    newest_review = (
        select(func.max(Review.id))
        .where(
            Review.submission_id.in_(ids),
            Review.status == "completed",
            Review.reviewer_origin == "internal",
            Review.rating.is_not(None),
        )
        .group_by(Review.submission_id)
    )
    reviews = {
        r.submission_id: r
        for r in session.execute(
            select(Review.submission_id, Review.rating, Review.decision).where(Review.id.in_(newest_review))
        )
    }
    newest_panel = (
        select(func.max(VotePanel.id))
        .where(VotePanel.submission_id.in_(ids), VotePanel.status == "completed")
        .group_by(VotePanel.submission_id)
    )
    panels = {
        p.submission_id: p
        for p in session.execute(
            select(VotePanel.submission_id, VotePanel.accept_count, VotePanel.n, VotePanel.decision).where(
                VotePanel.id.in_(newest_panel)
            )
        )
    }
    summaries: dict[int, ReviewSummary] = {}
    for submission_id in set(reviews) | set(panels):
        review = reviews.get(submission_id)
        panel = panels.get(submission_id)
        summaries[submission_id] = ReviewSummary(
            rating=review.rating if review else None,
            review_decision=review.decision if review else None,
            accept_count=panel.accept_count if panel else None,
            seats=panel.n if panel else None,
            panel_decision=panel.decision if panel else None,
        )
    return summaries
