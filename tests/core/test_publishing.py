"""Publishing: a version that reaches a published status joins the literature index at once."""

from __future__ import annotations

from typing import Any

from openxiv.db import transaction
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.service import SystemActor, transition
from tests.core.helpers import auth, paper_body, register


def test_published_work_becomes_searchable(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post(
        "/api/v1/submissions",
        headers=auth(token),
        json=paper_body(title="Warm-up length and batch size in small transformers"),
    ).json()
    query = {"q": "warm-up length batch size small transformers"}
    assert client.get("/api/v1/literature/search", params=query).json()["hits"] == []
    with transaction(runtime.write_sessions) as session:
        submission = repository.by_identifier(session, item["id"])
        assert submission is not None
        transition(
            session, submission, Status.PROVISIONALLY_ACCEPTED, SystemActor("pipeline:vote"), "3 of 5 accept"
        )
    hits = client.get("/api/v1/literature/search", params=query).json()["hits"]
    assert hits[0]["title"] == "Warm-up length and batch size in small transformers"
    assert client.get("/api/v1/literature/search", params={"q": "   "}).status_code == 422
