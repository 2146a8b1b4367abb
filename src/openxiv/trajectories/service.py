"""Assemble trajectory records, one page of public submissions at a time.

What is exported (docs/trajectories.md, "Which items"):
- an item only while the public may see it and what it shows is settled: not held (a held item
  may hide an attack on reviewers, and the public cannot see it at all), not in the middle of
  screening (the new version may yet be held);
- of such an item, only the versions that went to review (passed screening or were released by a
  moderator); a version that screening held and that was never released stays out;
- withdrawn items stay in, with their status and the withdrawal in `transitions` (the public can
  still read them, and the licence they were published under does not lapse);
- reviews, panels and pairwise verdicts that completed (failed attempts are operations data).

Every page is loaded in a fixed number of queries, however many items it holds: the submissions,
then their versions (with authors), transitions, reviews (with sub-reviews), panels (with votes),
pairwise verdicts, external votes and files, each for the whole page at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from openxiv.errors import InvalidInput
from openxiv.models import Blob, Submission, SubmissionVersion, Transition
from openxiv.models.review import ExternalVote, PairwiseVerdict, Review, VotePanel
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.version_meta import VersionMeta
from openxiv.trajectories.schemas import (
    ActorRecord,
    AuthorRecord,
    ExternalVoteRecord,
    FileRecord,
    PairwiseRecord,
    PanelRecord,
    ReviewRecord,
    SubReviewRecord,
    TrajectoryPage,
    TrajectoryRecord,
    TransitionRecord,
    VersionRecord,
    VoteRecord,
)

# Held: hidden from the public. Submitted/screening: the latest version may still be held.
EXPORTED_STATUSES = frozenset(
    {
        Status.UNDER_REVIEW.value,
        Status.REVISION_REQUESTED.value,
        Status.PROVISIONALLY_ACCEPTED.value,
        Status.ACCEPTED.value,
        Status.REJECTED.value,
        Status.WITHDRAWN.value,
    }
)
# A version went to review when the log shows it entering `under_review`.
_REVIEWED = Status.UNDER_REVIEW.value
MAX_PAGE = 200
R = TypeVar("R")
RecordT = TypeVar("RecordT", bound=BaseModel)


@dataclass
class _PageData:
    """Everything of one page's submissions, grouped by the row it belongs to."""

    versions: dict[int, list[SubmissionVersion]]
    transitions: dict[int, list[Transition]]
    reviews: dict[int, list[Review]]
    panels: dict[int, list[VotePanel]]
    pairwise: dict[int, list[PairwiseVerdict]]
    external_votes: dict[int, list[ExternalVote]]
    files: dict[str, Blob]
    numbers: dict[int, int]  # version id -> version number


