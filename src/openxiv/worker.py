"""Background jobs on Huey: the queue is chosen by URL (SQLite file, Redis, or inline for tests).

Jobs only carry ids; everything else is read from the database when the job runs, so a job that
runs twice, late, or after a newer version was posted does the right thing (see run_pipeline).
Each job logs one line when it starts and one when it ends (submission, version, stages,
outcome, seconds); a failure is that one line, not a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Task, TaskWrapper
from huey.consumer import Consumer

from openxiv.config import QueueSettings
from openxiv.events.ports import DISPATCH_EVENTS, JobHandler
from openxiv.submissions.ports import PipelineJobs, RetryLater

logger = logging.getLogger("openxiv.worker")
PIPELINE_RETRIES = 5
PIPELINE_RETRY_DELAY_S = 60
JOB_RETRIES = 5
JOB_RETRY_DELAY_S = 30


class JobFailed(Exception):
    """A job failed and was logged; Huey retries it (its traceback is not logged again)."""


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


class HueyQueue:
    """The PipelineQueue and JobQueue ports on Huey: versions through the pipeline, and named jobs
    (event dispatch and the jobs subscribed to events) through their handlers."""

    def __init__(self, huey: Huey, pipeline: PipelineJobs, jobs: Mapping[str, JobHandler]) -> None:
        self.huey = huey
        self._pipeline = pipeline
        self._process_version = _register_pipeline_task(huey, pipeline)
        self._run_job = _register_job_task(huey, jobs)

    def enqueue_pipeline(self, submission_id: int, version_number: int) -> None:
        self._process_version(submission_id, version_number)

    def enqueue_job(self, name: str, payload: dict[str, Any]) -> None:
        self._run_job(name, payload)

    def enqueue_job_later(self, name: str, payload: dict[str, Any], delay_s: float) -> None:
        """Run a named job after `delay_s` (webhook retries). Kept by the queue's storage across
        restarts; an `immediate` queue (tests) never runs it."""
        self._run_job.schedule((name, payload), delay=delay_s)

    def consumer(self, workers: int, *, main_thread: bool = True) -> Consumer:
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
        if not main_thread:
            # Signal handlers can only be installed from the main thread; the host process
            # (the web server) handles shutdown signals itself.
            consumer._set_signal_handlers = lambda: None
        return consumer

    def run_consumer(self, workers: int, *, main_thread: bool = True) -> None:
        configure_logging()
        self.recover_orphans()
        # Events committed while no dispatch could be queued (a process that died right after
        # its commit, a command-line session) are handed out now.
        self.enqueue_job(DISPATCH_EVENTS, {})
        self.consumer(workers, main_thread=main_thread).run()

    def recover_orphans(self) -> None:
        for submission_id, version_number, stage in self._pipeline.recover_orphans(self):
            logger.warning(
                "job recovered: submission %s v%s %s was running in a worker that is gone; queued again",
                submission_id, version_number, stage,
            )  # fmt: skip


def _register_pipeline_task(huey: Huey, pipeline: PipelineJobs) -> TaskWrapper:
    @huey.task(
        retries=PIPELINE_RETRIES, retry_delay=PIPELINE_RETRY_DELAY_S, name="process_version", context=True
    )
    def process_version(submission_id: int, version_number: int, task: Task | None = None) -> list[Any]:
        job = f"submission {submission_id} v{version_number}"
        retries_left = task.retries if task is not None else 0
        logger.info("job start: %s pipeline", job)
        started = time.perf_counter()
        try:
            log = pipeline.run(submission_id, version_number)
        except Exception as error:
            seconds = time.perf_counter() - started
            stage = error.stage if isinstance(error, RetryLater) else "pipeline"
            reason = error.reason if isinstance(error, RetryLater) else f"{type(error).__name__}: {error}"
            if huey.immediate:  # tests and `queue.url = "immediate"`: no retries to wait for
                logger.warning("job failed: %s %s: %s (%.1f s)", job, stage, reason, seconds)
                if isinstance(error, RetryLater):
                    return []
                raise
            if retries_left > 0:
                logger.warning(
                    "job failed: %s %s: %s (%.1f s); retry in %d s, %d left",
                    job, stage, reason, seconds, PIPELINE_RETRY_DELAY_S, retries_left,
                )  # fmt: skip
            else:
                pipeline.gave_up(submission_id, version_number, stage)
                logger.error(
                    "job gave up: %s %s: %s (%.1f s); no retries left, `openxiv requeue` runs it again",
                    job, stage, reason, seconds,
                )  # fmt: skip
            raise JobFailed(f"{job} {stage}: {reason}") from None
        outcome = " ".join(f"{name}={state}" for name, state in log) or "nothing to do"
        logger.info("job done: %s %s (%.1f s)", job, outcome, time.perf_counter() - started)
        return log

    return process_version


def _register_job_task(huey: Huey, jobs: Mapping[str, JobHandler]) -> TaskWrapper:
    @huey.task(retries=JOB_RETRIES, retry_delay=JOB_RETRY_DELAY_S, name="run_job", context=True)
    def run_job(name: str, payload: dict[str, Any], task: Task | None = None) -> None:
        handler = jobs.get(name)
        if handler is None:  # a job queued by a newer release: say so once, never retry
            logger.error("job dropped: no handler for %r in this version", name)
            return
        retries_left = task.retries if task is not None else 0
        try:
            handler(payload)
        except Exception as error:
            logger.warning(
                "job failed: %s %s: %s: %s; %d retries left",
                name,
                payload,
                type(error).__name__,
                error,
                retries_left,
            )
            if huey.immediate:  # no retries to wait for; the caller's commit stands
                return
            raise JobFailed(f"{name}: {error}") from None

    return run_job


class _DropLoggedFailures(logging.Filter):
    """Huey logs every task exception with its traceback; ours were already logged as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, JobFailed)


_FILTER = _DropLoggedFailures()


def configure_logging() -> None:
    """One line per event on stderr for the worker's own loggers; Huey's per-task chatter off."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("openxiv").setLevel(logging.INFO)
    for name in ("httpx", "pikepdf"):  # a line per HTTP request or library start is noise here
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("huey", "huey.api", "huey.consumer"):
        huey_logger = logging.getLogger(name)
        huey_logger.setLevel(logging.WARNING)
        if _FILTER not in huey_logger.filters:
            huey_logger.addFilter(_FILTER)
