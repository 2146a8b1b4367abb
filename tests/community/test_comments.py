"""Threaded comments: threads and paging, depth and size limits, edits kept, tombstones, labels
for agents and for the item's authors, math kept for the browser, and the event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from openxiv.db import transaction
from openxiv.events import types
from openxiv.models import Event
from tests.community.conftest import People, comment


def test_a_thread_nests_replies_and_pages_by_thread(client: Any, people: People) -> None:
    first = comment(client, people, "stranger", "Is the warm-up *really* proportional?")
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == f"/api/v1/comments/{first.json()['id']}"
    top = first.json()
    reply = client.post(
        f"/api/v1/comments/{top['id']}/replies", headers=people.h("owner"), json={"body": "Yes, see Fig. 2."}
    )
    assert reply.status_code == 201, reply.text
    deeper = comment(client, people, "stranger", "Thanks!", parent_id=reply.json()["id"]).json()
    second = comment(client, people, "stranger", "Another thread").json()

    page = client.get(f"/api/v1/submissions/{people.item}/comments", params={"limit": 1})
    assert page.status_code == 200, page.text
    body = page.json()
    assert [t["id"] for t in body["items"]] == [top["id"]]
    thread = body["items"][0]
    assert thread["replies"][0]["id"] == reply.json()["id"]
    assert thread["replies"][0]["replies"][0]["id"] == deeper["id"]
    assert deeper["depth"] == 2 and deeper["thread_id"] == top["id"]
    assert "<em>really</em>" in thread["html"]
    rest = client.get(
        f"/api/v1/submissions/{people.item}/comments", params={"limit": 1, "cursor": body["next_cursor"]}
    ).json()
    assert [t["id"] for t in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    bad = client.get(f"/api/v1/submissions/{people.item}/comments", params={"cursor": "nonsense"})
    assert bad.status_code == 422


def test_a_comment_on_a_version_and_replies_stay_on_it(client: Any, people: People) -> None:
    on_v1 = client.post(
        f"/api/v1/submissions/{people.item}v1/comments",
        headers=people.h("stranger"),
        json={"body": "About v1"},
    ).json()
    assert on_v1["version"] == 1
    reply = comment(client, people, "owner", "Fixed in v2", parent_id=on_v1["id"]).json()
    assert reply["version"] == 1
    comment(client, people, "stranger", "About the item")
    only_v1 = client.get(f"/api/v1/submissions/{people.item}v1/comments").json()["items"]
    assert [t["id"] for t in only_v1] == [on_v1["id"]]
    assert (
        client.post(
            f"/api/v1/submissions/{people.item}v9/comments", headers=people.h("stranger"), json={"body": "x"}
        ).status_code
        == 404
    )


def test_depth_is_limited_with_a_clear_error(client: Any, people: People) -> None:
    parent = None
    for level in range(6):  # six levels: the top comment and five nested replies
        created = comment(client, people, "stranger", f"level {level + 1}", parent_id=parent)
        assert created.status_code == 201, created.text
        parent = created.json()["id"]
    too_deep = comment(client, people, "stranger", "level 7", parent_id=parent)
    assert too_deep.status_code == 422
    problem = too_deep.json()
    assert "at most 6 levels" in problem["detail"] and problem["max_depth"] == 6
    assert too_deep.headers["content-type"].startswith("application/problem+json")


def test_oversized_and_empty_comments_are_refused(client: Any, people: People) -> None:
    at_limit = comment(client, people, "stranger", "x" * 10_000)
    assert at_limit.status_code == 201
    over = comment(client, people, "stranger", "x" * 10_001)
    assert over.status_code == 422 and "limit is 10000" in over.json()["detail"]
    huge = comment(client, people, "stranger", "x" * 100_001)
    assert huge.status_code == 422
    assert comment(client, people, "stranger", "   \n ").status_code == 422
    assert comment(client, people, "stranger", "bell \x07").status_code == 422
    other_item_parent = comment(client, people, "stranger", "ok").json()["id"] + 1000
    assert comment(client, people, "stranger", "reply", parent_id=other_item_parent).status_code == 404


def test_edits_are_kept_and_only_the_author_edits(client: Any, people: People) -> None:
    created = comment(client, people, "stranger", "Frist!").json()
    assert created["edited"] is False and created["revision"] == 1
    url = f"/api/v1/comments/{created['id']}"
    edited = client.patch(url, headers=people.h("stranger"), json={"body": "First, and a question: $x^2$?"})
    assert edited.status_code == 200, edited.text
    after = edited.json()
    assert after["edited"] is True and after["revision"] == 2 and after["edited_at"] is not None
    assert after["body"].startswith("First")
    same = client.patch(url, headers=people.h("stranger"), json={"body": "First, and a question: $x^2$?"})
    assert same.json()["revision"] == 2  # the same text again keeps no new revision
    history = client.get(f"{url}/history").json()
    assert [r["number"] for r in history] == [1, 2]
    assert history[0]["body"] == "Frist!" and history[1]["body"].startswith("First")
    assert client.patch(url, headers=people.h("owner"), json={"body": "hijack"}).status_code == 403
    assert client.patch(url, json={"body": "anon"}).status_code == 401
    mine = comment(client, people, "owner", "the owner's words").json()
    # the owner's agent speaks for itself, not in its owner's name
    hijack = client.patch(f"/api/v1/comments/{mine['id']}", headers=people.h("agent"), json={"body": "agent"})
    assert hijack.status_code == 403


def test_edits_stop_after_the_cap(client: Any, people: People, app: Any) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"community": app.state.settings.community.model_copy(update={"max_edits": 2})}
    )
    created = comment(client, people, "stranger", "v0").json()
    url = f"/api/v1/comments/{created['id']}"
    for n in (1, 2):
        assert client.patch(url, headers=people.h("stranger"), json={"body": f"v{n}"}).status_code == 200
    capped = client.patch(url, headers=people.h("stranger"), json={"body": "v3"})
    assert capped.status_code == 409 and "limit of 2 edits" in capped.json()["detail"]


def test_delete_leaves_a_tombstone_that_keeps_the_thread(client: Any, people: People) -> None:
    top = comment(client, people, "stranger", "I will regret this").json()
    reply = comment(client, people, "owner", "A reply that stays", parent_id=top["id"]).json()
    url = f"/api/v1/comments/{top['id']}"
    assert client.delete(url, headers=people.h("owner")).status_code == 403
    deleted = client.delete(url, headers=people.h("stranger"))
    assert deleted.status_code == 200
    assert client.delete(url, headers=people.h("stranger")).status_code == 200  # twice is once
    thread = client.get(f"/api/v1/submissions/{people.item}/comments").json()["items"][0]
    assert thread["deleted"] is True and thread["body"] is None and thread["html"] is None
    assert thread["replies"][0]["id"] == reply["id"] and thread["replies"][0]["body"] == "A reply that stays"
    assert client.get(f"{url}/history").status_code == 404  # the words left with the comment
    assert client.get(f"{url}/history", headers=people.h("stranger")).status_code == 200
    assert client.patch(url, headers=people.h("stranger"), json={"body": "undo"}).status_code == 409
    assert comment(client, people, "owner", "reply to a tombstone", parent_id=top["id"]).status_code == 409
    # the owner may take down what their agent wrote
    by_agent = comment(client, people, "agent", "agent words").json()
    assert client.delete(f"/api/v1/comments/{by_agent['id']}", headers=people.h("owner")).status_code == 200


def test_agent_comments_name_the_agent_and_its_owner_and_author_replies_are_marked(
    client: Any, people: People
) -> None:
    by_stranger = comment(client, people, "stranger", "A question").json()
    by_owner = comment(client, people, "owner", "An answer", parent_id=by_stranger["id"]).json()
    by_agent = comment(client, people, "agent", "Run logs attached", parent_id=by_stranger["id"]).json()
    assert by_stranger["author"] == {
        "kind": "human",
        "account_id": people.account_ids["stranger"],
        "name": "Sam Stranger",
        "agent": None,
    }
    assert by_stranger["author_reply"] is False
    assert by_owner["author_reply"] is True and by_owner["author"]["name"] == "Olive Owner"
    assert by_agent["author"]["kind"] == "agent"
    assert by_agent["author"]["agent"] == {
        "id": people.agent_id,
        "name": "Scout",
        "model": "genesys-lite/0.1",
    }
    assert by_agent["author"]["account_id"] == people.account_ids["owner"]
    assert by_agent["author"]["name"] == "Olive Owner"
    # the agent is not listed among the item's authors, so its reply is not an author's reply
    assert by_agent["author_reply"] is False


def test_math_is_kept_as_text_for_the_browser(client: Any, people: People) -> None:
    created = comment(
        client, people, "stranger", r"Is $a_b < c$ or $$\int_0^1 f(x)\,dx$$ right? It cost $5 and $10."
    )
    html = created.json()["html"]
    assert '<span class="math inline">a_b &lt; c</span>' in html
    assert r'<span class="math display">\int_0^1 f(x)\,dx</span>' in html
    assert "$5 and $10" in html  # prices stay prose


def test_posting_records_a_comment_event(client: Any, people: People, runtime: Any) -> None:
    top = comment(client, people, "stranger", "Event me").json()
    reply = comment(client, people, "agent", "Replying", parent_id=top["id"]).json()
    with transaction(runtime.read_sessions) as session:
        events = session.scalars(
            select(Event).where(Event.type == types.COMMENT_POSTED).order_by(Event.id)
        ).all()
        payloads = [e.payload for e in events]
    assert [p["comment_id"] for p in payloads] == [top["id"], reply["id"]]
    assert payloads[1]["parent_id"] == top["id"] and payloads[1]["agent_id"] == people.agent_id


def test_comments_need_submit_and_a_visible_item(client: Any, people: People) -> None:
    assert client.post(f"/api/v1/submissions/{people.item}/comments", json={"body": "x"}).status_code == 401
    assert comment(client, people, "read_only", "x").status_code == 403
    assert comment(client, people, "stranger", "x", item="2101.99999").status_code == 404
    assert client.get("/api/v1/comments/999999").status_code == 404
