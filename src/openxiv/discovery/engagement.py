"""What trending counts per item: likes and comments (the community domain's) and completed
reviews. `EngagementCounter` is the read interface trending calls; `count_engagement` is the
implementation the app uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openxiv.community import service as community
from openxiv.models.review import Review


@dataclass(frozen=True)
class Engagement:
    likes: int = 0
    comments: int = 0
    reviews: int = 0


NONE = Engagement()
ID_CHUNK = 5000


class EngagementCounter(Protocol):
    def __call__(self, session: Session, submission_ids: Sequence[int]) -> Mapping[int, Engagement]: ...


def count_engagement(session: Session, submission_ids: Sequence[int]) -> dict[int, Engagement]:
    """Counts for each id (ids with nothing to count are absent: read them as `NONE`)."""
    if not submission_ids:
        return {}
    counts: dict[int, Engagement] = {}
    ids = list(submission_ids)
    # In chunks: a month of trending candidates can outnumber SQLite's bound-parameter limit.
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        reviews = _completed_reviews(session, chunk)
        likes, comments = community_counts(session, chunk)
        counts.update(
            (i, Engagement(likes=likes.get(i, 0), comments=comments.get(i, 0), reviews=reviews.get(i, 0)))
            for i in set(reviews) | set(likes) | set(comments)
        )
    return counts


def _completed_reviews(session: Session, ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Review.submission_id, func.count())
        .where(Review.submission_id.in_(ids), Review.status == "completed")
        .group_by(Review.submission_id)
    )
    return {int(row[0]): int(row[1]) for row in rows}


def community_counts(session: Session, ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Likes of the item itself and its visible (not deleted, not hidden) comments, per item, as
    the community domain counts them."""
    counts = community.engagement_counts(session, ids)
    likes = {i: c.likes for i, c in counts.items() if c.likes}
    comments = {i: c.comments for i, c in counts.items() if c.comments}
    return likes, comments
