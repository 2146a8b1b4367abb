"""A job whose stage keeps failing: one log line per failure (no traceback), a visible failed
stage once the retries run out, and `requeue` sends it through again. Real Huey consumer on a
SQLite queue file."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from openxiv import worker
from openxiv.errors import Conflict
from openxiv.submissions.pipeline import requeue
from openxiv.submissions.ports import StageContext, StageOutcome
from openxiv.submissions.stages import ScreeningStage
from tests.core.helpers import auth, paper_body, register


class BrokenReview:
    name = "review"

    def __init__(self) -> None:
        self.runs = 0

    def run(self, ctx: StageContext) -> StageOutcome:
        self.runs += 1
        raise RuntimeError("the model server went away")


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 60  # a safety limit against hangs, not a speed assertion
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def test_a_job_that_exhausts_its_retries_leaves_a_failed_stage_that_requeue_runs_again(
    client: Any,
    runtime: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(worker, "PIPELINE_RETRIES", 1)
    monkeypatch.setattr(worker, "PIPELINE_RETRY_DELAY_S", 0)
    broken = BrokenReview()
    runtime.__dict__["stages"] = [ScreeningStage(), broken]
    runtime.settings.queue.url = f"sqlite:///{tmp_path / 'queue.db'}"
    queue = runtime.make_queue(worker.make_huey(runtime.settings.queue, name=f"t-{uuid.uuid4().hex}"))
    runtime.__dict__["queue"] = queue
    worker.configure_logging()
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()

    def review_stage() -> dict[str, Any]:
        stages = client.get(f"/api/v1/submissions/{item['id']}/stages", headers=auth(token)).json()
        return next((s for s in stages if s["stage"] == "review"), {})

    consumer = queue.consumer(1, main_thread=False)
    thread = threading.Thread(target=consumer.run, daemon=True)
    with caplog.at_level(logging.INFO):
        thread.start()
        try:
            _wait(lambda: review_stage().get("detail", {}).get("gave_up") is True, "the retries to run out")
            stage = review_stage()
            assert stage["state"] == "failed" and stage["attempts"] == 2 and broken.runs == 2
            assert "RuntimeError: the model server went away" in stage["detail"]["reason"]

            version, stages = requeue(runtime.write_sessions, queue, item["id"])
            assert (version, stages) == (1, ["review"])
            # The requeued job has its own retries: two more runs, then it gives up again.
            _wait(
                lambda: review_stage().get("attempts") == 4 and review_stage()["detail"].get("gave_up"),
                "the requeue",
            )
            assert broken.runs == 4
        finally:
            consumer.stop(graceful=True)
            queue.huey.flush()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(("openxiv.worker", "huey"))]
    failed = [m for m in messages if m.startswith("job failed")]
    assert (
        failed and "review: RuntimeError: the model server went away" in failed[0] and "1 left" in failed[0]
    )
    assert any(m.startswith("job gave up") and "openxiv requeue" in m for m in messages)
    assert not [r for r in caplog.records if r.name.startswith("huey") and r.exc_info]  # no tracebacks


def test_requeue_refuses_a_version_with_nothing_to_run_again(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    with pytest.raises(Conflict, match="no failed or unfinished stage"):
        requeue(runtime.write_sessions, runtime.queue, item["id"])
