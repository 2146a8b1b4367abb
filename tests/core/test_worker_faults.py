"""A worker killed with SIGKILL in the middle of a review, then started again: the version ends
reviewed and voted on exactly once. Real processes (server, workers) on a real queue (SQLite file
and Redis); the model is a local OpenAI-compatible server that answers slowly enough to be
interrupted."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from openxiv.config import QueueSettings
from openxiv.tooling.fake_llm_server import FakeLLMServer
from openxiv.worker import make_huey
from tests.conftest import REDIS_URL, service_unavailable
from tests.core.helpers import auth, paper_body
from tests.core.processes import Instance, account_token, serve, wait_for

SLOW_MODEL = """
[llm.models.slow]
provider = "openai-compatible"
base_url = "{url}/v1"
model = "slow-1"
"""


def _queue_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'huey.db'}"
    try:
        make_huey(QueueSettings(url=REDIS_URL)).flush()
    except Exception as error:
        service_unavailable("Redis", error)
    return REDIS_URL


@pytest.mark.slow
@pytest.mark.parametrize("queue", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_worker_killed_mid_review_then_restarted_reviews_the_version_exactly_once(
    queue: str, tmp_path: Path
) -> None:
    with FakeLLMServer(delay_s=0.4) as model:
        instance = Instance(
            tmp_path / "site",
            queue_url=_queue_url(queue, tmp_path),
            workers=1,
            extra_toml=SLOW_MODEL.format(url=model.url),
        )
        # Every review role on the slow model.
        instance.config.write_text(instance.config.read_text().replace('"t"', '"slow"'))
        try:
            url = serve(instance, with_worker=False)
            with httpx.Client(base_url=url, timeout=60) as http:
                headers = auth(account_token(http))
                identifier = http.post("/api/v1/submissions", headers=headers, json=paper_body()).json()["id"]
                first = instance.start("worker", log="worker-1.log")
                wait_for(lambda: len(model.requests) >= 2, "the review to be under way")
                first.send_signal(signal.SIGKILL)
                first.wait()
                seen_before_restart = len(model.requests)
                stages = _stages(http, identifier, headers)
                assert stages["review"]["state"] == "running"  # killed mid-review: nothing finished

                instance.start("worker", log="worker-2.log")
                wait_for(
                    lambda: _stages(http, identifier, headers).get("vote", {}).get("state") == "completed",
                    "the restarted worker to finish the version",
                )
                stages = _stages(http, identifier, headers)
                reviews = http.get(f"/api/v1/submissions/{identifier}v1/reviews", headers=headers).json()
        finally:
            instance.stop()
    assert len(model.requests) > seen_before_restart
    assert {name: s["state"] for name, s in stages.items()} == {
        "screening": "completed",
        "review": "completed",
        "vote": "completed",
    }
    assert stages["review"]["attempts"] == 2 and stages["screening"]["attempts"] == 1
    assert len([r for r in reviews["reviews"] if r["mode"] == "meta"]) == 1
    assert len(reviews["panels"]) == 1 and len(reviews["panels"][0]["votes"]) == 5
    log = instance.log("worker-2.log")
    assert "job recovered: submission" in log and "review was running in a worker that is gone" in log
    assert "Traceback" not in log


def _stages(http: httpx.Client, identifier: str, headers: dict[str, str]) -> dict[str, Any]:
    rows = http.get(f"/api/v1/submissions/{identifier}/stages", headers=headers).json()
    return {row["stage"]: row for row in rows}
