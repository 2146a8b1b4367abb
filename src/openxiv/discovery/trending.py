"""Trending: a time-decayed score over likes, comments and reviews (docs/discovery.md has the
formula), and the daily-papers pages by day, ISO week or month."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Float, case, func, type_coerce
from sqlalchemy.orm import Session

from openxiv.discovery import repository
from openxiv.discovery.engagement import Engagement, engagement_of
from openxiv.discovery.repository import EntryFilter
from openxiv.discovery.settings import TrendingSettings
from openxiv.errors import InvalidInput
from openxiv.models.discovery import DiscoveryEntry
from openxiv.submissions.lifecycle import PUBLISHED

DailySort = Literal["trending", "publishedAt"]
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def trending_score(engagement: Engagement, age_hours: float, constants: TrendingSettings) -> float:
    """(1 + likes + comment_weight*comments + review_weight*reviews) / (age_h + offset)^gravity.

    The 1 keeps an item nobody has touched yet ranked by its freshness instead of tied at zero."""
    points = (
        1.0
        + engagement.likes
        + constants.comment_weight * engagement.comments
        + constants.review_weight * engagement.reviews
    )
    return points / (max(age_hours, 0.0) + constants.age_offset_hours) ** constants.gravity


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end) of publication times."""

    start: datetime
    end: datetime
    label: str


def window(day: str | None, week: str | None, month: str | None, *, today: date) -> Window | None:
    """The interval the daily-papers parameters name (at most one of them); None: no bound."""
    given = [name for name, value in (("date", day), ("week", week), ("month", month)) if value]
    if len(given) > 1:
        raise InvalidInput(f"give one of date, week and month, not {' and '.join(given)}", field=given[1])
    try:
        if day:
            start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
            return Window(start, start + timedelta(days=1), day)
        if week:
            found = _WEEK.match(week)
            if not found:
                raise ValueError(week)
            monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
            start = datetime.combine(monday, datetime.min.time(), UTC)
            return Window(start, start + timedelta(days=7), week)
        if month:
            found = _MONTH.match(month)
            if not found:
                raise ValueError(month)
            first = date(int(found[1]), int(found[2]), 1)
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return Window(
                datetime.combine(first, datetime.min.time(), UTC),
                datetime.combine(following, datetime.min.time(), UTC),
                month,
            )
    except ValueError:
        field = given[0]
        shapes = {"date": "YYYY-MM-DD", "week": "YYYY-Www", "month": "YYYY-MM"}
        raise InvalidInput(f"{field} must look like {shapes[field]}", field=field) from None
    return None


@dataclass(frozen=True)
class RankedEntry:
    entry: DiscoveryEntry
    engagement: Engagement
    score: float


def daily_papers(
    session: Session,
    constants: TrendingSettings,
    *,
    span: Window | None,
    sort: DailySort = "publishedAt",
    page: int = 0,
    limit: int = 50,
    look_ahead: int = 0,
    kind: str | None = None,
    category: str | None = None,
    submitter_id: int | None = None,
    now: datetime | None = None,
) -> list[RankedEntry]:
    """Published items in the window, newest or trending first. Without a window: the newest
    (publishedAt) or the items of the last 7 days (trending). `look_ahead` rows past the page
    come too (a caller's "is there a next page?")."""
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100", field="limit")
    if page < 0 or page * limit > 10_000:
        raise InvalidInput("p must be between 0 and 10000/limit", field="p")
    now = now or datetime.now(UTC)
    if span is None and sort == "trending":
        span = Window(now - timedelta(days=7), now + timedelta(seconds=1), "last 7 days")
    filters = EntryFilter(
        statuses=sorted(PUBLISHED),
        kind=kind,
        category=category,
        submitter_id=submitter_id,
        published_from=span.start if span else None,
        published_to=span.end if span else None,
    )
    if sort == "publishedAt":
        entries = repository.newest(
            session, filters, by="published_at", limit=limit + look_ahead, offset=page * limit
        )
        return [
            RankedEntry(
                e, engagement_of(e), _age_score(e.published_at or now, engagement_of(e), now, constants)
            )
            for e in entries
        ]
    # Scores change with time, so no index holds them in order: the database scores every item of
    # the window from the published index, which carries the counts, and returns one page. A
    # month is about 7,000 items at 100,000.
    chosen = repository.top_scored(
        session,
        filters,
        score_column(session.get_bind().dialect.name, now, constants),
        limit=limit + look_ahead,
        offset=page * limit,
    )
    found = repository.by_ids(session, [i for i, _ in chosen])
    return [RankedEntry(found[i], engagement_of(found[i]), score) for i, score in chosen if i in found]


def score_column(dialect: str, now: datetime, constants: TrendingSettings) -> ColumnElement[float]:
    """`trending_score` in SQL over an entry's counts; the tests hold the two to the same numbers."""
    points = (
        1.0
        + DiscoveryEntry.likes
        + constants.comment_weight * DiscoveryEntry.comments
        + constants.review_weight * DiscoveryEntry.completed_reviews
    )
    age_hours = (now.timestamp() - repository.epoch_seconds(DiscoveryEntry.published_at, dialect)) / 3600.0
    not_negative = case((age_hours > 0, age_hours), else_=0.0)
    decay = func.power(not_negative + constants.age_offset_hours, constants.gravity, type_=Float)
    return type_coerce(points / decay, Float)


def _age_score(
    published: datetime, engagement: Engagement, now: datetime, constants: TrendingSettings
) -> float:
    return trending_score(engagement, (now - published).total_seconds() / 3600, constants)
