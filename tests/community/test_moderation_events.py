"""Hides, restores and appeal decisions are events: recorded in the outbox with the act, read
from the event stream like every other event, and without the reason (events reach everyone who
may see the item; the reason is for the author and moderators)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from openxiv.events import types
from openxiv.models import Event
from tests.community.conftest import People, appeal, comment, decide_appeal, moderate


def _act(client: Any, people: People, **body: Any) -> Any:
    acted = moderate(client, people, **body)
    assert acted.status_code == 201, acted.text
    return acted.json()


def _moderation_events(runtime: Any) -> list[Event]:
    with runtime.read_sessions() as session:
        return list(session.scalars(select(Event).where(Event.type.like("moderation.%")).order_by(Event.id)))


def test_hide_restore_and_appeal_decisions_are_events(client: Any, people: People, runtime: Any) -> None:
    rude = comment(client, people, "stranger", "Spam spam spam").json()
    hide = _act(client, people, action="hide", comment_id=rude["id"], reason="Advertising, not discussion")
    appealed = appeal(client, people, hide["id"], "stranger", "It was a joke.")
    assert appealed.status_code == 201, appealed.text
    granted = decide_appeal(client, people, appealed.json()["id"], "grant", "Fine, restored.")
    assert granted.status_code == 200, granted.text
    item_hide = _act(client, people, action="hide", submission=people.item, reason="Copied")
    item_restore = _act(client, people, action="restore", submission=people.item, reason="Not copied")
    # Dismissing reports changes nothing anyone sees: no event.
    client.post(
        f"/api/v1/submissions/{people.item}/reports", headers=people.h("stranger"), json={"category": "spam"}
    )
    _act(client, people, action="dismiss", submission=people.item, reason="Not spam")

    recorded = _moderation_events(runtime)
    assert [e.type for e in recorded] == [
        types.MODERATION_HIDDEN,
        types.MODERATION_RESTORED,
        types.APPEAL_DECIDED,
        types.MODERATION_HIDDEN,
        types.MODERATION_RESTORED,
    ]
    hidden, restored, decided, item_hidden, item_restored = recorded
    comment_target = f"comment:{rude['id']}"
    assert hidden.payload == {"target": comment_target, "comment_id": rude["id"], "action_id": hide["id"]}
    assert restored.payload["target"] == comment_target and restored.payload["hide_action_id"] == hide["id"]
    assert restored.payload["appeal_id"] == appealed.json()["id"]
    assert decided.payload == {
        "target": comment_target,
        "comment_id": rude["id"],
        "appeal_id": appealed.json()["id"],
        "decision": "granted",
        "hide_action_id": hide["id"],
    }
    assert item_hidden.payload == {
        "target": item_hide["target"],
        "comment_id": None,
        "action_id": item_hide["id"],
    }
    assert (
        item_restored.payload["action_id"] == item_restore["id"]
        and item_restored.payload["appeal_id"] is None
    )
    assert {e.submission_id for e in recorded} == {hidden.submission_id} and hidden.version_number == 1
    for event in recorded:
        assert "reason" not in event.payload
        assert not {"Advertising", "Copied", "Not copied", "Fine"} & set(json.dumps(event.payload).split())

    # The stream carries them (the owner's key: events about the owner's item).
    stream = client.get(
        "/api/v1/events",
        params={"after": 0, "timeout": 1, "type": "moderation.*"},
        headers=people.h("owner"),
    )
    assert stream.status_code == 200, stream.text
    names = [line.removeprefix("event: ") for line in stream.text.splitlines() if line.startswith("event: ")]
    assert names == [e.type for e in recorded]


def test_a_denied_appeal_is_an_event_and_the_content_stays_hidden(
    client: Any, people: People, runtime: Any
) -> None:
    rude = comment(client, people, "stranger", "Rude words").json()
    hide = _act(client, people, action="hide", comment_id=rude["id"], reason="Rude")
    appealed = appeal(client, people, hide["id"], "stranger", "Please.").json()
    denied = decide_appeal(client, people, appealed["id"], "deny", "Still rude.")
    assert denied.status_code == 200, denied.text
    recorded = _moderation_events(runtime)
    assert [e.type for e in recorded] == [types.MODERATION_HIDDEN, types.APPEAL_DECIDED]
    assert recorded[1].payload["decision"] == "denied"
