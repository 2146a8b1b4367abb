"""The public read model: which items the public can find, and the row each one is found by.

`refresh_entry` is the one writer of `discovery_entries`; it rebuilds an item's row from the
submission, its latest version and its transition log, so running it twice (a retried job, an
event delivered twice) changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openxiv.community import service as community
from openxiv.discovery.repository import as_utc
from openxiv.models import Account, Submission, Transition
from openxiv.models.discovery import DiscoveryCategory, DiscoveryEntry
from openxiv.models.publishing import REGISTERED, Doi
from openxiv.models.review import Review
from openxiv.submissions import repository as submissions
from openxiv.submissions.lifecycle import PUBLISHED, Status
from openxiv.submissions.version_meta import VersionMeta

# Past screening and not held, rejected or withdrawn: what the latest feeds list.
LISTED = frozenset({Status.UNDER_REVIEW, Status.REVISION_REQUESTED, *PUBLISHED})
# What search finds: listed items and rejected ones (their page stays public with its reviews).
SEARCHABLE = LISTED | {Status.REJECTED}
# A published item that was withdrawn stays in OAI-PMH as a deleted record (deletedRecord=persistent).
WITHDRAWN = Status.WITHDRAWN.value


def is_harvestable(entry: DiscoveryEntry) -> bool:
    """Whether OAI-PMH shows the record: published, or once published and now withdrawn (deleted)."""
    return entry.published_at is not None and (entry.status in PUBLISHED or entry.status == WITHDRAWN)


def refresh_entry(session: Session, submission_id: int, *, body_chars: int) -> DiscoveryEntry | None:
    """Bring the item's row up to date; an item that was never public gets none."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        return None
    entry = session.get(DiscoveryEntry, submission_id)
    if entry is None and submission.status not in SEARCHABLE:
        return None  # not public yet (or never): nothing to find
    version = submissions.version(session, submission.id, submission.latest_version)
    if version is None:
        return None
    first_listed, first_published, last_change = _milestones(session, submission.id)
    meta = VersionMeta.from_column(version.meta)
    owner = session.get(Account, submission.owner_id)
    counts = community.engagement_counts(session, [submission.id])[submission.id]
    values: dict[str, Any] = {
        "identifier": submission.identifier,
        "kind": submission.kind,
        "status": submission.status,
        "version_number": version.number,
        "title": version.title,
        "abstract": version.abstract,
        "body": version.extracted_text[:body_chars],
        "categories": _categories(meta.categories),
        "keywords": list(meta.keywords),
        "authors": [
            {"name": a.name, "kind": a.kind, "orcid": a.orcid, "affiliation": a.affiliation}
            for a in version.authors
        ],
        "licence": meta.licence,
        "ai_involvement": meta.ai_involvement,
        "submitter_id": submission.owner_id,
        "submitter_name": owner.display_name if owner else "",
        "created_at": submission.created_at,
        "listed_at": first_listed,
        "published_at": first_published,
        "datestamp": max(
            moment
            for moment in (last_change or submission.updated_at, _doi_registered(session, submission.id))
            if moment is not None
        ),
        "completed_reviews": completed_reviews(session, submission.id),
        # Triggers keep these in step from here on; a new row starts from the current counts.
        "likes": counts.likes,
        "comments": counts.comments,
    }
    if entry is None:
        entry = DiscoveryEntry(submission_id=submission.id, **values)
        session.add(entry)
    else:
        for name, value in values.items():
            if getattr(entry, name) != value:
                setattr(entry, name, value)
    session.flush()
    _replace_categories(session, submission.id, values["categories"])
    return entry


def completed_reviews(session: Session, submission_id: int) -> int:
    """Completed reviews of any version, the AI's and outside reviewers' (trending counts them)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Review)
            .where(Review.submission_id == submission_id, Review.status == "completed")
        )
        or 0
    )


def _doi_registered(session: Session, submission_id: int) -> datetime | None:
    """When the item's last DOI was registered: its harvested record gains the DOI then, so the
    record's datestamp moves and incremental harvests fetch it again."""
    return as_utc(
        session.scalar(
            select(func.max(Doi.registered_at)).where(
                Doi.submission_id == submission_id, Doi.state == REGISTERED
            )
        )
    )


def _milestones(
    session: Session, submission_id: int
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """When the item first became listed, first became published, and last changed status."""
    listed = [s.value for s in LISTED]
    published = [s.value for s in PUBLISHED]
    first_listed = session.scalar(
        select(func.min(Transition.created_at)).where(
            Transition.submission_id == submission_id, Transition.to_status.in_(listed)
        )
    )
    first_published = session.scalar(
        select(func.min(Transition.created_at)).where(
            Transition.submission_id == submission_id, Transition.to_status.in_(published)
        )
    )
    last_change = session.scalar(
        select(func.max(Transition.created_at)).where(Transition.submission_id == submission_id)
    )
    return as_utc(first_listed), as_utc(first_published), as_utc(last_change)


def _categories(given: list[str]) -> list[str]:
    """The categories as filters see them (trimmed, at most 64 characters, each once), in the
    author's order. The row's list and the category rows hold the same names: PostgreSQL's search
    finds a category's matches through either (`search.PostgresTsvectorIndex`)."""
    return list(dict.fromkeys(name.strip()[:64] for name in given if name.strip()))


def _replace_categories(session: Session, submission_id: int, categories: list[str]) -> None:
    wanted = set(categories)
    current = set(
        session.scalars(
            select(DiscoveryCategory.category).where(DiscoveryCategory.submission_id == submission_id)
        )
    )
    if current - wanted:
        session.execute(
            delete(DiscoveryCategory).where(
                DiscoveryCategory.submission_id == submission_id,
                DiscoveryCategory.category.in_(current - wanted),
            )
        )
    for category in sorted(wanted - current):
        session.add(DiscoveryCategory(submission_id=submission_id, category=category))
    session.flush()
