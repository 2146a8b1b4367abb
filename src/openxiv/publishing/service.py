"""DOIs of published items: which exist, which are due at the registrar, and what each one's
registration says. Takes a Session and never commits; the registrar is called by the jobs,
outside any transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.config import Settings
from openxiv.events import service as events
from openxiv.events import types as event_types
from openxiv.models import Submission, SubmissionVersion
from openxiv.models.base import utcnow
from openxiv.models.publishing import REGISTERED, Doi
from openxiv.publishing.metadata import CitationRecord, citation_record, datacite_attributes, doi_url
from openxiv.publishing.ports import doi_for
from openxiv.submissions.service import FoundVersion

PENDING = "pending"
FAILED = "failed"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Site:
    """Who publishes and where: the parts of every citation that come from the settings."""

    base_url: str
    publisher: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Site:
        return cls(
            base_url=settings.base_url.rstrip("/"),
            publisher=settings.publishing.publisher or settings.instance_name,
        )


@dataclass(frozen=True)
class DoiView:
    doi: str
    version: int | None  # None: the concept DOI
    state: str
    registered_at: datetime | None

    @property
    def url(self) -> str:
        return doi_url(self.doi)


@dataclass(frozen=True)
class ItemDois:
    concept: DoiView | None
    versions: dict[int, DoiView]

    def for_version(self, number: int) -> DoiView | None:
        return self.versions.get(number)

    def registered(self) -> dict[int | None, str]:
        """The DOIs that may be cited (they resolve), by version number (None: the concept DOI)."""
        views = [*self.versions.values(), *([self.concept] if self.concept else [])]
        return {view.version: view.doi for view in views if view.state == REGISTERED}


def _view(row: Doi) -> DoiView:
    return DoiView(doi=row.doi, version=row.version_number, state=row.state, registered_at=row.registered_at)


def item_dois(session: Session, submission_id: int) -> ItemDois:
    rows = session.scalars(select(Doi).where(Doi.submission_id == submission_id)).all()
    concept = next((_view(row) for row in rows if row.version_number is None), None)
    versions = {row.version_number: _view(row) for row in rows if row.version_number is not None}
    return ItemDois(concept=concept, versions=versions)


def registered_dois(session: Session, submission_ids: Sequence[int]) -> dict[int, dict[int | None, str]]:
    """`ItemDois.registered()` of many items in one query (a harvest page, a feed); items without
    a registered DOI are absent."""
    found: dict[int, dict[int | None, str]] = {}
    if not submission_ids:
        return found
    rows = session.execute(
        select(Doi.submission_id, Doi.version_number, Doi.doi).where(
            Doi.submission_id.in_(list(submission_ids)), Doi.state == REGISTERED
        )
    )
    for submission_id, version_number, doi in rows:
        found.setdefault(submission_id, {})[version_number] = doi
    return found


def citation_for(
    session: Session, found: FoundVersion, site: Site, registered: dict[int | None, str] | None = None
) -> CitationRecord:
    """The citation record of a version the caller may see, with its registered DOIs (read here
    unless the caller has them: `ItemDois.registered()`)."""
    if registered is None:
        # On the connection: a plain select needs none of the ORM session's execution steps.
        rows = session.connection().execute(_REGISTERED_OF_ITEM, {"id": found.submission.id})
        registered = {number: doi for number, doi in rows}
    return citation_record(
        found.submission, found.version, base_url=site.base_url, publisher=site.publisher, dois=registered
    )


# Read with every item page and item JSON (the Link header), so built once.
_REGISTERED_OF_ITEM = select(Doi.version_number, Doi.doi).where(
    Doi.submission_id == bindparam("id"), Doi.state == REGISTERED
)


def reserve(
    session: Session, settings: Settings, registrar_name: str, submission: Submission, version_number: int
) -> list[Doi]:
    """The DOIs a published version needs: its own and the item's concept DOI, pending until the
    registrar has them. A version DOI that is new makes the registrar's copies of the others
    stale (the concept lists its versions; the previous version points at the next). Nothing is
    added or changed when both exist, so a repeated event does nothing."""
    publishing = settings.publishing
    existing = {
        row.version_number: row
        for row in session.scalars(
            select(Doi).where(Doi.submission_id == submission.id).with_for_update()
        ).all()
    }
    now = utcnow()
    added: list[Doi] = []
    for number in (version_number, None):
        if number in existing:
            continue
        row = Doi(
            submission_id=submission.id,
            version_number=number,
            doi=doi_for(publishing.prefix, publishing.suffix_namespace, submission.identifier, number),
            state=PENDING,
            registrar=registrar_name,
            stale=False,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        added.append(row)
    if any(row.version_number is not None for row in added):
        for row in existing.values():
            if row.state == REGISTERED:
                row.stale = True
                row.updated_at = now
    session.flush()
    return added


@dataclass(frozen=True)
class RegistrationRequest:
    row_id: int
    doi: str
    attributes: dict[str, Any]
    seen_updated_at: datetime  # a change after this (stale again) is not cleared by this answer


def due(session: Session, submission_id: int, site: Site) -> list[RegistrationRequest]:
    """What the registrar must be told about one item: pending DOIs and registered ones whose
    metadata changed, each with the DataCite attributes of what it names. The DOIs of the other
    versions are named in the related identifiers even before they are registered, since they
    are registered by the same job."""
    rows = session.scalars(
        select(Doi)
        .where(
            Doi.submission_id == submission_id,
            or_(Doi.state == PENDING, (Doi.state == REGISTERED) & Doi.stale.is_(True)),
        )
        .order_by(Doi.version_number.is_(None), Doi.version_number)
    ).all()
    if not rows:
        return []
    submission = session.get(Submission, submission_id)
    if submission is None:
        return []
    every = {
        row.version_number: row.doi
        for row in session.scalars(select(Doi).where(Doi.submission_id == submission_id))
    }
    versions = {
        version.number: version
        for version in session.scalars(
            select(SubmissionVersion).where(SubmissionVersion.submission_id == submission_id)
        )
    }
    requests: list[RegistrationRequest] = []
    for row in rows:
        # The concept DOI describes the item by its latest version that has a DOI of its own.
        number = row.version_number or max(
            (n for n in every if n is not None), default=submission.latest_version
        )
        version = versions.get(number)
        if version is None:
            continue
        record = citation_record(
            submission, version, base_url=site.base_url, publisher=site.publisher, dois=every
        )
        attributes = datacite_attributes(record, doi=row.doi, concept=row.version_number is None)
        requests.append(RegistrationRequest(row.id, row.doi, attributes, row.updated_at))
    return requests


def record_registered(session: Session, request: RegistrationRequest, registrar_name: str) -> None:
    row = session.get(Doi, request.row_id, with_for_update=True)
    if row is None:
        return
    now = utcnow()
    first_time = row.registered_at is None
    row.state = REGISTERED
    row.registrar = registrar_name
    row.attempts += 1
    row.last_error = None
    row.next_attempt_at = None
    row.registered_at = row.registered_at or now
    if row.updated_at == request.seen_updated_at:
        row.stale = False
    row.updated_at = now
    if first_time:
        # The DOI now resolves and is cited: harvested records and exports change with it.
        submission = session.get(Submission, row.submission_id)
        events.record(
            session,
            event_types.DOI_REGISTERED,
            submission,
            row.version_number,
            doi=row.doi,
            concept=row.version_number is None,
        )


def record_failure(
    session: Session, request: RegistrationRequest, error: str, *, permanent: bool, schedule: Sequence[float]
) -> float | None:
    """Count a failed attempt. Returns the delay before the next one, or None when the DOI is
    now `failed` (the schedule is spent, or the registrar refused the metadata). A DOI that was
    registered before keeps resolving: only its update is retried."""
    row = session.get(Doi, request.row_id, with_for_update=True)
    if row is None:
        return None
    now = utcnow()
    row.attempts += 1
    row.last_error = error[:MAX_ERROR_CHARS]
    row.updated_at = now
    retry = row.attempts - 1
    if not permanent and retry < len(schedule):
        delay = float(schedule[retry])
        row.next_attempt_at = now + timedelta(seconds=delay)
        return delay
    row.next_attempt_at = None
    if row.state == PENDING:
        row.state = FAILED
    else:
        row.stale = False  # given up on the update; the registered metadata stays as it was
    return None


def retry_failed(session: Session, submission_id: int) -> int:
    """Put an item's failed DOIs back in line (after the settings or the metadata were fixed).
    Returns how many."""
    rows = session.scalars(select(Doi).where(Doi.submission_id == submission_id, Doi.state == FAILED)).all()
    now = utcnow()
    for row in rows:
        row.state = PENDING
        row.attempts = 0
        row.next_attempt_at = now
        row.updated_at = now
    return len(rows)


def retry_failed_as(session: Session, principal: Principal, submission: Submission) -> int:
    """A moderator puts an item's failed DOIs back in line (see retry_failed)."""
    authz.authorize_moderate(principal)
    return retry_failed(session, submission.id)
