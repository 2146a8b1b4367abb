"""The moderators' queue: versions that screening held, and the decision on each.

Screening holds a version (status `held`) when no reviewable text could be
extracted or the integrity scan found content aimed at reviewers. Only its author could move it
on (a new version, or withdrawal) until a moderator decides: *release* sends the version to
review -- the screening run is marked completed with the release recorded in it, and the
pipeline continues with the review stage -- and *reject* ends it. Each decision is a logged
transition with the moderator as actor and their reason, like every other status change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.errors import IllegalTransition, InvalidInput, NotFound
from openxiv.models import StageRun, Submission
from openxiv.models.base import utcnow
from openxiv.submissions import repository
from openxiv.submissions.identifiers import parse_identifier
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.ports import PipelineQueue
from openxiv.submissions.service import enqueue_after_commit, transition
from openxiv.validation import clean_text


@dataclass(frozen=True)
class HeldVersion:
    submission: Submission
    version_number: int
    held_since: datetime
    reason: str
    screening: dict[str, Any]  # the screening run's findings: format checks, integrity summary


def held_versions(session: Session, principal: Principal, *, limit: int = 50) -> list[HeldVersion]:
    """The queue, longest-waiting first, with what screening found for each version."""
    authz.authorize_moderate(principal)
    rows = session.execute(
        select(Submission, StageRun)
        .outerjoin(
            StageRun,
            and_(
                StageRun.submission_id == Submission.id,
                StageRun.version_number == Submission.latest_version,
                StageRun.stage == "screening",
            ),
        )
        .where(Submission.status == Status.HELD.value)
        .order_by(Submission.updated_at, Submission.id)
        .limit(limit)
    ).all()
    queue = []
    for submission, run in rows:
        detail = dict(run.detail or {}) if run is not None else {}
        queue.append(
            HeldVersion(
                submission=submission,
                version_number=submission.latest_version,
                held_since=submission.updated_at,
                reason=str(detail.pop("reason", "")),
                screening=detail,
            )
        )
    return queue


def decide(
    session: Session,
    principal: Principal,
    queue: PipelineQueue | None,
    identifier: str,
    decision: str,
    reason: str,
) -> Submission:
    authz.authorize_moderate(principal)
    if decision not in ("release", "reject"):
        raise InvalidInput(f"decision must be 'release' or 'reject', not {decision!r}", field="decision")
    reason = clean_text(reason, "reason", max_length=5000, multiline=True)
    base, _ = parse_identifier(identifier)
    submission = repository.by_identifier(session, base, for_update=True)
    if submission is None:
        raise NotFound(f"no submission {base}")
    if submission.status != Status.HELD.value:
        raise IllegalTransition(
            f"{submission.identifier} is not held for a moderator (it is {submission.status})",
            status=submission.status,
            target="under_review" if decision == "release" else "rejected",
        )
    if decision == "reject":
        transition(session, submission, Status.REJECTED, principal, f"rejected by a moderator: {reason}")
        return submission
    run = repository.stage_run(session, submission.id, submission.latest_version, "screening")
    if run is not None:
        released = {"by_account": principal.account_id, "reason": reason, "at": utcnow().isoformat()}
        run.detail = {**(run.detail or {}), "released": released}
        run.state = "completed"
    transition(session, submission, Status.UNDER_REVIEW, principal, f"released by a moderator: {reason}")
    enqueue_after_commit(session, queue, submission.id, submission.latest_version)
    return submission
