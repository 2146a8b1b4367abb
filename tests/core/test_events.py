"""Events: written in the transaction that made the change, handed to subscriber jobs once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from openxiv.db import make_session_factory, transaction
from openxiv.events import types
from openxiv.models import Event
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.service import SystemActor, transition
from tests.core.helpers import auth, paper_body, register


def events_of(runtime: Any, identifier: str) -> list[Event]:
    with runtime.read_sessions() as session:
        submission = repository.by_identifier(session, identifier)
        assert submission is not None
        return list(
            session.scalars(select(Event).where(Event.submission_id == submission.id).order_by(Event.id))
        )


def test_the_pipeline_announces_each_step_in_order(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    seen = [
        (event.type, event.payload.get("status") or event.payload.get("stage"))
        for event in events_of(runtime, item["id"])
    ]
    # Review is disabled in the test settings: screening passes, then the pipeline waits.
    assert seen == [
        (types.STATUS_CHANGED, "submitted"),
        (types.STATUS_CHANGED, "screening"),
        (types.VERSION_SCREENED, "screening"),
        (types.STATUS_CHANGED, "under_review"),
    ]
    every = events_of(runtime, item["id"])
    assert all(event.dispatched_at is not None for event in every)
    assert {event.version_number for event in every} == {1}
    assert every[0].payload["previous"] is None and every[1].payload["previous"] == "submitted"


def test_a_rolled_back_change_announces_nothing(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    before = len(events_of(runtime, item["id"]))
    with pytest.raises(RuntimeError), transaction(runtime.write_sessions) as session:
        submission = repository.by_identifier(session, item["id"])
        assert submission is not None
        transition(session, submission, Status.WITHDRAWN, SystemActor("test"), "changed my mind")
        raise RuntimeError("abort")
    assert len(events_of(runtime, item["id"])) == before


def test_events_committed_without_a_dispatcher_are_handed_out_later_and_once(
    client: Any, runtime: Any
) -> None:
    """A command-line session (no sink) publishes; the next dispatch indexes it, a second does not."""
    token = register(client)["key"]["token"]
    item = client.post(
        "/api/v1/submissions", headers=auth(token), json=paper_body(title="Sparse routing in tiny mixtures")
    ).json()
    plain = make_session_factory(runtime.engine, write=True)
    with transaction(plain) as session:
        submission = repository.by_identifier(session, item["id"])
        assert submission is not None
        transition(session, submission, Status.PROVISIONALLY_ACCEPTED, SystemActor("test"), "accepted")
    query = {"q": "sparse routing tiny mixtures"}
    assert client.get("/api/v1/literature/search", params=query).json()["hits"] == []
    assert events_of(runtime, item["id"])[-1].dispatched_at is None

    assert runtime.dispatch_events() == 1
    hits = client.get("/api/v1/literature/search", params=query).json()["hits"]
    assert [hit["title"] for hit in hits] == ["Sparse routing in tiny mixtures"]
    assert runtime.dispatch_events() == 0


def test_indexing_skips_an_item_that_left_the_published_statuses(client: Any, runtime: Any) -> None:
    from openxiv.literature.jobs import index_published_version

    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    plain = make_session_factory(runtime.engine, write=True)
    with transaction(plain) as session:
        submission = repository.by_identifier(session, item["id"])
        assert submission is not None
        transition(session, submission, Status.PROVISIONALLY_ACCEPTED, SystemActor("test"), "accepted")
        transition(session, submission, Status.WITHDRAWN, SystemActor("test"), "withdrawn at once")
    published = next(
        e for e in events_of(runtime, item["id"]) if e.payload.get("status") == "provisionally_accepted"
    )
    assert index_published_version(runtime.write_sessions, {"event_id": published.id}) is False
    assert index_published_version(runtime.write_sessions, {"event_id": 10**9}) is False
