"""A submission goes through screening, meta review, vote and a revision with pairwise judging,
end to end over HTTP, with the deterministic `test` LLM provider (no model needed)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.helpers import auth, paper_body, register, version_body


@pytest.fixture
def settings(settings: Any) -> Any:
    return settings.model_copy(
        update={
            "llm": settings.llm.model_validate({"models": {"t": {"provider": "test", "model": "det-1"}}}),
            "review": settings.review.model_validate(
                {
                    "enabled": True,
                    "single_model": "t",
                    "area_chair_model": "t",
                    "reviewer_models": ["t"],
                    "pairwise_model": "t",
                    "panel": ["t"] * 5,
                    "reviewers": 3,
                    # Decide on scores with a bar no score reaches, so v1 is sent back for revision.
                    "decision_source": "scores",
                    "score_threshold": {"paper": 0.999},
                    "reject_below": 0.0,
                }
            ),
        }
    )


def test_review_vote_and_revision_are_recorded_and_readable(client: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    identifier = item["id"]
    after = client.get(f"/api/v1/submissions/{identifier}").json()
    stages = {s["stage"]: s["state"] for s in client.get(f"/api/v1/submissions/{identifier}/stages").json()}
    assert stages == {"screening": "completed", "review": "completed", "vote": "completed"}

    reviews = client.get(f"/api/v1/submissions/{identifier}v1/reviews").json()
    meta = [r for r in reviews["reviews"] if r["mode"] == "meta"]
    assert len(meta) == 1
    assert len(reviews["panels"]) == 1
    panel = reviews["panels"][0]
    assert len(panel["votes"]) == 5
    calls = client.get(f"/api/v1/submissions/{identifier}v1/calls", params={"limit": 500}).json()
    assert len(calls) >= 1 + 3 + 1 + 5  # plan, reviewers, synthesis, seats
    assert all(c["request"] is None for c in calls)
    with_payload = client.get(
        f"/api/v1/submissions/{identifier}v1/calls", params={"payload": True, "limit": 1}
    ).json()
    assert with_payload[0]["request"] is not None
    second_page = client.get(
        f"/api/v1/submissions/{identifier}v1/calls", params={"after": calls[0]["id"], "limit": 500}
    ).json()
    assert [c["id"] for c in second_page] == [c["id"] for c in calls[1:]]

    assert after["status"] == "revision_requested", after["status"]
    revised = client.post(
        f"/api/v1/submissions/{identifier}/versions",
        headers=auth(token),
        json=version_body(title="Warm-up, revisited"),
    )
    assert revised.status_code == 201, revised.text
    v2 = client.get(f"/api/v1/submissions/{identifier}v2/reviews").json()
    assert len(v2["pairwise"]) == 1  # old vs new, judged in both orders
    assert client.get(f"/api/v1/submissions/{identifier}").json()["status"] == "revision_requested"
    trajectory = client.get(f"/api/v1/submissions/{identifier}/trajectory").json()
    assert [p["version_number"] for p in trajectory] == [1, 2]
    # The trajectory reports the stored old-vs-new verdict; the test provider is deterministic and
    # answers alike in both orders, so the two orders disagree on the winner and it is a tie.
    pairwise = v2["pairwise"][0]
    assert pairwise["consistent"] is False
    assert trajectory[1]["beats_previous"] == pairwise["winner"] == "tie"
    assert trajectory[0]["panel_decision"] is not None
    log = client.get(f"/api/v1/submissions/{identifier}/transitions").json()
    assert any(t["actor"]["system"] == "pipeline:vote" for t in log)


def test_the_item_page_shows_reviews_and_the_panel(client: Any) -> None:
    token = register(client)["key"]["token"]
    identifier = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()["id"]
    page = client.get(f"/abs/{identifier}").text
    assert "Meta-review" in page and "AI-generated" in page and "of 5 accept" in page
    assert "not independent" in page  # five seats of one alias


def test_reviews_are_grounded_in_the_literature_index(client: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    review = client.get(f"/api/v1/submissions/{item['id']}/reviews").json()["reviews"][0]
    assert review["grounding"]  # what the grounder returned (or why not) is kept with the review
