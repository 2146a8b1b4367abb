"""Caps against spam: counted in the database, so they hold for two app instances (two server
processes' worth of state) sharing one database, even when both write at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from openxiv.app import create_app
from openxiv.community.settings import CommunitySettings
from openxiv.config import Settings
from openxiv.db import transaction
from openxiv.models import Account
from openxiv.models.base import utcnow
from openxiv.models.community import Comment
from openxiv.runtime import Runtime
from tests.community.conftest import new_item
from tests.core.helpers import auth, register

ROOMY = {
    "comments_per_hour": 1000,
    "comments_per_item_per_hour": 1000,
    "new_account_comments_per_hour": 1000,
    "reports_per_hour": 1000,
}


@pytest.fixture
def instances(settings: Settings, engine: Any) -> Iterator[Any]:
    """Build two apps with the given caps over the test database; yields (clients, runtime)."""
    stack = ExitStack()

    def build(**caps: int) -> tuple[list[TestClient], Runtime]:
        tight = settings.model_copy(update={"community": CommunitySettings(**{**ROOMY, **caps})})
        clients, runtimes = [], []
        for _ in range(2):
            runtime = Runtime(tight)
            stack.callback(runtime.close)
            clients.append(stack.enter_context(TestClient(create_app(tight, runtime))))
            runtimes.append(runtime)
        return clients, runtimes[0]

    yield build
    stack.close()


def _post(client: TestClient, token: str, item: str, body: str = "hello") -> Any:
    return client.post(f"/api/v1/submissions/{item}/comments", headers=auth(token), json={"body": body})


def test_the_hourly_cap_holds_across_two_app_instances(instances: Any) -> None:
    (a, b), _ = instances(comments_per_hour=4)
    token = register(a, email="flood@example.org")["key"]["token"]
    item = new_item(a, token)
    statuses = [_post(client, token, item).status_code for client in (a, b, a, b)]
    assert statuses == [201, 201, 201, 201]
    for client in (a, b):
        refused = _post(client, token, item)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
        assert "at most 4 per hour" in refused.json()["detail"]
    other = register(b, email="calm@example.org")["key"]["token"]
    assert _post(b, other, item).status_code == 201  # the cap is per account


def test_concurrent_floods_through_both_instances_stop_at_the_cap(instances: Any) -> None:
    (a, b), _ = instances(comments_per_hour=5)
    token = register(a, email="burst@example.org")["key"]["token"]
    item = new_item(a, token)
    results: list[int] = []
    lock = threading.Lock()

    def flood(client: TestClient) -> None:
        for n in range(6):
            code = _post(client, token, item, f"burst {n}").status_code
            with lock:
                results.append(code)

    threads = [threading.Thread(target=flood, args=(c,)) for c in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] * 5 + [429] * 7


def test_per_item_and_new_account_caps(instances: Any) -> None:
    (a, b), runtime = instances(
        comments_per_item_per_hour=2, new_account_comments_per_hour=3, comments_per_hour=10
    )
    owner = register(a, email="o@example.org")
    token = owner["key"]["token"]
    first, second = new_item(a, token), new_item(a, token)
    assert [_post(a, token, first).status_code for _ in range(2)] == [201, 201]
    same_item = _post(b, token, first)
    assert same_item.status_code == 429 and "on one item" in same_item.json()["detail"]
    assert _post(b, token, second).status_code == 201
    new_cap = _post(a, token, second)  # the fourth in an hour from a day-old account
    assert new_cap.status_code == 429 and "new account" in new_cap.json()["detail"]
    with transaction(runtime.write_sessions) as session:
        session.execute(
            update(Account)
            .where(Account.id == owner["account"]["id"])
            .values(created_at=utcnow() - timedelta(days=2))
        )
    assert _post(a, token, second).status_code == 201  # an established account has the wider cap


def test_retry_after_says_when_the_oldest_comment_leaves_the_window(instances: Any) -> None:
    (a, _b), runtime = instances(comments_per_hour=2)
    token = register(a, email="wait@example.org")["key"]["token"]
    item = new_item(a, token)
    _post(a, token, item)
    _post(a, token, item)
    with transaction(runtime.write_sessions) as session:
        session.execute(update(Comment).values(created_at=utcnow() - timedelta(minutes=59, seconds=50)))
    refused = _post(a, token, item)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 11
    with transaction(runtime.write_sessions) as session:
        session.execute(update(Comment).values(created_at=utcnow() - timedelta(hours=1, seconds=1)))
    assert _post(a, token, item).status_code == 201


def test_reports_are_capped(instances: Any) -> None:
    (a, b), _ = instances(reports_per_hour=2)
    author = register(a, email="author@example.org")["key"]["token"]
    reporter = register(a, email="reporter@example.org")["key"]["token"]
    item = new_item(a, author)
    ids = [_post(a, author, item, f"comment {n}").json()["id"] for n in range(3)]
    codes = [
        client.post(
            f"/api/v1/comments/{i}/reports", headers=auth(reporter), json={"category": "spam"}
        ).status_code
        for client, i in zip((a, b, a), ids, strict=True)
    ]
    assert codes == [201, 201, 429]


def test_likes_are_capped_but_a_repeated_like_costs_nothing(instances: Any) -> None:
    (a, b), _ = instances(likes_per_hour=2)
    author = register(a, email="liked@example.org")["key"]["token"]
    fan = register(a, email="fan@example.org")["key"]["token"]
    items = [new_item(a, author) for _ in range(3)]
    codes = [
        client.put(f"/api/v1/submissions/{i}/like", headers=auth(fan)).status_code
        for client, i in zip((a, b, a), items, strict=True)
    ]
    assert codes == [200, 200, 429]
    # liking an item already liked writes nothing, so the cap does not refuse it
    assert b.put(f"/api/v1/submissions/{items[0]}/like", headers=auth(fan)).status_code == 200
