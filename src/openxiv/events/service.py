"""Recording events in the writer's transaction, and handing them to subscriber jobs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openxiv.db import after_commit, transaction
from openxiv.events import types
from openxiv.events.ports import ANY_EVENT, JobQueue
from openxiv.models import Event, Submission
from openxiv.models.base import utcnow

# A session whose factory carries this key in its `info` calls the function once its
# transaction has committed with new events in it (the runtime sets it to enqueue a dispatch).
EVENT_SINK_KEY = "openxiv_event_sink"
DISPATCH_BATCH = 200


def record(
    session: Session,
    event_type: str,
    submission: Submission | None = None,
    version_number: int | None = None,
    **payload: Any,
) -> Event:
    event = Event(
        type=event_type,
        submission_id=submission.id if submission is not None else None,
        version_number=version_number,
        owner_id=submission.owner_id if submission is not None else None,
        payload=payload,
        created_at=utcnow(),
    )
    session.add(event)
    sink: Callable[[], None] | None = session.info.get(EVENT_SINK_KEY)
    if sink is not None:
        after_commit(session, sink)
    return event


def record_status(
    session: Session,
    submission: Submission,
    version_number: int,
    previous: str | None,
    target: str,
    reason: str,
) -> Event:
    return record(
        session,
        types.STATUS_CHANGED,
        submission,
        version_number,
        previous=previous,
        status=target,
        reason=reason,
    )


def record_stage(
    session: Session, submission: Submission, version_number: int, stage: str, state: str, reason: str
) -> Event | None:
    event_type = types.STAGE_EVENTS.get((stage, state))
    if event_type is None:
        return None
    return record(session, event_type, submission, version_number, stage=stage, state=state, reason=reason)


def dispatch_pending(
    write_sessions: sessionmaker[Session], subscriptions: Mapping[str, Sequence[str]], queue: JobQueue
) -> int:
    """Hand every undispatched event to the jobs subscribed to its type; returns how many events.

    Marking and enqueueing happen together: the jobs are enqueued once the marks are committed,
    and two dispatchers never take the same event (row locks on PostgreSQL, the single writer on
    SQLite).
    """
    handed = 0
    while True:
        with transaction(write_sessions) as session:
            batch = session.scalars(
                select(Event)
                .where(Event.dispatched_at.is_(None))
                .order_by(Event.id)
                .limit(DISPATCH_BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            now = utcnow()
            jobs = [
                (job, event.id)
                for event in batch
                for job in (*subscriptions.get(event.type, ()), *subscriptions.get(ANY_EVENT, ()))
            ]
            for event in batch:
                event.dispatched_at = now

            def enqueue(jobs: list[tuple[str, int]] = jobs) -> None:
                for job, event_id in jobs:
                    queue.enqueue_job(job, {"event_id": event_id})

            after_commit(session, enqueue)
        handed += len(batch)
        if len(batch) < DISPATCH_BATCH:
            return handed


def get(session: Session, event_id: int) -> Event | None:
    return session.get(Event, event_id)
