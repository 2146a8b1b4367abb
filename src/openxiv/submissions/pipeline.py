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
                raise RetryLater(f"{stage.name}: {outcome.reason}")
            return log
    return log
