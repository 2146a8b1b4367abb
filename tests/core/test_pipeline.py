"""The processing pipeline: order, idempotency, retries, holds, superseded versions; real Huey."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from openxiv.submissions.lifecycle import (
    ALLOWED_TRANSITIONS,
    PUBLISHED,
    REVISABLE,
    TERMINAL,
    Status,
    can_transition,
)
from openxiv.submissions.pipeline import run_pipeline
from openxiv.submissions.ports import RetryLater, StageContext, StageOutcome
from openxiv.submissions.stages import ScreeningStage
from tests.core.helpers import auth, paper_body, register


@dataclass
class CountingStage:
    """A stage with a scripted outcome that counts how often it really ran."""

    name: str
    outcomes: list[StageOutcome]
    calls: list[int] = field(default_factory=list)

    def run(self, ctx: StageContext) -> StageOutcome:
        self.calls.append(ctx.version.number)
        return self.outcomes[min(len(self.calls), len(self.outcomes)) - 1]


def test_transition_table_is_consistent() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(Status)
    assert {Status.ACCEPTED, Status.REJECTED, Status.WITHDRAWN} == TERMINAL
    assert Status.UNDER_REVIEW in REVISABLE and Status.WITHDRAWN not in REVISABLE
    assert {s for s in Status if can_transition(s, Status.ACCEPTED) or s == Status.ACCEPTED} >= PUBLISHED
    assert not can_transition(Status.ACCEPTED, Status.WITHDRAWN)
    assert can_transition(Status.UNDER_REVIEW, Status.PROVISIONALLY_ACCEPTED)


@pytest.fixture
def manual(runtime: Any) -> Any:
    """No queue: the test runs the pipeline itself."""
    runtime.__dict__["queue"] = None
    return runtime


def _submit(client: Any) -> tuple[str, Any]:
    token = register(client)["key"]["token"]
    return token, client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()


def _ids(runtime: Any, identifier: str) -> int:
    from openxiv.submissions import repository

    with runtime.read_sessions() as session:
        return repository.by_identifier(session, identifier).id  # type: ignore[union-attr]


def test_stages_run_once_in_order_and_move_the_status(client: Any, manual: Any) -> None:
    runtime = manual
    _, item = _submit(client)
    sid = _ids(runtime, item["id"])
    review = CountingStage("review", [StageOutcome("completed", reason="reviewed")])
    vote = CountingStage(
        "vote", [StageOutcome("completed", reason="3 of 5 accept", next_status=Status.PROVISIONALLY_ACCEPTED)]
    )
    stages = [ScreeningStage(), review, vote]
    args = (runtime.write_sessions, runtime.read_sessions, runtime.settings, runtime.blobs, stages, sid, 1)
    assert run_pipeline(*args) == [("screening", "completed"), ("review", "completed"), ("vote", "completed")]
    assert run_pipeline(*args) == [("screening", "completed"), ("review", "completed"), ("vote", "completed")]
    assert review.calls == [1] and vote.calls == [1]  # a duplicate job repeats nothing
    final = client.get(f"/api/v1/submissions/{item['id']}").json()
    assert final["status"] == "provisionally_accepted"
    log = client.get(f"/api/v1/submissions/{item['id']}/transitions").json()
    assert log[-1]["reason"] == "3 of 5 accept" and log[-1]["actor"]["system"] == "pipeline:vote"


def test_a_failing_stage_asks_for_a_retry_and_resumes_where_it_stopped(client: Any, manual: Any) -> None:
    runtime = manual
    _, item = _submit(client)
    sid = _ids(runtime, item["id"])
    review = CountingStage(
        "review",
        [StageOutcome("failed", reason="model returned invalid JSON", retry=True), StageOutcome("completed")],
    )
    vote = CountingStage("vote", [StageOutcome("completed", next_status=Status.REVISION_REQUESTED)])
    args = (
        runtime.write_sessions,
        runtime.read_sessions,
        runtime.settings,
        runtime.blobs,
        [ScreeningStage(), review, vote],
        sid,
        1,
    )
    with pytest.raises(RetryLater, match="invalid JSON"):
        run_pipeline(*args)
    stages = {s["stage"]: s for s in client.get(f"/api/v1/submissions/{item['id']}/stages").json()}
    assert (
        stages["review"]["state"] == "failed"
        and stages["review"]["detail"]["reason"] == "model returned invalid JSON"
    )
    assert client.get(f"/api/v1/submissions/{item['id']}").json()["status"] == "under_review"
    run_pipeline(*args)
    stages = {s["stage"]: s for s in client.get(f"/api/v1/submissions/{item['id']}/stages").json()}
    assert stages["review"]["attempts"] == 2 and stages["review"]["state"] == "completed"
    assert client.get(f"/api/v1/submissions/{item['id']}").json()["status"] == "revision_requested"


def test_a_crashing_stage_is_recorded_not_lost(client: Any, manual: Any) -> None:
    runtime = manual
    _, item = _submit(client)
    sid = _ids(runtime, item["id"])

    class Exploding:
        name = "review"

        def run(self, ctx: StageContext) -> StageOutcome:
            raise ValueError("provider said 401 for alias 'judge' (set OPENAI_API_KEY)")

    with pytest.raises(RetryLater):
        run_pipeline(
            runtime.write_sessions,
            runtime.read_sessions,
            runtime.settings,
            runtime.blobs,
            [ScreeningStage(), Exploding()],
            sid,
            1,
        )
    stages = {s["stage"]: s for s in client.get(f"/api/v1/submissions/{item['id']}/stages").json()}
    assert "OPENAI_API_KEY" in stages["review"]["detail"]["reason"]


def test_held_at_screening_is_hidden_from_the_public(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post(
        "/api/v1/submissions",
        headers=auth(token),
        json=paper_body(source={"format": "markdown", "text": "# Too short"}),
    ).json()
    owner_view = client.get(f"/api/v1/submissions/{item['id']}", headers=auth(token)).json()
    assert owner_view["status"] == "held"
    stages = client.get(f"/api/v1/submissions/{item['id']}/stages", headers=auth(token)).json()
    assert "characters of text" in stages[0]["detail"]["reason"]
    screening = owner_view["version"]["screening"]
    assert screening["action"] == "hold" and "characters of text" in screening["summary"]
    assert client.get(f"/api/v1/submissions/{item['id']}").status_code == 404
    assert item["id"] not in [i["id"] for i in client.get("/api/v1/submissions").json()["items"]]
    assert item["id"] in [
        i["id"] for i in client.get("/api/v1/submissions", headers=auth(token)).json()["items"]
    ]


def test_a_superseded_version_stops_its_pipeline(client: Any, manual: Any) -> None:
    runtime = manual
    from tests.core.helpers import version_body

    token, item = _submit(client)
    sid = _ids(runtime, item["id"])
    ports = (runtime.write_sessions, runtime.read_sessions, runtime.settings, runtime.blobs)
    assert run_pipeline(*ports, [ScreeningStage()], sid, 1) == [("screening", "completed")]
    revised = client.post(
        f"/api/v1/submissions/{item['id']}/versions", headers=auth(token), json=version_body()
    )
    assert revised.status_code == 201
    review = CountingStage("review", [StageOutcome("completed")])
    assert run_pipeline(*ports, [ScreeningStage(), review], sid, 1) == []  # a late v1 job does nothing
    assert review.calls == []
    assert run_pipeline(*ports, [ScreeningStage(), review], sid, 2) == [
        ("screening", "completed"),
        ("review", "completed"),
    ]
    assert review.calls == [2]


@pytest.mark.parametrize("queue", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_real_huey_consumer_processes_new_versions(
    queue: str, client: Any, runtime: Any, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """Enqueued after commit, executed by a real consumer thread on a real queue."""
    from openxiv.worker import make_huey

    if queue == "redis":
        import redis

        from tests.conftest import REDIS_URL, service_unavailable

        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except Exception as error:
            service_unavailable("Redis", error)
        url = REDIS_URL
    else:
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    runtime.settings.queue.url = url
    huey_queue = runtime.make_queue(make_huey(runtime.settings.queue, name=f"test-{uuid.uuid4().hex}"))
    huey_queue.huey.flush()
    runtime.__dict__["queue"] = huey_queue  # the app enqueues on this real queue from now on
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    assert client.get(f"/api/v1/submissions/{item['id']}").json()["status"] == "submitted"
    queued = sorted(task.name for task in huey_queue.huey.pending())
    assert queued == ["process_version", "run_job"]  # the pipeline, and handing out the new event
    consumer = huey_queue.consumer(2, main_thread=False)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if client.get(f"/api/v1/submissions/{item['id']}").json()["status"] == "under_review":
                break
            time.sleep(0.1)
        assert client.get(f"/api/v1/submissions/{item['id']}").json()["status"] == "under_review"
    finally:
        consumer.stop(graceful=True)
        huey_queue.huey.flush()
