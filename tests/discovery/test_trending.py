"""Trending ranked by the database: the order and the numbers of the documented formula
(`trending.trending_score`), over the community's running like and comment counts and the read
model's count of completed reviews, which follows each completed review; on both databases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from openxiv.community import service as community
from openxiv.db import transaction
from openxiv.discovery import trending
from openxiv.discovery.engagement import Engagement
from openxiv.discovery.settings import TrendingSettings
from openxiv.events import service as events
from openxiv.events import types
from openxiv.models.discovery import DiscoveryEntry
from openxiv.models.review import Review
from openxiv.submissions import repository
from tests.core.helpers import auth, register
from tests.discovery.support import author_token, publish

HOURS = {"old_popular": 72.0, "fresh": 0.5, "commented": 10.0, "reviewed": 5.0, "outside": 24.0 * 8}


def _review(runtime: Any, identifier: str, *statuses_and_modes: tuple[str, str]) -> None:
    """Review rows as the review stage stores them, announced by the stage's event."""
    with transaction(runtime.write_sessions) as session:
        submission = repository.by_identifier(session, identifier)
        assert submission is not None
        version = repository.version(session, submission.id, submission.latest_version)
        assert version is not None
        for status, mode in statuses_and_modes:
            session.add(
                Review(
                    submission_id=submission.id,
                    version_id=version.id,
                    mode=mode,
                    status=status,
                    rubric_id="test",
                    rubric_version="1",
                    prompt_version="1",
                )
            )
        events.record(
            session, types.REVIEW_COMPLETED, submission, version.number, stage="review", state="completed"
        )


def _published_hours_ago(runtime: Any, ids: dict[str, str], now: datetime) -> None:
    with transaction(runtime.write_sessions) as session:
        for name, hours in HOURS.items():
            session.execute(
                update(DiscoveryEntry)
                .where(DiscoveryEntry.identifier == ids[name])
                .values(published_at=now - timedelta(hours=hours))
            )


@pytest.fixture
def ranked_items(client: Any, runtime: Any) -> tuple[dict[str, str], datetime]:
    token = author_token(client)
    ids = {name: publish(client, runtime, token, title=f"Trending test: {name}") for name in HOURS}
    likers = [register(client, email=f"liker{n}@example.org")["key"]["token"] for n in range(3)]
    for liker in likers:
        liked = client.put(f"/api/v1/submissions/{ids['old_popular']}/like", headers=auth(liker))
        assert liked.status_code == 200, liked.text
    assert (
        client.put(f"/api/v1/submissions/{ids['outside']}/like", headers=auth(likers[0])).status_code == 200
    )
    posted = client.post(
        f"/api/v1/submissions/{ids['commented']}/comments", headers=auth(likers[1]), json={"body": "Why?"}
    )
    assert posted.status_code == 201, posted.text
    # Two completed reviews count; a failed attempt does not.
    _review(runtime, ids["reviewed"], ("completed", "single"), ("completed", "meta"), ("failed", "single"))
    now = datetime.now(UTC)
    _published_hours_ago(runtime, ids, now)
    return ids, now


def _last_week(now: datetime) -> trending.Window:
    return trending.Window(now - timedelta(days=7), now + timedelta(seconds=1), "last 7 days")


def test_the_database_ranks_by_the_documented_score(runtime: Any, ranked_items: Any) -> None:
    ids, now = ranked_items
    constants = TrendingSettings()
    with runtime.read_sessions() as session:
        ranked = trending.daily_papers(
            session, constants, span=_last_week(now), sort="trending", now=now, limit=100
        )
        by_id = {e.identifier: e.submission_id for e in (r.entry for r in ranked)}
        # The community's own counts, and the reviews as the read model counted them.
        community_counts = community.engagement_counts(session, list(by_id.values()))
        counts = {
            r.entry.submission_id: Engagement(
                likes=community_counts[r.entry.submission_id].likes,
                comments=community_counts[r.entry.submission_id].comments,
                reviews=r.entry.completed_reviews,
            )
            for r in ranked
        }

    assert set(by_id) == set(ids.values()) - {ids["outside"]}  # published 8 days ago
    reviewed = next(r for r in ranked if r.entry.identifier == ids["reviewed"])
    assert reviewed.entry.completed_reviews == 2 and reviewed.engagement.reviews == 2
    popular = next(r for r in ranked if r.entry.identifier == ids["old_popular"])
    assert popular.engagement.likes == popular.entry.likes == 3
    commented = next(r for r in ranked if r.entry.identifier == ids["commented"])
    assert commented.engagement.comments == commented.entry.comments == 1

    names = {identifier: name for name, identifier in ids.items()}
    expected = {
        name: trending.trending_score(counts[by_id[ids[name]]], HOURS[name], constants)
        for name in HOURS
        if name != "outside"
    }
    assert [names[r.entry.identifier] for r in ranked] == sorted(
        expected, key=expected.__getitem__, reverse=True
    )
    for row in ranked:
        assert row.score == pytest.approx(expected[names[row.entry.identifier]], rel=1e-6)
    # The numbers are the formula's, written out.
    assert expected["reviewed"] == pytest.approx((1 + 0.5 * 2) / (5 + 12) ** 1.5)
    assert expected["old_popular"] == pytest.approx((1 + 3) / (72 + 12) ** 1.5)


