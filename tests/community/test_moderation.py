"""Moderation beyond screening: reports reach one queue beside the screening holds; a moderator
hides with a reason the author reads; the author appeals once; the moderator restores; every
act is logged with its actor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from openxiv.db import transaction
from openxiv.models import Submission
from openxiv.models.community import ModerationAction
from openxiv.submissions.lifecycle import Status
from tests.community.conftest import People, appeal, comment, decide_appeal, moderate, new_item


def _held_item(client: Any, people: People, runtime: Any) -> str:
    identifier = new_item(client, people.tokens["owner"], title="A held paper")
    with transaction(runtime.write_sessions) as session:
        session.execute(
            update(Submission).where(Submission.identifier == identifier).values(status=Status.HELD.value)
        )
    return identifier


def test_report_queue_hide_notice_appeal_restore(client: Any, people: People, runtime: Any) -> None:
    rude = comment(client, people, "stranger", "You are all frauds, buy pills at spam.example").json()
    held = _held_item(client, people, runtime)

    filed = client.post(
        f"/api/v1/comments/{rude['id']}/reports",
        headers=people.h("owner"),
        json={"category": "harassment", "detail": "insults the authors"},
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "open" and filed.json()["target"] == f"comment:{rude['id']}"
    again = client.post(
        f"/api/v1/comments/{rude['id']}/reports", headers=people.h("owner"), json={"category": "spam"}
    )
    assert again.status_code == 200 and again.json()["id"] == filed.json()["id"]  # one open report each
    by_agent = client.post(
        f"/api/v1/comments/{rude['id']}/reports", headers=people.h("agent"), json={"category": "spam"}
    )
    assert by_agent.status_code == 200  # the agent's owner already reported it: one per account
    item_report = client.post(
        f"/api/v1/submissions/{people.item}/reports",
        headers=people.h("stranger"),
        json={"category": "plagiarism", "detail": "copies arXiv:1706.03762"},
    )
    assert item_report.status_code == 201
    other = client.post(
        f"/api/v1/submissions/{people.item}/reports", headers=people.h("stranger"), json={"category": "other"}
    )
    assert other.status_code == 422 and "detail must not be empty" in other.json()["detail"]
    assert (
        client.post(
            f"/api/v1/comments/{rude['id']}/reports",
            headers=people.h("stranger"),
            json={"category": "nonsense"},
        ).status_code
        == 422
    )

    # One queue: the reported comment, the reported item, the held version -- oldest first.
    queue = client.get("/api/v1/moderation/queue", headers=people.h("moderator"))
    assert queue.status_code == 200, queue.text
    entries = queue.json()
    kinds = [(e["kind"], e["target"]) for e in entries]
    assert ("reports", f"comment:{rude['id']}") in kinds
    assert any(k == "reports" and t and t.startswith("submission:") for k, t in kinds)
    assert ("held", None) in kinds
    held_entry = next(e for e in entries if e["kind"] == "held")
    assert held_entry["submission"]["id"] == held and held_entry["held"]["version"] == 1
    reported = next(e for e in entries if e["target"] == f"comment:{rude['id']}")
    assert reported["comment"]["body"].startswith("You are all frauds")
    assert [r["category"] for r in reported["reports"]] == ["harassment"]
    assert [e["since"] for e in entries] == sorted(e["since"] for e in entries)
    only_held = client.get("/api/v1/moderation/queue", params={"kind": "held"}, headers=people.h("moderator"))
    assert [e["kind"] for e in only_held.json()] == ["held"]
    # the old screening queue still answers
    assert [
        h["submission"]["id"]
        for h in client.get("/api/v1/moderation/held", headers=people.h("moderator")).json()
    ] == [held]

    # Hide with a reason.
    assert (
        moderate(client, people, "owner", action="hide", comment_id=rude["id"], reason="x").status_code == 403
    )
    hidden = moderate(
        client, people, action="hide", comment_id=rude["id"], reason="Insults and spam links (rule 2)"
    )
    assert hidden.status_code == 201, hidden.text
    hide_id = hidden.json()["id"]
    assert hidden.json()["actor"]["account_id"] == people.account_ids["moderator"]
    assert moderate(client, people, action="hide", comment_id=rude["id"], reason="again").status_code == 409
    public = client.get(f"/api/v1/comments/{rude['id']}").json()
    assert public["hidden"] is True and public["body"] is None and public["hidden_reason"] is None
    seen_by_author = client.get(f"/api/v1/comments/{rude['id']}", headers=people.h("stranger")).json()
    assert seen_by_author["body"].startswith("You are all frauds")
    assert seen_by_author["hidden_reason"] == "Insults and spam links (rule 2)"
    notices = client.get("/api/v1/moderation/notices", headers=people.h("stranger")).json()
    assert [(n["action_id"], n["reason"], n["appeal"]) for n in notices] == [
        (hide_id, "Insults and spam links (rule 2)", None)
    ]
    assert client.get("/api/v1/moderation/notices", headers=people.h("owner")).json() == []
    # the report was acted on, so the comment left the queue
    queue = client.get("/api/v1/moderation/queue", headers=people.h("moderator")).json()
    assert f"comment:{rude['id']}" not in [e["target"] for e in queue]

    # Appeal: only the author, once at a time.
    assert appeal(client, people, hide_id, "owner", "x").status_code == 403
    appealed = appeal(client, people, hide_id, "stranger", "The link was a joke; I removed it.")
    assert appealed.status_code == 201, appealed.text
    assert appealed.json()["status"] == "open"
    assert appeal(client, people, hide_id, "stranger", "again").status_code == 409
    queue = client.get("/api/v1/moderation/queue", headers=people.h("moderator")).json()
    appeal_entry = next(e for e in queue if e["kind"] == "appeal")
    assert appeal_entry["appeal"]["id"] == appealed.json()["id"]
    assert appeal_entry["appealed_action"]["id"] == hide_id

    decision_url = f"/api/v1/moderation/appeals/{appealed.json()['id']}/decision"
    assert (
        client.post(
            decision_url, headers=people.h("stranger"), json={"decision": "grant", "reason": "me"}
        ).status_code
        == 403
    )
    granted = decide_appeal(client, people, appealed.json()["id"], "grant", "Fair; restored.")
    assert granted.status_code == 200, granted.text
    assert granted.json()["status"] == "granted" and granted.json()["resolution"] == "Fair; restored."
    assert decide_appeal(client, people, appealed.json()["id"], "deny", "late").status_code == 409
    restored = client.get(f"/api/v1/comments/{rude['id']}").json()
    assert restored["hidden"] is False and restored["body"] is not None
    assert client.get("/api/v1/moderation/notices", headers=people.h("stranger")).json() == []
    # a restored comment's hide can no longer be appealed
    assert appeal(client, people, hide_id, "stranger", "more").status_code == 409

    # The log: every act, with its actor.
    log = client.get(
        "/api/v1/moderation/actions", params={"comment_id": rude["id"]}, headers=people.h("moderator")
    ).json()["items"]
    assert [a["action"] for a in log] == ["appeal_granted", "restore", "appeal", "hide", "report"]
    actors = {a["action"]: a["actor"]["account_id"] for a in log}
    assert actors["report"] == people.account_ids["owner"]
    assert actors["appeal"] == people.account_ids["stranger"]
    assert actors["hide"] == actors["restore"] == actors["appeal_granted"] == people.account_ids["moderator"]
    assert client.get("/api/v1/moderation/actions", headers=people.h("stranger")).status_code == 403


def test_a_hidden_item_closes_to_the_public_and_a_denied_appeal_keeps_it_hidden(
    client: Any, people: People, runtime: Any
) -> None:
    top = comment(client, people, "stranger", "Nice").json()
    hidden = moderate(
        client, people, action="hide", submission=people.item, reason="Copied from another paper"
    )
    assert hidden.status_code == 201, hidden.text
    assert client.get(f"/api/v1/submissions/{people.item}/comments").status_code == 404
    # the item itself, its files and the listings close too; its owner and moderators still see it
    assert client.get(f"/api/v1/submissions/{people.item}").status_code == 404
    assert client.get(f"/api/v1/submissions/{people.item}v1/text").status_code == 404
    assert client.get(f"/abs/{people.item}").status_code == 404
    listed = {item["id"] for item in client.get("/api/v1/submissions").json()["items"]}
    assert people.item not in listed
    assert client.get(f"/api/v1/submissions/{people.item}", headers=people.h("owner")).status_code == 200
    assert client.get(f"/api/v1/submissions/{people.item}", headers=people.h("moderator")).status_code == 200
    owner_listed = client.get("/api/v1/submissions", headers=people.h("owner")).json()["items"]
    assert people.item in {item["id"] for item in owner_listed}
    assert client.get(f"/api/v1/comments/{top['id']}").status_code == 404
    assert client.get(f"/api/v1/submissions/{people.item}/like").status_code == 404
    assert (
        client.put(f"/api/v1/submissions/{people.item}/like", headers=people.h("stranger")).status_code == 404
    )
    # its owner still sees it, and why, but it takes no new comments or likes
    assert (
        client.get(f"/api/v1/submissions/{people.item}/comments", headers=people.h("owner")).status_code
        == 200
    )
    assert comment(client, people, "owner", "Please look again").status_code == 409
    notices = client.get("/api/v1/moderation/notices", headers=people.h("owner")).json()
    assert (
        notices[0]["target"].startswith("submission:") and notices[0]["reason"] == "Copied from another paper"
    )
    # the owner's agent acts for the owner's account
    appealed = appeal(client, people, hidden.json()["id"], "agent", "It is our own earlier work.")
    assert appealed.status_code == 201, appealed.text
    denied = decide_appeal(client, people, appealed.json()["id"], "deny", "Different authors.")
    assert denied.json()["status"] == "denied"
    assert client.get(f"/api/v1/submissions/{people.item}/comments").status_code == 404
    notice = client.get("/api/v1/moderation/notices", headers=people.h("owner")).json()[0]
    assert notice["appeal"]["status"] == "denied" and notice["appeal"]["resolution"] == "Different authors."
    # a fresh appeal after a denial is allowed (one *open* appeal per action)
    second = appeal(client, people, hidden.json()["id"], "owner", "New evidence: the earlier paper lists me.")
    assert second.status_code == 201
    # a direct restore settles the open appeal
    restored = moderate(
        client, people, action="restore", submission=people.item, reason="Authorship confirmed"
    )
    assert restored.status_code == 201
    assert client.get(f"/api/v1/submissions/{people.item}/comments").status_code == 200
    assert client.get(f"/api/v1/submissions/{people.item}").status_code == 200
    assert (
        moderate(client, people, action="restore", submission=people.item, reason="again").status_code == 409
    )
    notices = client.get("/api/v1/moderation/notices", headers=people.h("owner")).json()
    assert notices == []
    with transaction(runtime.read_sessions) as session:
        logged = session.scalars(select(ModerationAction.action).order_by(ModerationAction.id)).all()
    assert logged == ["hide", "appeal", "appeal_denied", "appeal", "restore"]


def test_dismissing_reports_and_who_may_moderate(client: Any, people: People) -> None:
    assert (
        moderate(client, people, action="dismiss", submission=people.item, reason="nothing open").status_code
        == 409
    )
    client.post(
        f"/api/v1/submissions/{people.item}/reports", headers=people.h("stranger"), json={"category": "spam"}
    )
    assert (
        moderate(client, people, "stranger", action="dismiss", submission=people.item, reason="x").status_code
        == 403
    )
    dismissed = moderate(
        client, people, action="dismiss", submission=people.item, reason="Not spam: a real paper"
    )
    assert dismissed.status_code == 201
    queue = client.get("/api/v1/moderation/queue", params={"kind": "reports"}, headers=people.h("moderator"))
    assert queue.json() == []
    both = moderate(client, people, action="hide", submission=people.item, comment_id=1, reason="x")
    assert both.status_code == 422
    assert client.get("/api/v1/moderation/queue", headers=people.h("stranger")).status_code == 403
    assert client.get("/api/v1/moderation/queue").status_code == 401
