"""The processing pipeline of a version: screening -> review -> vote.

Each stage is an object implementing `Stage`. Domains register their stage implementation in
`build_stages`; a stage whose domain is not configured records `not_configured` and the pipeline
stops there, leaving the submission in its current status with the reason visible in the stage
log. Stage runs are keyed by (submission, version, stage), so running the pipeline twice for the
same version never repeats a completed stage.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openxiv.config import Settings
from openxiv.db import after_commit, transaction
from openxiv.errors import Conflict, NotFound
from openxiv.events import service as events
from openxiv.models import StageRun, Submission
from openxiv.models.base import utcnow
from openxiv.storage.port import BlobStore
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.ports import PipelineQueue, RetryLater, Stage, StageContext, StageOutcome, StageState
from openxiv.submissions.service import SystemActor, transition

# The status a version must be in for each stage to run, and the status entering it moves to.
_ENTRY: dict[str, tuple[Status, Status | None]] = {
    "screening": (Status.SUBMITTED, Status.SCREENING),
    "review": (Status.UNDER_REVIEW, None),
    "vote": (Status.UNDER_REVIEW, None),
}
_FINISHED_STATES = ("completed", "not_configured", "held")


@dataclass(frozen=True)
class PipelineRunner:
    """The `PipelineJobs` the queue runs: the pipeline bound to one process's resources."""

    write_sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    settings: Settings
    blobs: BlobStore
    stages: list[Stage]

    def run(self, submission_id: int, version_number: int) -> list[tuple[str, StageState]]:
        return run_pipeline(
            self.write_sessions,
            self.read_sessions,
            self.settings,
            self.blobs,
            self.stages,
            submission_id,
            version_number,
        )

    def gave_up(self, submission_id: int, version_number: int, stage: str) -> None:
        mark_gave_up(self.write_sessions, submission_id, version_number, stage)

    def recover_orphans(self, queue: PipelineQueue) -> list[tuple[int, int, str]]:
        return recover_orphans(self.write_sessions, queue)


def run_pipeline(
    write_factory: sessionmaker[Session],
    read_factory: sessionmaker[Session],
    settings: Settings,
    blobs: BlobStore,
    stages: list[Stage],
    submission_id: int,
    version_number: int,
) -> list[tuple[str, StageState]]:
    """Run every stage not yet finished for this version, in order; stop at the first that does
    not complete. Safe to call again at any point (after a crash, a retry or a duplicate job)."""
    log: list[tuple[str, StageState]] = []
    for stage in stages:
        claim = _claim(write_factory, stage.name, submission_id, version_number)
        if claim == "stop":
            return log
        if claim != "run":
            log.append((stage.name, claim))
            if claim == "completed":
                continue
            return log
        outcome = _run_stage(
            read_factory, write_factory, settings, blobs, stage, submission_id, version_number
        )
        _record(write_factory, stage.name, outcome, submission_id, version_number)
        log.append((stage.name, outcome.state))
        if outcome.state != "completed":
            if outcome.retry:
                raise RetryLater(stage.name, outcome.reason)
            return log
    return log


def _claim(
    write_factory: sessionmaker[Session], stage: str, submission_id: int, version_number: int
) -> Literal["run", "stop"] | StageState:
    """Mark the stage as running in this process, or say why it must not run: "stop" (the version
    was superseded, withdrawn or moved on by a moderator) or the state it already finished in."""
    with transaction(write_factory) as session:
        submission = session.get(Submission, submission_id, with_for_update=True)
        if submission is None or submission.latest_version != version_number:
            return "stop"  # superseded by a newer version, which has its own job
        run = repository.stage_run(session, submission_id, version_number, stage)
        if run is not None and run.state in _FINISHED_STATES:
            return run.state  # type: ignore[return-value]
        entry = _ENTRY.get(stage)
        if entry is not None:
            required, entering = entry
            if entering is not None and submission.status == required.value:
                transition(session, submission, entering, _actor(stage), f"{stage} started")
            elif submission.status not in (required.value, (entering or required).value):
                return "stop"
        if run is None:
            run = StageRun(
                submission_id=submission_id, version_number=version_number, stage=stage, state="running"
            )
            session.add(run)
        run.state = "running"
        run.attempts = (run.attempts or 0) + 1
        run.finished_at = None
        # Who runs it: a worker that finds this process gone re-runs the stage (see
        # `recover_orphans`); the queue itself forgets a job whose worker was killed.
        run.detail = {**(run.detail or {}), "worker": worker_identity()}
        return "run"