def test_pages_and_constants_reach_the_query(runtime: Any, ranked_items: Any) -> None:
    ids, now = ranked_items
    window = _last_week(now)
    with runtime.read_sessions() as session:
        everything = trending.daily_papers(
            session, TrendingSettings(), span=window, sort="trending", now=now, limit=100
        )
        second_page = trending.daily_papers(
            session, TrendingSettings(), span=window, sort="trending", now=now, page=1, limit=2
        )
        # A page and one more (the home page's "next page?"): the page starts where it did.
        peeking = trending.daily_papers(
            session, TrendingSettings(), span=window, sort="trending", now=now, page=1, limit=1, look_ahead=1
        )
        # Almost no decay: engagement alone orders, and the three likes win.
        flat = trending.daily_papers(
            session, TrendingSettings(gravity=0.01), span=window, sort="trending", now=now, limit=100
        )
        # Comments weigh nothing and reviews a lot: the reviewed item leads.
        reviews_first = trending.daily_papers(
            session,
            TrendingSettings(comment_weight=0, review_weight=50),
            span=window,
            sort="trending",
            now=now,
            limit=100,
        )
    assert [r.entry.identifier for r in second_page] == [r.entry.identifier for r in everything[2:4]]
    assert [r.entry.identifier for r in peeking] == [r.entry.identifier for r in everything[1:3]]
    assert everything[0].entry.identifier == ids["commented"]  # 3 points at 10 h beat 1 at 30 min
    assert flat[0].entry.identifier == ids["old_popular"]
    assert reviews_first[0].entry.identifier == ids["reviewed"]


def test_a_hidden_item_leaves_trending(client: Any, runtime: Any, ranked_items: Any) -> None:
    from tests.community.conftest import make_moderator

    ids, now = ranked_items
    _, moderator = make_moderator(client, runtime)
    hidden = client.post(
        "/api/v1/moderation/actions",
        headers=auth(moderator),
        json={"submission": ids["fresh"], "action": "hide", "reason": "duplicate"},
    )
    assert hidden.status_code == 201, hidden.text
    with runtime.read_sessions() as session:
        ranked = trending.daily_papers(
            session, TrendingSettings(), span=_last_week(now), sort="trending", now=now, limit=100
        )
    assert ids["fresh"] not in {r.entry.identifier for r in ranked} and len(ranked) == 3


def test_the_rows_counts_follow_likes_and_comments(client: Any, runtime: Any, ranked_items: Any) -> None:
    from tests.community.conftest import make_moderator

    ids, _ = ranked_items
    _, moderator = make_moderator(client, runtime)
    reader = register(client, email="reader@example.org")["key"]["token"]

    def counts(name: str) -> tuple[int, int]:
        with runtime.read_sessions() as session:
            entry = session.scalar(select(DiscoveryEntry).where(DiscoveryEntry.identifier == ids[name]))
            assert entry is not None
            return entry.likes, entry.comments

    assert counts("old_popular") == (3, 0)
    assert (
        client.put(f"/api/v1/submissions/{ids['old_popular']}/like", headers=auth(reader)).status_code == 200
    )
    assert counts("old_popular") == (4, 0)
    assert (
        client.delete(f"/api/v1/submissions/{ids['old_popular']}/like", headers=auth(reader)).status_code
        == 200
    )
    assert counts("old_popular") == (3, 0)
    posted = client.post(
        f"/api/v1/submissions/{ids['fresh']}/comments", headers=auth(reader), json={"body": "First."}
    ).json()
    assert counts("fresh") == (0, 1)
    hidden = client.post(
        "/api/v1/moderation/actions",
        headers=auth(moderator),
        json={"comment_id": posted["id"], "action": "hide", "reason": "off topic"},
    )
    assert hidden.status_code == 201, hidden.text
    assert counts("fresh") == (0, 0)


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_sqlite_built_without_math_functions_gets_pythons_power(
    runtime: Any, ranked_items: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openxiv.discovery import repository as discovery_repository

    _, now = ranked_items
    with runtime.read_sessions() as session:
        built_in = trending.daily_papers(
            session, TrendingSettings(), span=_last_week(now), sort="trending", now=now
        )
    calls: list[tuple[float, float]] = []

    def counted_pow(base: float, exponent: float) -> float:
        calls.append((base, exponent))
        return math.pow(base, exponent)

    monkeypatch.setattr(discovery_repository, "_SQLITE_MATH", False)
    monkeypatch.setattr(discovery_repository, "math", SimpleNamespace(pow=counted_pow))
    with runtime.read_sessions() as session:
        fallback = trending.daily_papers(
            session, TrendingSettings(), span=_last_week(now), sort="trending", now=now
        )
    assert [(r.entry.identifier, pytest.approx(r.score)) for r in fallback] == [
        (r.entry.identifier, r.score) for r in built_in
    ]
    assert len(calls) >= len(built_in) == 4  # the query called Python's power once per candidate
