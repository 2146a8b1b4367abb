"""Background jobs on Huey: the queue is chosen by URL (SQLite file, Redis, or inline for tests).

Jobs only carry ids; everything else is read from the database when the job runs, so a job that
runs twice, late, or after a newer version was posted does the right thing (see run_pipeline).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.consumer import Consumer

from openxiv.config import QueueSettings

if TYPE_CHECKING:
    from openxiv.runtime import Runtime

logger = logging.getLogger("openxiv.worker")
PIPELINE_RETRIES = 5
PIPELINE_RETRY_DELAY_S = 60


def make_huey(queue: QueueSettings, name: str = "openxiv") -> Huey:
    url = queue.url
    if url == "immediate":
        return MemoryHuey(name, immediate=True)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url)
    raise ValueError(
        f"queue.url {url!r} is not supported (use sqlite:///PATH, redis://HOST:PORT/DB or immediate)"
    )


class HueyPipelineQueue:
    """The PipelineQueue port on Huey."""

    def __init__(self, huey: Huey, runtime: Runtime) -> None:
        self.huey = huey
        self._process_version = _register_tasks(huey, runtime)

    def enqueue_pipeline(self, submission_id: int, version_number: int) -> None:
        self._process_version(submission_id, version_number)

    def consumer(self, workers: int, *, main_thread: bool = True) -> Consumer:
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
        if not main_thread:
            # Signal handlers can only be installed from the main thread; the host process
            # (the web server) handles shutdown signals itself.
            consumer._set_signal_handlers = lambda: None
        return consumer

    def run_consumer(self, workers: int, *, main_thread: bool = True) -> None:
        self.consumer(workers, main_thread=main_thread).run()


def _register_tasks(huey: Huey, runtime: Runtime) -> TaskWrapper:
    from openxiv.submissions.pipeline import RetryLater, run_pipeline

    @huey.task(retries=PIPELINE_RETRIES, retry_delay=PIPELINE_RETRY_DELAY_S, name="process_version")
    def process_version(submission_id: int, version_number: int) -> list[Any]:
        try:
            return run_pipeline(
                runtime.write_sessions,
                runtime.read_sessions,
                runtime.settings,
                runtime.blobs,
                runtime.stages,
                submission_id,
                version_number,
            )
        except RetryLater as pending:
            if huey.immediate:
                logger.warning("pipeline for %s v%s stopped: %s", submission_id, version_number, pending)
                return []
            raise

    return process_version
