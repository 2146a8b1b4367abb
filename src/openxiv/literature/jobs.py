"""Background jobs of the literature domain, run by the queue when events they subscribe to occur."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from openxiv.db import transaction
from openxiv.events import service as events
from openxiv.literature.service import index_submission
from openxiv.models import Submission
from openxiv.submissions.lifecycle import PUBLISHED

INDEX_PUBLISHED_VERSION = "index_published_version"


def index_published_version(write_sessions: sessionmaker[Session], payload: dict[str, Any]) -> bool:
    """Published work grounds later reviews: a status change into a published status adds the
    submission to the literature index. Returns whether it indexed anything."""
    with transaction(write_sessions) as session:
        event = events.get(session, int(payload["event_id"]))
        if event is None or event.submission_id is None:
            return False
        if event.payload.get("status") not in PUBLISHED:
            return False
        submission = session.get(Submission, event.submission_id)
        if submission is None or submission.status not in PUBLISHED:
            return False  # withdrawn or moved on since: the index must not show it
        index_submission(session, submission.id)
        return True
