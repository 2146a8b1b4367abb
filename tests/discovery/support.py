"""Builders for the discovery tests: published items made through the real API and lifecycle,
and an app served by uvicorn on loopback for the real clients (sickle, feedparser, huggingface_hub)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from openxiv.db import transaction
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.service import SystemActor, transition
from tests.core.helpers import auth, paper_body, proposal_body, register
from tests.core.processes import free_port


def author_token(client: Any, email: str = "ada@example.org") -> str:
    return str(register(client, email=email)["key"]["token"])


def post_item(client: Any, token: str, **overrides: Any) -> str:
    body = proposal_body(**overrides) if overrides.get("kind") == "proposal" else paper_body(**overrides)
    response = client.post("/api/v1/submissions", headers=auth(token), json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def move(runtime: Any, identifier: str, *targets: Status) -> None:
    for target in targets:
        with transaction(runtime.write_sessions) as session:
            submission = repository.by_identifier(session, identifier)
            assert submission is not None
            transition(session, submission, target, SystemActor("test"), f"to {target.value}")


def publish(client: Any, runtime: Any, token: str, **overrides: Any) -> str:
    identifier = post_item(client, token, **overrides)
    move(runtime, identifier, Status.PROVISIONALLY_ACCEPTED)
    return identifier


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app on a loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the test server did not start")
        time.sleep(0.05)
    try:
        assert httpx.get(f"{url}/oai?verb=Identify", timeout=10).status_code == 200
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
