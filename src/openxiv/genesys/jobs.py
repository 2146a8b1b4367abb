"""Verification jobs on the platform's task queue (Huey through `worker.make_huey`).

One job trains one design on one task at one rung with one seed. The queue URL chooses where
they run: `immediate` runs them inline (tests), `sqlite:///PATH` shares them with worker
processes on this machine, `redis://...` with workers on any machine. `openxiv genesys worker`
is such a worker; more workers verify more designs at once with no other change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from huey import Huey
from huey.api import Result
from huey.exceptions import TaskException

from openxiv.config import QueueSettings
from openxiv.worker import make_huey

logger = logging.getLogger("openxiv.genesys")
QUEUE_NAME = "genesys"


def run_verification(payload: dict[str, Any]) -> dict[str, Any]:
    """The job's body: import torch only here, in the worker, and keep it to one thread so that
    K workers use K cores."""
    import torch

    from openxiv.genesys.design import Design
    from openxiv.genesys.ladder import Rung
    from openxiv.genesys.verify import train_and_score

    torch.set_num_threads(max(1, int(payload.get("threads", 1))))
    return train_and_score(
        Design.from_json(payload["design"]),
        dim=int(payload["dim"]),
        rung=Rung.from_json(payload["rung"]),
        task=str(payload["task"]),
        seed=int(payload["seed"]),
        corpus=str(payload.get("corpus", "")),
    )


@dataclass
class Pending:
    design_id: int
    key: tuple[str, int, str]  # rung, seed, task
    result: Result | dict[str, Any]


class VerificationQueue:
    def __init__(self, url: str) -> None:
        self.url = url
        self.huey: Huey = make_huey(QueueSettings(url=url, workers=1), name=QUEUE_NAME)
        self._task = self.huey.task(retries=1, retry_delay=1, name="genesys_verify")(run_verification)

    @property
    def inline(self) -> bool:
        return bool(self.huey.immediate)

    def submit(self, design_id: int, payload: dict[str, Any]) -> Pending:
        key = (payload["rung"]["name"], int(payload["seed"]), str(payload["task"]))
        return Pending(design_id, key, self._task(payload))

    def collect(
        self,
        pending: list[Pending],
        *,
        on_result: Callable[[Pending, dict[str, Any]], None],
        poll_s: float = 0.25,
    ) -> None:
        """Wait for every job; a job that failed is reported as a zero score with the error."""
        waiting = list(pending)
        while waiting:
            still = []
            for job in waiting:
                outcome = self._outcome(job)
                if outcome is None:
                    still.append(job)
                else:
                    on_result(job, outcome)
            waiting = still
            if waiting:
                time.sleep(poll_s)

    def _outcome(self, job: Pending) -> dict[str, Any] | None:
        if isinstance(job.result, dict):
            return job.result
        try:
            value = job.result.get(blocking=False)
        except TaskException as error:
            rung, seed, task = job.key
            logger.warning("verification failed: design %s %s: %s", job.design_id, job.key, error)
            return {
                "rung": rung,
                "seed": seed,
                "task": task,
                "score": 0.0,
                "baseline": 0.0,
                "error": str(error),
            }
        return value if isinstance(value, dict) else None

    def consumer(self, workers: int) -> Any:
        return self.huey.create_consumer(workers=workers, worker_type="process", periodic=False)