def _run_stage(
    read_factory: sessionmaker[Session],
    write_factory: sessionmaker[Session],
    settings: Settings,
    blobs: BlobStore,
    stage: Stage,
    submission_id: int,
    version_number: int,
) -> StageOutcome:
    """The slow part, outside any write transaction: the stage reads through a read session."""
    with read_factory() as read_session:
        submission = read_session.get(Submission, submission_id)
        version = repository.version(read_session, submission_id, version_number)
        assert submission is not None and version is not None
        ctx = StageContext(read_session, write_factory, settings, blobs, submission, version)
        try:
            return stage.run(ctx)
        except Exception as error:  # a crashing stage must leave a visible reason, then retry
            return StageOutcome("failed", reason=f"{error.__class__.__name__}: {error}", retry=True)


def _record(
    write_factory: sessionmaker[Session],
    stage: str,
    outcome: StageOutcome,
    submission_id: int,
    version_number: int,
) -> None:
    """Store what the stage found, announce it, and move the status it asked for."""
    with transaction(write_factory) as session:
        submission = session.get(Submission, submission_id, with_for_update=True)
        run = repository.stage_run(session, submission_id, version_number, stage)
        assert submission is not None and run is not None
        run.state = outcome.state
        run.detail = {**outcome.detail, "reason": outcome.reason} if outcome.reason else dict(outcome.detail)
        run.finished_at = utcnow()
        events.record_stage(session, submission, version_number, stage, outcome.state, outcome.reason)
        still_current = submission.latest_version == version_number
        if (
            outcome.next_status is not None
            and still_current
            and submission.status != outcome.next_status.value
        ):
            transition(
                session, submission, outcome.next_status, _actor(stage), outcome.reason or f"{stage} finished"
            )


def _actor(stage: str) -> SystemActor:
    return SystemActor(f"pipeline:{stage}")


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_orphans(write_factory: sessionmaker[Session], queue: PipelineQueue) -> list[tuple[int, int, str]]:
    """Queue again the versions whose stage was running in a process of this host that is gone
    (a worker killed with -9, or by the OOM killer, mid-stage). Run when a worker starts.

    Stages of processes on other hosts are left alone: their liveness cannot be seen from here.
    Re-running is safe: a stage keeps results a previous run stored, and stores its own in one
    transaction at its end, so a killed run left nothing half-written.
    """
    host = socket.gethostname()
    found: list[tuple[int, int, str]] = []
    with transaction(write_factory) as session:
        for run in session.scalars(select(StageRun).where(StageRun.state == "running")):
            owner = str((run.detail or {}).get("worker", ""))
            owner_host, _, pid = owner.rpartition(":")
            if owner_host != host or not pid.isdigit() or _process_alive(int(pid)):
                continue
            run.detail = {**(run.detail or {}), "worker": "", "orphaned_by": owner}
            found.append((run.submission_id, run.version_number, run.stage))
        versions = sorted({(submission_id, version_number) for submission_id, version_number, _ in found})

        def enqueue() -> None:
            for submission_id, version_number in versions:
                queue.enqueue_pipeline(submission_id, version_number)

        after_commit(session, enqueue)
    return found


def mark_gave_up(
    write_factory: sessionmaker[Session], submission_id: int, version_number: int, stage: str
) -> None:
    """Say on the failed stage that the queue stopped retrying it, so that the stage log shows it
    waits for a moderator (`openxiv requeue`), not for the next retry."""
    with transaction(write_factory) as session:
        run = repository.stage_run(session, submission_id, version_number, stage)
        if run is not None and run.state == "failed":
            run.detail = {**(run.detail or {}), "gave_up": True}


def requeue(
    write_factory: sessionmaker[Session], queue: PipelineQueue, identifier: str
) -> tuple[int, list[str]]:
    """Send the latest version of a submission through its unfinished stages again (after its
    retries ran out). Returns the version and the stages that will run again; raises
    `DomainError` when there is nothing to re-run."""
    with transaction(write_factory) as session:
        submission = repository.by_identifier(session, identifier.split("v")[0])
        if submission is None:
            raise NotFound(f"no submission {identifier}")
        submission_id, version = submission.id, submission.latest_version
        unfinished = [
            run for run in repository.stage_runs(session, submission_id)
            if run.version_number == version and run.state in ("failed", "running")
        ]  # fmt: skip
        if not unfinished:
            raise Conflict(f"{submission.identifier}v{version} has no failed or unfinished stage to re-run")
        for run in unfinished:
            run.detail = {**(run.detail or {}), "requeued": True, "gave_up": False}
        after_commit(session, lambda: queue.enqueue_pipeline(submission_id, version))
        return version, [run.stage for run in unfinished]
