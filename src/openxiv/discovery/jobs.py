"""Background jobs of the discovery domain: keep the public read model (and with it the search
index, which triggers maintain) in step with each submission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openxiv.db import transaction
from openxiv.discovery.entries import refresh_entry
from openxiv.events import service as events
from openxiv.models import Submission

REFRESH_DISCOVERY_ENTRY = "refresh_discovery_entry"


def refresh_discovery_entry(
    write_sessions: sessionmaker[Session], payload: dict[str, Any], *, body_chars: int
) -> bool:
    """A status change (a new version starts one too) or a completed review rebuilds the item's
    row. Returns whether the item has a row now."""
    with transaction(write_sessions) as session:
        event = events.get(session, int(payload["event_id"]))
        if event is None or event.submission_id is None:
            return False
        return refresh_entry(session, event.submission_id, body_chars=body_chars) is not None


def reindex_all(write_sessions: sessionmaker[Session], *, body_chars: int, batch: int = 500) -> int:
    """Rebuild every item's row (after an upgrade, or to repair); returns how many have one."""
    with write_sessions() as session:
        ids = list(session.scalars(select(Submission.id).order_by(Submission.id)))
    kept = 0
    for start in range(0, len(ids), batch):
        with transaction(write_sessions) as session:
            for submission_id in ids[start : start + batch]:
                kept += refresh_entry(session, submission_id, body_chars=body_chars) is not None
    return kept
