"""Likes: one per account and one per agent, PUT/DELETE idempotent, counted per item."""

from __future__ import annotations

from typing import Any

from openxiv.community import service
from openxiv.db import transaction
from openxiv.models import Submission
from tests.community.conftest import People, comment, new_item


def _like(client: Any, people: People, who: str, method: str = "PUT") -> Any:
    return client.request(method, f"/api/v1/submissions/{people.item}/like", headers=people.h(who))


def test_a_second_like_changes_nothing_and_unlike_is_idempotent(client: Any, people: People) -> None:
    first = _like(client, people, "stranger")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "target": first.json()["target"],
        "likes": 1,
        "human_likes": 1,
        "agent_likes": 0,
        "liked": True,
    }
    again = _like(client, people, "stranger")
    assert again.json()["likes"] == 1  # like stuffing: the same liker counts once
    assert client.get(f"/api/v1/submissions/{people.item}/like").json()["likes"] == 1
    assert client.get(f"/api/v1/submissions/{people.item}/like").json()["liked"] is False  # anonymous
    gone = _like(client, people, "stranger", "DELETE")
    assert gone.json()["likes"] == 0 and gone.json()["liked"] is False
    assert _like(client, people, "stranger", "DELETE").json()["likes"] == 0
    assert _like(client, people, "stranger").json()["likes"] == 1  # toggled back on


def test_an_agent_likes_as_itself_beside_its_owner(client: Any, people: People) -> None:
    _like(client, people, "owner")
    state = _like(client, people, "agent").json()
    assert (state["likes"], state["human_likes"], state["agent_likes"]) == (2, 1, 1)
    assert state["liked"] is True
    # the owner's own like is still one like, seen from the owner's key
    assert client.get(f"/api/v1/submissions/{people.item}/like", headers=people.h("owner")).json()["liked"]
    assert _like(client, people, "agent", "DELETE").json()["human_likes"] == 1


def test_likes_need_the_submit_scope_and_a_visible_item(client: Any, people: People) -> None:
    assert client.put(f"/api/v1/submissions/{people.item}/like").status_code == 401
    assert _like(client, people, "read_only").status_code == 403
    assert client.put("/api/v1/submissions/2101.99999/like", headers=people.h("stranger")).status_code == 404


def test_comment_likes_and_engagement_counts(client: Any, people: People, runtime: Any) -> None:
    top = comment(client, people, "stranger", "A first comment").json()
    reply = comment(client, people, "owner", "Thanks", parent_id=top["id"]).json()
    gone = comment(client, people, "stranger", "to be deleted").json()
    client.delete(f"/api/v1/comments/{gone['id']}", headers=people.h("stranger"))
    liked = client.put(f"/api/v1/comments/{top['id']}/like", headers=people.h("owner"))
    assert liked.status_code == 200 and liked.json()["likes"] == 1
    client.put(f"/api/v1/comments/{top['id']}/like", headers=people.h("owner"))
    assert client.get(f"/api/v1/comments/{top['id']}", headers=people.h("owner")).json()["liked"] is True
    _like(client, people, "stranger")
    _like(client, people, "agent")
    other = new_item(client, people.tokens["owner"])
    with transaction(runtime.read_sessions) as session:
        ids = {
            s.identifier: s.id
            for s in session.query(Submission).filter(Submission.identifier.in_([people.item, other]))
        }
        counts = service.engagement_counts(session, ids.values())
    # comment likes are not item likes; the deleted comment is not counted
    assert counts[ids[people.item]] == service.Counts(likes=2, comments=2)
    assert counts[ids[other]] == service.Counts(likes=0, comments=0)
    assert reply["author_reply"] is True


def test_running_counts_always_equal_the_rows(client: Any, people: People, runtime: Any) -> None:
    """Every change that moves a count (like, unlike, agent like, comment, delete, hide, restore,
    deleting a hidden comment) keeps `engagement` equal to a count of the rows."""

    def check(expected: service.Counts) -> None:
        with transaction(runtime.read_sessions) as session:
            item_id = session.query(Submission.id).filter(Submission.identifier == people.item).scalar()
            assert service.engagement_counts(session, [item_id]) == {item_id: expected}
            assert service.recount(session, [item_id]) == {item_id: expected}

    def moderate(action: str, comment_id: int) -> None:
        response = client.post(
            "/api/v1/moderation/actions",
            headers=people.h("moderator"),
            json={"action": action, "comment_id": comment_id, "reason": "test"},
        )
        assert response.status_code == 201, response.text

    check(service.Counts(0, 0))
    for who in ("stranger", "agent", "owner", "stranger"):
        _like(client, people, who)
    _like(client, people, "owner", "DELETE")
    _like(client, people, "owner", "DELETE")
    check(service.Counts(likes=2, comments=0))
    a, b, c = (comment(client, people, "stranger", f"c{n}").json()["id"] for n in range(3))
    check(service.Counts(likes=2, comments=3))
    moderate("hide", a)
    check(service.Counts(likes=2, comments=2))
    client.delete(f"/api/v1/comments/{a}", headers=people.h("stranger"))  # hidden, then deleted
    client.delete(f"/api/v1/comments/{b}", headers=people.h("stranger"))
    check(service.Counts(likes=2, comments=1))
    moderate("restore", a)  # restored, but deleted: still off the count
    moderate("hide", c)
    moderate("restore", c)
    check(service.Counts(likes=2, comments=1))
