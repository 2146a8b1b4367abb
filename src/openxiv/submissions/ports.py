"""The contract between the pipeline runner and the domains' stages, and the queue port.

Domains implement `Stage`; the runner (`submissions.pipeline`) calls them; the queue adapter
(`openxiv.worker`) implements `PipelineQueue`. Nothing here imports a domain service, so every
side can depend on it without a loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session, sessionmaker

from openxiv.config import Settings
from openxiv.models import Submission, SubmissionVersion
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


class PipelineJobs(Protocol):
    """What the queue adapter runs for a version: the pipeline and its bookkeeping."""

    def run(self, submission_id: int, version_number: int) -> list[tuple[str, StageState]]: ...

    def gave_up(self, submission_id: int, version_number: int, stage: str) -> None: ...

    def recover_orphans(self, queue: PipelineQueue) -> list[tuple[int, int, str]]: ...
