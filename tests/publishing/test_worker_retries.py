"""DOI registration on a real Huey queue (a SQLite file, a consumer thread): the status change is
dispatched to `mint_dois` by the worker, DataCite is down, the retry the job schedules runs by
itself once its delay has passed, and the DOI ends registered while the item stayed published."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openxiv import worker
from openxiv.app import create_app
from openxiv.config import Settings
from openxiv.models import Base
from openxiv.models.publishing import Doi
from openxiv.runtime import Runtime
from openxiv.submissions.lifecycle import Status
from tests.publishing.conftest import Poster
from tests.publishing.datacite_server import FakeDataCite, running_datacite


def wait_until(condition: Any, what: str, limit_s: float = 60) -> Any:
    deadline = time.monotonic() + limit_s  # a guard against hangs, not a speed assertion
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def datacite() -> Iterator[FakeDataCite]:
    with running_datacite(mode="down") as fake:
        yield fake


@pytest.fixture
def queued(tmp_path: Path, datacite: FakeDataCite) -> Iterator[tuple[Runtime, TestClient]]:
    values: dict[str, Any] = dict(
        mode="dev",
        database_url=f"sqlite:///{tmp_path / 'openxiv.db'}",
        secret_key="test-secret",
        storage={"root": tmp_path / "blobs"},
        queue={"url": f"sqlite:///{tmp_path / 'queue.db'}"},
        rate_limit={"enabled": False},
        review={"enabled": False},
        literature={"index_dir": tmp_path / "literature-index", "index_refresh_interval_s": 0.0},
        publishing={
            "registrar": "datacite",
            "datacite_url": datacite.base_url,
            "datacite_repository_id": datacite.repository_id,
            "datacite_password": datacite.password,
            "timeout_s": 2.0,
            "retry_schedule_s": [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
        },
    )
    settings = Settings(**values)
    runtime = Runtime(settings)
    Base.metadata.create_all(runtime.engine)
    queue = runtime.make_queue(worker.make_huey(settings.queue, name=f"t-{uuid.uuid4().hex}"))
    runtime.__dict__["queue"] = queue
    consumer = queue.consumer(2, main_thread=False)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        with TestClient(create_app(settings, runtime)) as client:
            yield runtime, client
    finally:
        consumer.stop(graceful=True)
        thread.join(timeout=30)
        runtime.close()


def _rows(runtime: Runtime) -> list[Doi]:
    with runtime.read_sessions() as session:
        return list(session.scalars(select(Doi).order_by(Doi.id)))


def test_the_queue_retries_until_datacite_is_back(
    queued: tuple[Runtime, TestClient], datacite: FakeDataCite
) -> None:
    runtime, client = queued
    poster = Poster(client, runtime)
    identifier = poster.post()["id"]
    wait_until(
        lambda: client.get(f"/api/v1/submissions/{identifier}").json()["status"] == "under_review",
        "the pipeline",
    )
    poster.move(identifier, Status.PROVISIONALLY_ACCEPTED)

    # The worker dispatched the event and tried DataCite, which answers 500: pending, retrying.
    rows = wait_until(lambda: (r := _rows(runtime)) and all(row.attempts >= 2 for row in r) and r, "retries")
    assert {row.state for row in rows} == {"pending"}
    assert all("HTTP 500" in (row.last_error or "") for row in rows)
    assert client.get(f"/api/v1/submissions/{identifier}").json()["status"] == "provisionally_accepted"

    datacite.mode = "ok"
    rows = wait_until(
        lambda: (r := _rows(runtime)) and all(row.state == "registered" for row in r) and r, "registration"
    )
    assert len(rows) == 2 and all(row.last_error is None for row in rows)
    assert set(datacite.states.values()) == {"findable"}
    dois = client.get(f"/api/v1/submissions/{identifier}/dois").json()
    assert dois["concept"]["state"] == "registered" and dois["versions"][0]["state"] == "registered"
