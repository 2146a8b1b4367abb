"""What a listing shows of an item's review outcome: the rating of its latest completed review
and the tally of its latest completed panel, read for a whole page of items at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import BindParameter, CompoundSelect, bindparam, func, literal, null, select, union_all
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
    ids = sorted(set(submission_ids))
    if not ids:
        return {}
    summaries: dict[int, ReviewSummary] = {}
    for source, submission_id, rating_or_accepts, seats, decision in session.execute(
        _SUMMARIES, {"ids": ids}
    ):
        found = summaries.get(submission_id, NO_REVIEW)
        if source == "review":
            summaries[submission_id] = replace(found, rating=rating_or_accepts, review_decision=decision)
        else:
            summaries[submission_id] = replace(
                found, accept_count=rating_or_accepts, seats=seats, panel_decision=decision
            )
    return summaries


def _summaries_statement() -> CompoundSelect[str, int, int | None, int | None, str | None]:
    """The newest completed internal review (rating, decision) and the newest completed panel
    (accepts, seats, decision) of each item in `:ids`, as rows of one statement: a listing page
    pays one round trip, and the statement is built once."""
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
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
    newest_panel = (
        select(func.max(VotePanel.id))
        .where(VotePanel.submission_id.in_(ids), VotePanel.status == "completed")
        .group_by(VotePanel.submission_id)
    )
    return union_all(
        select(
            literal("review"), Review.submission_id, Review.rating, null().label("seats"), Review.decision
        ).where(Review.id.in_(newest_review)),
        select(
            literal("panel"), VotePanel.submission_id, VotePanel.accept_count, VotePanel.n, VotePanel.decision
        ).where(VotePanel.id.in_(newest_panel)),
    )


_SUMMARIES = _summaries_statement()
