"""The processing pipeline of a version: screening -> review -> vote.

Each stage is an object implementing `Stage`. Domains register their stage implementation in
`build_stages`; a stage whose domain is not configured records `not_configured` and the pipeline
stops there, leaving the submission in its current status with the reason visible in the stage
log. Stage runs are keyed by (submission, version, stage), so running the pipeline twice for the
same version never repeats a completed stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session, sessionmaker

from openxiv.config import Settings
from openxiv.models import Submission, SubmissionVersion
from openxiv.models.base import utcnow
from openxiv.storage.port import BlobStore
from openxiv.submissions.lifecycle import Status

StageState = Literal["completed", "not_configured", "failed", "held"]
STAGE_ORDER = ("screening", "review", "vote")


@dataclass(frozen=True)
class StageContext:
    """What a stage gets.

    `session` is a read-only session (deferred transaction) holding `submission` and `version`;
    use it to load inputs. A stage that stores results (reports, reviews, votes) writes them in
    its own short transaction: `with transaction(ctx.session_factory) as s: ...` (from
    `openxiv.db`), after the slow work (LLM calls) is done, so that no write lock is held while
    waiting on a model. The runner records the returned outcome and moves the lifecycle status.
    """

    session: Session
    session_factory: sessionmaker[Session]
    settings: Settings
    blobs: BlobStore
    submission: Submission
    version: SubmissionVersion


@dataclass(frozen=True)
class StageOutcome:
    """What a stage found.

    `next_status` is the lifecycle status to move to (None: stay), `reason` is logged with the
    transition, `detail` is stored with the stage run, `retry` asks the queue to try again later
    (the stage run stays open).
    """

    state: StageState
    reason: str = ""
    next_status: Status | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    retry: bool = False


class Stage(Protocol):
    name: str

    def run(self, ctx: StageContext) -> StageOutcome: ...


class PipelineQueue(Protocol):
    """Where new versions are sent for processing (Huey in production, inline in tests)."""

    def enqueue_pipeline(self, submission_id: int, version_number: int) -> None: ...


class RetryLater(Exception):
    """Raised by the runner when a stage asked to be retried; the queue schedules another try."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage, self.reason = stage, reason


# The status a version must be in for each stage to run, and the status entering it moves to.
_ENTRY: dict[str, tuple[Status, Status | None]] = {
    "screening": (Status.SUBMITTED, Status.SCREENING),
    "review": (Status.UNDER_REVIEW, None),
    "vote": (Status.UNDER_REVIEW, None),
}
_FINISHED_STATES = ("completed", "not_configured", "held")


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
    from openxiv.db import transaction
    from openxiv.models import StageRun
    from openxiv.submissions import repository
    from openxiv.submissions.service import SystemActor, transition

    log: list[tuple[str, StageState]] = []
    for stage in stages:
        actor = SystemActor(f"pipeline:{stage.name}")
        with transaction(write_factory) as session:
            submission = session.get(Submission, submission_id, with_for_update=True)
            if submission is None or submission.latest_version != version_number:
                return log  # superseded by a newer version, which has its own job
            run = repository.stage_run(session, submission_id, version_number, stage.name)
            if run is not None and run.state in _FINISHED_STATES:
                log.append((stage.name, run.state))  # type: ignore[arg-type]
                if run.state == "completed":
                    continue
                return log
            entry = _ENTRY.get(stage.name)
            if entry is not None:
                required, entering = entry
                if entering is not None and submission.status == required.value:
                    transition(session, submission, entering, actor, f"{stage.name} started")
                elif submission.status not in (required.value, (entering or required).value):
                    return log  # withdrawn or moved on by a moderator: nothing to do
            if run is None:
                run = StageRun(
                    submission_id=submission_id,
                    version_number=version_number,
                    stage=stage.name,
                    state="running",
                )
                session.add(run)
            run.state = "running"
            run.attempts = (run.attempts or 0) + 1
            run.finished_at = None
            # Who runs it: a worker that finds this process gone re-runs the stage (see
            # `recover_orphans`); the queue itself forgets a job whose worker was killed.
            run.detail = {**(run.detail or {}), "worker": worker_identity()}
        with read_factory() as read_session:
            submission = read_session.get(Submission, submission_id)
            version = repository.version(read_session, submission_id, version_number)
            assert submission is not None and version is not None
            ctx = StageContext(read_session, write_factory, settings, blobs, submission, version)
            try:
                outcome = stage.run(ctx)
            except Exception as error:  # a crashing stage must leave a visible reason, then retry
                outcome = StageOutcome("failed", reason=f"{error.__class__.__name__}: {error}", retry=True)
        with transaction(write_factory) as session:
            submission = session.get(Submission, submission_id, with_for_update=True)
            run = repository.stage_run(session, submission_id, version_number, stage.name)
            assert submission is not None and run is not None
            run.state = outcome.state
            run.detail = (
                {**outcome.detail, "reason": outcome.reason} if outcome.reason else dict(outcome.detail)
            )
            run.finished_at = utcnow()
            still_current = submission.latest_version == version_number
            if (
                outcome.next_status is not None
                and still_current
                and submission.status != outcome.next_status.value
            ):
                transition(
                    session,
                    submission,
                    outcome.next_status,
                    actor,
                    outcome.reason or f"{stage.name} finished",
                )
        log.append((stage.name, outcome.state))
        if outcome.state != "completed":
            if outcome.retry:
                raise RetryLater(stage.name, outcome.reason)
            return log
    return log


def worker_identity() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    import os

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
    import socket

    from sqlalchemy import select

    from openxiv.db import after_commit, transaction
    from openxiv.models import StageRun

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
    from openxiv.db import transaction
    from openxiv.submissions import repository

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
    from openxiv.db import after_commit, transaction
    from openxiv.errors import Conflict, NotFound
    from openxiv.submissions import repository

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
