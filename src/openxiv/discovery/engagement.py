"""What trending counts per item: likes, visible comments and completed reviews. All three are on
the read model's row (likes and comments copied from the community's running counts by triggers,
reviews counted by `refresh_entry`), so an entry that was loaded answers without another query,
and trending ranks a window in SQL over the same columns (`trending.score_column`)."""

from __future__ import annotations

from dataclasses import dataclass

from openxiv.models.discovery import DiscoveryEntry


@dataclass(frozen=True)
class Engagement:
    likes: int = 0
    comments: int = 0
    reviews: int = 0


def engagement_of(entry: DiscoveryEntry) -> Engagement:
    return Engagement(likes=entry.likes, comments=entry.comments, reviews=entry.completed_reviews)
