"""Shared steps of the publishing tests: post an item, publish it as the vote would."""

from __future__ import annotations

from typing import Any

import pytest

from openxiv.db import transaction
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.service import SystemActor, transition
from tests.core.helpers import auth, paper_body, pdf_bytes, register


class Poster:
    def __init__(self, client: Any, runtime: Any) -> None:
        self.client = client
        self.runtime = runtime
        self.token = register(client)["key"]["token"]

    def upload_pdf(self) -> str:
        files = {"file": ("paper.pdf", pdf_bytes(), "application/pdf")}
        response = self.client.post("/api/v1/uploads", headers=auth(self.token), files=files)
        assert response.status_code == 201, response.text
        sha: str = response.json()["sha256"]
        return sha

    def post(self, **overrides: Any) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/submissions", headers=auth(self.token), json=paper_body(**overrides)
        )
        assert response.status_code == 201, response.text
        item: dict[str, Any] = response.json()
        return item

    def move(self, identifier: str, status: Status) -> None:
        with transaction(self.runtime.write_sessions) as session:
            submission = repository.by_identifier(session, identifier)
            assert submission is not None
            transition(session, submission, status, SystemActor("pipeline:vote"), "3 of 5 accept")


@pytest.fixture
def poster(client: Any, runtime: Any) -> Poster:
    return Poster(client, runtime)
