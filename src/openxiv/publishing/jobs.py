"""Background jobs of the publishing domain: DOIs for items that reach a published status.

`mint_dois` runs when a status change is dispatched: for a version that became provisionally
accepted or accepted it reserves the version's DOI and the item's concept DOI (rows that show as
pending at once), then registers them. The registrar is called outside any transaction; each
answer is recorded in its own. A registrar that is down leaves the DOIs pending and queues
`register_dois` for the item after the next delay of the schedule; the item itself stays
published whatever the registrar does.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from openxiv.config import Settings
from openxiv.db import transaction
from openxiv.events import service as events
from openxiv.events.ports import DelayedJobQueue
from openxiv.models import Submission
from openxiv.publishing import service
from openxiv.publishing.ports import Registrar, RegistrarError
from openxiv.publishing.registrars import make_registrar
from openxiv.submissions.lifecycle import PUBLISHED

MINT_DOIS = "mint_dois"
REGISTER_DOIS = "register_dois"
logger = logging.getLogger("openxiv.publishing")


def mint_dois(
    write_sessions: sessionmaker[Session],
    queue: DelayedJobQueue,
    settings: Settings,
    payload: dict[str, Any],
    registrar: Registrar | None = None,
) -> str:
    """Reserve and register the DOIs of a version that was published. Returns what it did."""
    registrar = registrar or make_registrar(settings.publishing)
    if registrar is None:
        return "off"
    with transaction(write_sessions) as session:
        event = events.get(session, int(payload["event_id"]))
        if event is None or event.submission_id is None or event.version_number is None:
            return "skipped"
        if event.payload.get("status") not in PUBLISHED:
            return "skipped"
        submission = session.get(Submission, event.submission_id)
        if submission is None or submission.status not in PUBLISHED:
            return "skipped"  # withdrawn or moved on before the job ran: nothing to publish
        service.reserve(session, settings, registrar.name, submission, event.version_number)
        submission_id = submission.id
    return register_due(write_sessions, queue, settings, registrar, submission_id)


def register_dois(
    write_sessions: sessionmaker[Session],
    queue: DelayedJobQueue,
    settings: Settings,
    payload: dict[str, Any],
    registrar: Registrar | None = None,
) -> str:
    """A retry: register whatever of one item is still due."""
    registrar = registrar or make_registrar(settings.publishing)
    if registrar is None:
        return "off"
    return register_due(write_sessions, queue, settings, registrar, int(payload["submission_id"]))


def register_due(
    write_sessions: sessionmaker[Session],
    queue: DelayedJobQueue,
    settings: Settings,
    registrar: Registrar,
    submission_id: int,
) -> str:
    site = service.Site.from_settings(settings)
    with transaction(write_sessions) as session:
        requests = service.due(session, submission_id, site)
    if not requests:
        return "nothing due"
    registered = 0
    delays: list[float] = []
    for request in requests:
        try:
            registrar.register(request.doi, request.attributes)
        except RegistrarError as error:
            with transaction(write_sessions) as session:
                delay = service.record_failure(
                    session,
                    request,
                    str(error),
                    permanent=error.permanent,
                    schedule=settings.publishing.retry_schedule_s,
                )
            if delay is None:
                logger.warning("doi %s: registration failed for good: %s", request.doi, error)
            else:
                logger.info("doi %s: registration failed (%s); retry in %.0f s", request.doi, error, delay)
                delays.append(delay)
            continue
        with transaction(write_sessions) as session:
            service.record_registered(session, request, registrar.name)
        registered += 1
    if delays:
        # One retry for the item: it registers every DOI of the item that is still due.
        # (the failures were committed above).
        queue.enqueue_job_later(REGISTER_DOIS, {"submission_id": submission_id}, min(delays))
    return f"registered {registered} of {len(requests)}"