def trajectory_page(
    session: Session,
    *,
    cursor: str | None = None,
    limit: int = 50,
    kind: str | None = None,
    include_text: bool = False,
) -> TrajectoryPage:
    """One page of trajectory records, oldest submission first (keyset on the id, so an export
    running while new items arrive neither skips nor repeats one)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    if kind is not None and kind not in ("paper", "proposal"):
        raise InvalidInput("kind must be paper or proposal", field="kind")
    after_id = repository.decode_cursor(cursor) if cursor else 0
    query = (
        select(Submission)
        .where(Submission.id > after_id, Submission.status.in_(EXPORTED_STATUSES))
        .order_by(Submission.id)
        .limit(limit + 1)
    )
    if kind is not None:
        query = query.where(Submission.kind == kind)
    rows = list(session.scalars(query))
    page, more = rows[:limit], len(rows) > limit
    data = _load(session, page)
    records = [record for item in page if (record := _record(item, data, include_text)) is not None]
    next_cursor = repository.encode_cursor(page[-1].id) if more else None
    return TrajectoryPage(items=records, next_cursor=next_cursor)


def iter_trajectories(
    session: Session, *, kind: str | None = None, include_text: bool = False, page_size: int = 100
) -> Iterator[TrajectoryRecord]:
    """Every record, page after page (what `openxiv export trajectories` writes)."""
    cursor: str | None = None
    while True:
        page = trajectory_page(session, cursor=cursor, limit=page_size, kind=kind, include_text=include_text)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
        session.expunge_all()  # keep memory flat over a long export


def _grouped(rows: Iterable[R], key: Callable[[R], int]) -> dict[int, list[R]]:
    grouped: dict[int, list[R]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return dict(grouped)


def _load(session: Session, page: Sequence[Submission]) -> _PageData:
    ids = [item.id for item in page]
    if not ids:
        return _PageData({}, {}, {}, {}, {}, {}, {}, {})
    versions = list(
        session.scalars(
            select(SubmissionVersion)
            .where(SubmissionVersion.submission_id.in_(ids))
            .options(selectinload(SubmissionVersion.authors))
            .order_by(SubmissionVersion.submission_id, SubmissionVersion.number)
        )
    )
    version_ids = [v.id for v in versions]
    transitions = session.scalars(
        select(Transition).where(Transition.submission_id.in_(ids)).order_by(Transition.id)
    )
    reviews = session.scalars(
        select(Review)
        .where(Review.version_id.in_(version_ids), Review.status == "completed")
        .options(selectinload(Review.sub_reviews))
        .order_by(Review.id)
    )
    panels = session.scalars(
        select(VotePanel)
        .where(VotePanel.version_id.in_(version_ids), VotePanel.status == "completed")
        .options(selectinload(VotePanel.votes))
        .order_by(VotePanel.id)
    )
    pairwise = session.scalars(
        select(PairwiseVerdict)
        .where(PairwiseVerdict.version_id.in_(version_ids), PairwiseVerdict.status == "completed")
        .order_by(PairwiseVerdict.id)
    )
    external_votes = session.scalars(
        select(ExternalVote).where(ExternalVote.version_id.in_(version_ids)).order_by(ExternalVote.id)
    )
    shas = {sha for v in versions for sha in (v.source_sha256, v.pdf_sha256) if sha is not None}
    return _PageData(
        versions=_grouped(versions, lambda v: v.submission_id),
        transitions=_grouped(transitions, lambda t: t.submission_id),
        reviews=_grouped(reviews, lambda r: r.version_id),
        panels=_grouped(panels, lambda p: p.version_id),
        pairwise=_grouped(pairwise, lambda p: p.version_id),
        external_votes=_grouped(external_votes, lambda v: v.version_id),
        files=repository.blobs(session, shas),
        numbers={v.id: v.number for v in versions},
    )


def _record(item: Submission, data: _PageData, include_text: bool) -> TrajectoryRecord | None:
    log = data.transitions.get(item.id, [])
    reviewed = {t.version_number for t in log if t.to_status == _REVIEWED}
    versions = [
        _version(item, v, data, include_text) for v in data.versions.get(item.id, []) if v.number in reviewed
    ]
    if not versions:
        return None  # nothing of it ever went to review: nothing the public should learn from
    return TrajectoryRecord(
        id=item.identifier,
        kind=item.kind,
        status=item.status,
        title=item.title,
        licence=versions[-1].licence,
        owner_id=item.owner_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
        versions=versions,
        transitions=[
            TransitionRecord(
                version=t.version_number,
                from_status=t.from_status,
                to_status=t.to_status,
                actor=ActorRecord(
                    account_id=t.actor_account_id, agent_id=t.actor_agent_id, system=t.actor_system
                ),
                reason=t.reason,
                at=t.created_at,
            )
            for t in log
        ],
    )


def _file(blob: Blob | None, url: str) -> FileRecord | None:
    if blob is None:
        return None
    return FileRecord(
        sha256=blob.sha256, size=blob.size, media_type=blob.media_type, filename=blob.filename, url=url
    )


def _version(
    item: Submission, version: SubmissionVersion, data: _PageData, include_text: bool
) -> VersionRecord:
    meta = VersionMeta.from_column(version.meta)
    identifier = f"{item.identifier}v{version.number}"
    base = f"/api/v1/submissions/{identifier}"
    return VersionRecord(
        version=version.number,
        identifier=identifier,
        title=version.title,
        abstract=version.abstract,
        authors=[AuthorRecord.model_validate(a, from_attributes=True) for a in version.authors],
        corresponding_author=meta.corresponding_author,
        keywords=list(meta.keywords),
        categories=list(meta.categories),
        licence=meta.licence,
        ai_involvement=meta.ai_involvement,
        ip_attribution=meta.ip_attribution.model_dump(),
        links=dict(meta.links),
        proposal=dict(version.proposal) if version.proposal else None,
        source_format=version.source_format,
        source=_file(data.files.get(version.source_sha256 or ""), f"{base}/source"),
        pdf=_file(data.files.get(version.pdf_sha256 or ""), f"{base}/pdf"),
        text_characters=len(version.extracted_text),
        text=version.extracted_text if include_text else None,
        response_letter=version.response_letter,
        submitted_by=ActorRecord(
            account_id=version.created_by_account_id, agent_id=version.created_by_agent_id
        ),
        created_at=version.created_at,
        reviews=[_review(r) for r in data.reviews.get(version.id, [])],
        panels=[_panel(p) for p in data.panels.get(version.id, [])],
        pairwise=[
            _from_row(
                PairwiseRecord,
                p,
                against_version=data.numbers.get(p.other_version_id, 0),
                verdicts=list(p.verdicts or []),
            )
            for p in data.pairwise.get(version.id, [])
        ],
        external_votes=[
            _from_row(ExternalVoteRecord, v, reasons=list(v.reasons or []))
            for v in data.external_votes.get(version.id, [])
        ],
    )


def _from_row(record: type[RecordT], row: object, **computed: Any) -> RecordT:
    """A record read from its row by the record's own field names; `computed` gives the fields
    the row does not hold as they are published."""
    stored = {name: getattr(row, name) for name in record.model_fields.keys() - computed.keys()}
    return record.model_validate({**stored, **computed})


def _review(review: Review) -> ReviewRecord:
    return _from_row(
        ReviewRecord,
        review,
        ai_generated=review.reviewer_kind == "ai",
        sub_reviews=[
            SubReviewRecord(position=s.position, reviewer=dict(s.spec or {}), content=s.content)
            for s in review.sub_reviews
            if s.status == "completed"
        ],
    )


def _panel(panel: VotePanel) -> PanelRecord:
    return _from_row(
        PanelRecord,
        panel,
        votes=[
            _from_row(VoteRecord, v, reasons=list(v.reasons or []), scores=dict(v.scores or {}))
            for v in panel.votes
            if v.status == "completed"
        ],
    )
