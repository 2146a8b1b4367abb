"""Identifiers and revisions under real concurrency (threads, separate connections)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from openxiv.db import transaction
from openxiv.submissions.identifiers import allocate_identifier, parse_identifier
from tests.core.helpers import auth, paper_body, register, version_body


def test_identifiers_are_unique_and_sequential_under_concurrency(session_factory: Any) -> None:
    when = datetime(2026, 11, 26, tzinfo=UTC)
    barrier = threading.Barrier(16)

    def take(_: int) -> list[str]:
        barrier.wait()
        taken = []
        for _ in range(10):
            with transaction(session_factory) as session:
                taken.append(allocate_identifier(session, when))
        return taken

    with ThreadPoolExecutor(16) as pool:
        ids = [i for batch in pool.map(take, range(16)) for i in batch]
    assert len(ids) == len(set(ids)) == 160
    assert sorted(ids) == [f"2611.{n:05d}" for n in range(1, 161)]
    with transaction(session_factory) as session:
        assert allocate_identifier(session, datetime(2026, 12, 1, tzinfo=UTC)) == "2612.00001"


def test_a_rolled_back_transaction_does_not_burn_a_number(session_factory: Any) -> None:
    when = datetime(2027, 1, 5, tzinfo=UTC)
    try:
        with transaction(session_factory) as session:
            allocate_identifier(session, when)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with transaction(session_factory) as session:
        assert allocate_identifier(session, when) == "2701.00001"


def test_parse_identifier() -> None:
    assert parse_identifier("2611.00042") == ("2611.00042", None)
    assert parse_identifier("2611.00042v12") == ("2611.00042", 12)


def test_two_revisions_at_the_same_moment_exactly_one_wins(client: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    # Revisable, so a refusal below can only come from the race.
    assert client.get(f"/api/v1/submissions/{item['id']}").json()["status"] == "under_review"
    barrier = threading.Barrier(2)

    def revise(letter: str) -> Any:
        barrier.wait()
        return client.post(
            f"/api/v1/submissions/{item['id']}/versions",
            headers=auth(token),
            # Both revise v1: the loser must be told that v2 now exists, not slip in as v3.
            json=version_body(response_letter=letter, title=f"Revision {letter}", base_version=1),
        )

    with ThreadPoolExecutor(2) as pool:
        responses = sorted(pool.map(revise, ["A", "B"]), key=lambda r: r.status_code)
    assert [r.status_code for r in responses] == [201, 409]
    loser = responses[1].json()
    assert loser["type"] == "urn:openxiv:problem:conflict", loser  # a stale base, not a lifecycle refusal
    assert "v2" in loser["detail"] or "same moment" in loser["detail"]
    final = client.get(f"/api/v1/submissions/{item['id']}").json()
    assert final["latest_version"] == 2
    assert client.get(f"/api/v1/submissions/{item['id']}v3").status_code == 404


def test_concurrent_creates_give_distinct_ids(client: Any) -> None:
    token = register(client)["key"]["token"]

    def create(index: int) -> Any:
        return client.post(
            "/api/v1/submissions", headers=auth(token), json=paper_body(title=f"Paper {index}")
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(create, range(24)))
    assert [r.status_code for r in responses] == [201] * 24
    assert len({r.json()["id"] for r in responses}) == 24
