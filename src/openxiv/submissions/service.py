"""Submissions, versions, uploads and the lifecycle. Services take a session and ports; the
caller owns the transaction. Jobs are enqueued only once the transaction has committed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.config import UploadSettings
from openxiv.db import after_commit
from openxiv.errors import Conflict, IllegalTransition, InvalidInput, NotFound, RateLimited
from openxiv.events import service as events
from openxiv.models import Account, Agent, Blob, Submission, SubmissionVersion, Transition, VersionAuthor
from openxiv.models.base import utcnow
from openxiv.storage.port import BlobStore
from openxiv.submissions import files, repository
from openxiv.submissions.identifiers import allocate_identifier, parse_identifier
from openxiv.submissions.lifecycle import REVISABLE, Status, can_transition
from openxiv.submissions.ports import PipelineQueue
from openxiv.submissions.records import SubmissionRecord, SubmissionView, VersionRecord
from openxiv.submissions.schemas import IPAttribution, SubmissionCreate, VersionContent, VersionCreate
from openxiv.submissions.version_meta import VersionMeta
from openxiv.validation import clean_text, normalise_orcid

_QUOTA_WINDOW = timedelta(hours=1)
# Held items may hide attacks on reviewers: only their owner and moderators see them.
HIDDEN_FROM_PUBLIC = frozenset({Status.HELD.value})
_NOT_YET_SCREENED = frozenset({Status.SUBMITTED.value, Status.SCREENING.value})


@dataclass(frozen=True)
class SystemActor:
    """A transition made by the platform itself, e.g. `pipeline:screening`."""

    name: str


ActorLike = Principal | SystemActor


# ----------------------------------------------------------------------------------- uploads


def store_upload(
    session: Session,
    blobs: BlobStore,
    limits: UploadSettings,
    *,
    data: bytes,
    filename: str,
    principal: Principal,
) -> Blob:
    """Verify a file completely, then store it content-addressed. Re-uploading is a no-op."""
    return store_verified(
        session, blobs, verify_upload(principal, limits, data=data, filename=filename), principal
    )


def verify_upload(
    principal: Principal, limits: UploadSettings, *, data: bytes, filename: str
) -> files.VerifiedFile:
    """Check who uploads and what (type, size, readability, text). Needs no session: on SQLite,
    parsing a large PDF inside the write transaction would hold the write lock for seconds."""
    authz.authorize_upload(principal)
    return files.verify_upload(data, filename, max_bytes=limits.max_bytes, max_pdf_pages=limits.max_pdf_pages)


def store_verified(
    session: Session, blobs: BlobStore, verified: files.VerifiedFile, principal: Principal
) -> Blob:
    return _store_verified(session, blobs, verified, principal.account_id)


def _store_verified(
    session: Session, blobs: BlobStore, verified: files.VerifiedFile, account_id: int
) -> Blob:
    existing = session.get(Blob, verified.sha256)
    if existing is not None:
        return existing
    blobs.put(verified.sha256, verified.data)  # content-addressed: a later failure leaves no wrong data
    blob = Blob(
        sha256=verified.sha256,
        size=len(verified.data),
        media_type=verified.media_type,
        filename=verified.filename,
        text=verified.text,
        pages=verified.pages,
        uploaded_by_account_id=account_id,
    )
    try:
        with session.begin_nested():  # a savepoint, so losing the race below keeps the transaction
            session.add(blob)
            session.flush()
    except IntegrityError:  # the same file was stored concurrently: use that row
        existing = session.get(Blob, verified.sha256)
        assert existing is not None
        return existing
    return blob


# ------------------------------------------------------------------------------ submissions


def create_submission(
    session: Session,
    blobs: BlobStore,
    limits: UploadSettings,
    queue: PipelineQueue | None,
    principal: Principal,
    payload: SubmissionCreate,
) -> Submission:
    authz.authorize_submit(principal)
    now = utcnow()
    _check_version_quota(session, principal, limits, now)
    content = _prepare_content(session, blobs, principal, payload, kind=payload.kind)
    submission = Submission(
        identifier=allocate_identifier(session, now),
        kind=payload.kind,
        status=Status.SUBMITTED.value,
        title=content.title,
        owner_id=principal.account_id,
        latest_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(submission)
    session.flush()
    _add_version(session, submission, 1, content, principal, response_letter=None, now=now)
    _log(session, submission, 1, None, Status.SUBMITTED, principal, "first version submitted", now)
    repository.replace_author_words(session, submission.id, [a.name for a in content.authors])
    enqueue_after_commit(session, queue, submission.id, 1)
    return submission


def create_version(
    session: Session,
    blobs: BlobStore,
    limits: UploadSettings,
    queue: PipelineQueue | None,
    principal: Principal,
    identifier: str,
    payload: VersionCreate,
) -> Submission:
    authz.authorize_submit(principal)
    submission = _load_for_update(session, identifier)
    authz.authorize_revise(principal, submission)
    _check_version_quota(session, principal, limits, utcnow())
    if payload.base_version is not None and payload.base_version != submission.latest_version:
        raise Conflict(
            f"{identifier} is at v{submission.latest_version}; this revision was based on v{payload.base_version}",
            latest_version=submission.latest_version,
        )
    if Status(submission.status) not in REVISABLE:
        raise IllegalTransition(
            f"{identifier} is {submission.status}; a new version can be posted only when it is "
            f"{', '.join(sorted(s.value for s in REVISABLE))}",
            status=submission.status,
        )
    letter = clean_text(payload.response_letter, "response_letter", max_length=200_000, multiline=True)
    now = utcnow()
    content = _prepare_content(
        session, blobs, principal, payload, kind=submission.kind, agreed=_agreed_links(session, submission)
    )
    number = submission.latest_version + 1
    _add_version(session, submission, number, content, principal, response_letter=letter, now=now)
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent revision took this number first
        raise Conflict(
            f"another revision of {identifier} was posted at the same moment; reload and retry"
        ) from error
    previous = submission.status
    submission.latest_version = number
    submission.title = content.title
    submission.updated_at = now
    submission.status = Status.SUBMITTED.value
    _log(session, submission, number, previous, Status.SUBMITTED, principal, f"v{number} submitted", now)
    repository.replace_author_words(session, submission.id, [a.name for a in content.authors])
    enqueue_after_commit(session, queue, submission.id, number)
    return submission


def _check_version_quota(
    session: Session, principal: Principal, limits: UploadSettings, now: datetime
) -> None:
    """An agent that floods the platform with versions meets the owner's hourly cap, whichever of
    the owner's keys and agents it uses and whichever server process it reaches: the count comes
    from the database, under a lock on the owner's account so that concurrent writers queue."""
    cap = limits.versions_per_hour
    if cap <= 0:
        return
    session.get(Account, principal.account_id, with_for_update=True)
    recent = repository.version_times_since(session, principal.account_id, now - _QUOTA_WINDOW, cap)
    if len(recent) >= cap:
        retry_after = max(1, math.ceil((recent[0] + _QUOTA_WINDOW - now).total_seconds()))
        raise RateLimited(
            f"this account posted {cap} versions in the last hour, its limit; retry in {retry_after} s",
            retry_after=retry_after,
        )


def withdraw(session: Session, principal: Principal, identifier: str, reason: str) -> Submission:
    submission = _load_for_update(session, identifier)
    authz.authorize_withdraw(principal, submission)
    reason = clean_text(reason, "reason", max_length=5000, multiline=True)
    transition(session, submission, Status.WITHDRAWN, principal, reason)
    return submission


def transition(
    session: Session, submission: Submission, target: Status, actor: ActorLike, reason: str
) -> Transition:
    """The one way to change a submission's status: checked against the table, always logged."""
    current = Status(submission.status)
    if not can_transition(current, target):
        raise IllegalTransition(
            f"{submission.identifier} cannot go from {current.value} to {target.value}",
            status=current.value,
            target=target.value,
        )
    now = utcnow()
    submission.status = target.value
    submission.updated_at = now
    return _log(session, submission, submission.latest_version, current, target, actor, reason, now)


def get_submission(session: Session, identifier: str, viewer: Principal | None) -> Submission:
    base, _ = parse_identifier(identifier)
    submission = repository.by_identifier(session, base)
    if submission is None:
        raise NotFound(f"no submission {base}")
    hidden = not authz.can_view_hidden(viewer, submission.owner_id) and repository.hidden_by_moderators(
        session, submission.id
    )
    if not _may_see(submission, hidden, viewer):
        raise NotFound(f"no submission {base}")
    return submission


def _may_see(submission: SubmissionView, hidden_by_moderators: bool, viewer: Principal | None) -> bool:
    # Hidden by moderators: its owner (and moderators) still see it, and why.
    if not can_view(submission, viewer):
        return False
    return not hidden_by_moderators or authz.can_view_hidden(viewer, submission.owner_id)


def get_version(session: Session, submission: Submission, number: int | None) -> SubmissionVersion:
    number = number or submission.latest_version
    found = repository.version(session, submission.id, number)
    if found is None:
        raise NotFound(f"{submission.identifier} has no v{number} (latest is v{submission.latest_version})")
    return found


@dataclass(frozen=True)
class FoundVersion:
    submission: Submission
    version: SubmissionVersion
    pinned: bool  # the identifier named the version (vN): what it shows never changes
    hidden_by_moderators: bool = False  # only its owner and moderators get to see it then

    @property
    def identifier(self) -> str:
        return f"{self.submission.identifier}v{self.version.number}"

    @property
    def is_latest(self) -> bool:
        return self.version.number == self.submission.latest_version


def find_version(session: Session, identifier: str, viewer: Principal | None) -> FoundVersion:
    """`YYMM.NNNNN` names the latest version, `YYMM.NNNNNvN` a given one. An item the viewer may
    not see is NotFound, exactly like one that does not exist."""
    base, number = parse_identifier(identifier)
    row = repository.item(session, base, number)
    if row is None:
        raise NotFound(f"no submission {base}")
    version = _visible_version(base, number, row.submission, row.version, row.hidden_by_moderators, viewer)
    return FoundVersion(
        row.submission, version, pinned=number is not None, hidden_by_moderators=row.hidden_by_moderators
    )


@dataclass(frozen=True)
class FoundRecord:
    """What `find_version` finds, as plain values, with the registered DOIs of the version and of
    the item: all that the item's JSON and its `Link` header show."""

    submission: SubmissionRecord
    version: VersionRecord
    version_doi: str | None
    concept_doi: str | None


def find_record(session: Session, identifier: str, viewer: Principal | None) -> FoundRecord:
    """`find_version` in one statement without the ORM (`repository.item_record`): for the
    item's JSON, the most frequent request there is."""
    base, number = parse_identifier(identifier)
    row = repository.item_record(session, base, number)
    if row is None:
        raise NotFound(f"no submission {base}")
    version = _visible_version(base, number, row.submission, row.version, row.hidden_by_moderators, viewer)
    return FoundRecord(row.submission, version, row.version_doi, row.concept_doi)


V = TypeVar("V")


def _visible_version(
    base: str,
    number: int | None,
    submission: SubmissionView,
    version: V | None,
    hidden_by_moderators: bool,
    viewer: Principal | None,
) -> V:
    if not _may_see(submission, hidden_by_moderators, viewer):
        raise NotFound(f"no submission {base}")
    if version is None:
        raise NotFound(f"{submission.identifier} has no v{number} (latest is v{submission.latest_version})")
    return version


def can_view(submission: SubmissionView, viewer: Principal | None) -> bool:
    if submission.status not in HIDDEN_FROM_PUBLIC:
        return True
    return authz.can_view_hidden(viewer, submission.owner_id)


def list_submissions(
    session: Session,
    filters: repository.SubmissionFilter,
    *,
    cursor: str | None,
    limit: int,
    viewer: Principal | None,
) -> tuple[list[Submission], str | None]:
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200", field="limit")
    after_id = repository.decode_cursor(cursor) if cursor else None
    hidden = frozenset() if authz.is_moderator(viewer) else HIDDEN_FROM_PUBLIC
    rows = repository.list_page(
        session,
        filters,
        after_id=after_id,
        limit=limit + 1,
        hidden_statuses=hidden,
        viewer_id=viewer.account_id if viewer else None,
    )
    next_cursor = repository.encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def is_settled_in_public(submission: SubmissionView) -> bool:
    """Whether what is shown of the item is the same for everyone from now on: not hidden, and
    past screening (an item still being screened may yet be held and hidden). Only such files
    may be kept by shared caches."""
    return submission.status not in HIDDEN_FROM_PUBLIC | _NOT_YET_SCREENED


def get_blob_for_download(session: Session, found: FoundVersion, which: str) -> tuple[Blob, bool]:
    """The file, and whether shared caches may keep it (`is_settled_in_public`)."""
    sha = found.version.pdf_sha256 if which == "pdf" else found.version.source_sha256
    if sha is None:
        raise NotFound(f"{found.identifier} has no {which} file")
    blob = session.get(Blob, sha)
    assert blob is not None
    return blob, is_settled_in_public(found.submission)


# ------------------------------------------------------------------------------ internals


@dataclass(frozen=True)
class _Content:
    title: str
    abstract: str
    meta: VersionMeta
    proposal: dict[str, str] | None
    source_format: str | None
    source_sha256: str | None
    pdf_sha256: str | None
    text: str
    authors: list[VersionAuthor]


def _prepare_content(
    session: Session,
    blobs: BlobStore,
    principal: Principal,
    payload: VersionContent,
    *,
    kind: str,
    agreed: frozenset[tuple[str, int]] = frozenset(),
) -> _Content:
    """Validate everything a version carries; stores an inline source as a blob."""
    title = clean_text(payload.title, "title", max_length=500)
    abstract = clean_text(payload.abstract, "abstract", max_length=10_000, multiline=True, required=False)
    authors = _resolve_authors(session, principal, payload, agreed)
    corresponding = payload.corresponding_author
    if corresponding >= len(authors):
        raise InvalidInput(
            f"corresponding_author {corresponding} is not an index into authors", field="corresponding_author"
        )
    if authors[corresponding].kind != "human":
        raise InvalidInput("the corresponding author must be a human", field="corresponding_author")
    meta = VersionMeta(
        keywords=[clean_text(k, "keywords", max_length=100) for k in payload.keywords],
        categories=[clean_text(c, "categories", max_length=50) for c in payload.categories],
        licence=payload.licence,
        ai_involvement=clean_text(payload.ai_involvement, "ai_involvement", max_length=5000, multiline=True),
        ip_attribution=IPAttribution(
            model_developer=clean_text(
                payload.ip_attribution.model_developer, "ip_attribution.model_developer", max_length=300
            ),
            initiating_human=clean_text(
                payload.ip_attribution.initiating_human, "ip_attribution.initiating_human", max_length=300
            ),
        ),
        links={
            k: str(v) if v else None for k, v in (("code", payload.links.code), ("data", payload.links.data))
        },
        corresponding_author=corresponding,
    )
    proposal: dict[str, str] | None = None
    source_sha: str | None = None
    pdf_sha: str | None = None
    source_format: str | None = None
    text = ""
    if kind == "proposal":
        if payload.proposal is None:
            raise InvalidInput("a proposal needs the structured `proposal` fields", field="proposal")
        proposal = {
            name: clean_text(
                value,
                f"proposal.{name}",
                max_length=40_000,
                multiline=True,
                required=name != "timeline_and_resources",
            )
            for name, value in payload.proposal.model_dump().items()
        }
        text = files.proposal_text(title, proposal)
    elif payload.proposal is not None:
        raise InvalidInput(
            "`proposal` fields are only for proposals; a paper has a source and/or a PDF", field="proposal"
        )
    if payload.source is not None and payload.source_sha256 is not None:
        raise InvalidInput("give either `source` inline or `source_sha256`, not both", field="source")
    if payload.source is not None:
        verified = files.source_from_text(payload.source.text, payload.source.format)
        source_sha = _store_verified(session, blobs, verified, principal.account_id).sha256
        source_format = payload.source.format
        text = text or verified.text
    elif payload.source_sha256 is not None:
        blob = _uploaded_blob(session, payload.source_sha256, "source_sha256", files.SOURCE_FORMAT_BY_TYPE)
        source_sha, source_format = blob.sha256, files.SOURCE_FORMAT_BY_TYPE[blob.media_type]
        text = text or blob.text
    if payload.pdf_sha256 is not None:
        blob = _uploaded_blob(session, payload.pdf_sha256, "pdf_sha256", {files.PDF: "pdf"})
        pdf_sha = blob.sha256
        text = text or blob.text
    if kind == "paper" and source_sha is None and pdf_sha is None:
        raise InvalidInput(
            "a paper needs a Markdown/LaTeX source (`source` or `source_sha256`) and/or a PDF (`pdf_sha256`)",
            field="source",
        )
    return _Content(title, abstract, meta, proposal, source_format, source_sha, pdf_sha, text, authors)


def _uploaded_blob(session: Session, sha256: str, field: str, allowed: dict[str, str]) -> Blob:
    blob = session.get(Blob, sha256.lower())
    if blob is None:
        raise InvalidInput(
            f"{field}: no uploaded file with sha256 {sha256}; upload it first (POST /api/v1/uploads)",
            field=field,
        )
    if blob.media_type not in allowed:
        raise InvalidInput(
            f"{field}: the uploaded file is {blob.media_type}, not {' or '.join(allowed)}", field=field
        )
    return blob


def _resolve_authors(
    session: Session, principal: Principal, payload: VersionContent, agreed: frozenset[tuple[str, int]]
) -> list[VersionAuthor]:
    """Anyone may be *named*; a link to an account or agent on the platform is the submitter's own
    (its account, its agents, or through an agent's key that agent and its owner) or waits for the
    other side to confirm (`link_status` pending). `agreed` holds the links that already confirmed
    an earlier version of the same submission."""
    authors: list[VersionAuthor] = []
    for position, given in enumerate(payload.authors):
        where = f"authors[{position}]"
        name = given.name
        orcid = given.orcid
        if given.kind == "agent":
            if given.agent_id is None:
                raise InvalidInput(f"{where}: an agent author needs agent_id", field="authors")
            agent = session.get(Agent, given.agent_id)
            if agent is None:
                raise InvalidInput(f"{where}: no agent {given.agent_id}", field="authors")
            name = name or agent.name
            link_status = _link_status(
                agent.owner_id == principal.account_id and principal.agent_id in (None, agent.id),
                ("agent", agent.id) in agreed,
            )
        elif given.account_id is not None:
            account = session.get(Account, given.account_id)
            if account is None:
                raise InvalidInput(f"{where}: no account {given.account_id}", field="authors")
            name = name or account.display_name
            orcid = orcid or account.orcid
            link_status = _link_status(account.id == principal.account_id, ("account", account.id) in agreed)
        else:
            link_status = None
        if given.kind == "human" and given.agent_id is not None:
            raise InvalidInput(f"{where}: a human author cannot have an agent_id", field="authors")
        if not name:
            raise InvalidInput(f"{where}: name is required", field="authors")
        name = clean_text(name, f"{where}.name", max_length=300)
        authors.append(
            VersionAuthor(
                position=position,
                kind=given.kind,
                name=name,
                account_id=given.account_id if given.kind == "human" else None,
                agent_id=given.agent_id if given.kind == "agent" else None,
                orcid=normalise_orcid(orcid) if orcid else None,
                affiliation=clean_text(given.affiliation, f"{where}.affiliation", max_length=300)
                if given.affiliation
                else None,
                link_status=link_status if given.kind == "human" or given.agent_id else None,
            )
        )
    return authors


def _link_status(own: bool, agreed_before: bool) -> str:
    if own:
        return "owned"
    return "confirmed" if agreed_before else "pending"


def _agreed_links(session: Session, submission: Submission) -> frozenset[tuple[str, int]]:
    agreed: set[tuple[str, int]] = set()
    for entry in repository.author_links(session, submission.id):
        if entry.link_status in ("owned", "confirmed"):
            if entry.agent_id is not None:
                agreed.add(("agent", entry.agent_id))
            elif entry.account_id is not None:
                agreed.add(("account", entry.account_id))
    return frozenset(agreed)


def pending_authorships(session: Session, principal: Principal) -> list[Submission]:
    """Submissions that link the caller (a human: the account and its agents; an agent's key:
    that agent) as an author and wait for an answer (decide_authorship)."""
    authz.authorize_read_account(principal)
    if principal.agent_id is not None:
        return repository.with_pending_links(session, None, {principal.agent_id})
    return repository.with_pending_links(
        session, principal.account_id, repository.agent_ids_of(session, principal.account_id)
    )


def decide_authorship(session: Session, principal: Principal, identifier: str, decision: str) -> Submission:
    """Confirm or decline the pending links to the caller on every version of a submission: a
    human credential answers for the account and its agents, an agent's key for that agent."""
    authz.authorize_confirm_authorship(principal)
    if decision not in ("confirm", "decline"):
        raise InvalidInput(f"decision must be 'confirm' or 'decline', not {decision!r}", field="decision")
    submission = _load_for_update(session, identifier)
    own_agents = repository.agent_ids_of(session, principal.account_id)
    answered = 0
    for entry in repository.author_links(session, submission.id):
        if principal.agent_id is not None:
            mine = entry.agent_id == principal.agent_id
        else:
            mine = (entry.kind == "human" and entry.account_id == principal.account_id) or (
                entry.agent_id in own_agents
            )
        if mine and entry.link_status in ("pending", "confirmed", "declined"):
            entry.link_status = "confirmed" if decision == "confirm" else "declined"
            answered += 1
    if answered == 0:
        raise NotFound(f"{submission.identifier} lists neither you nor your agents as a linked author")
    return submission


def _add_version(
    session: Session,
    submission: Submission,
    number: int,
    content: _Content,
    principal: Principal,
    *,
    response_letter: str | None,
    now: datetime,
) -> SubmissionVersion:
    version = SubmissionVersion(
        submission_id=submission.id,
        number=number,
        title=content.title,
        abstract=content.abstract,
        meta=content.meta.to_column(),
        proposal=content.proposal,
        source_format=content.source_format,
        source_sha256=content.source_sha256,
        pdf_sha256=content.pdf_sha256,
        extracted_text=content.text,
        response_letter=response_letter,
        created_by_account_id=principal.account_id,
        created_by_agent_id=principal.agent_id,
        created_at=now,
    )
    version.authors = content.authors
    session.add(version)
    return version


def _load_for_update(session: Session, identifier: str) -> Submission:
    base, _ = parse_identifier(identifier)
    submission = repository.by_identifier(session, base, for_update=True)
    if submission is None:
        raise NotFound(f"no submission {base}")
    return submission


def _log(
    session: Session,
    submission: Submission,
    version_number: int,
    previous: Status | str | None,
    target: Status,
    actor: ActorLike,
    reason: str,
    now: datetime,
) -> Transition:
    entry = Transition(
        submission_id=submission.id,
        version_number=version_number,
        from_status=Status(previous).value if previous else None,
        to_status=target.value,
        actor_account_id=actor.account_id if isinstance(actor, Principal) else None,
        actor_agent_id=actor.agent_id if isinstance(actor, Principal) else None,
        actor_system=actor.name if isinstance(actor, SystemActor) else None,
        reason=reason,
        created_at=now,
    )
    session.add(entry)
    events.record_status(session, submission, version_number, entry.from_status, entry.to_status, reason)
    return entry


def enqueue_after_commit(
    session: Session, queue: PipelineQueue | None, submission_id: int, number: int
) -> None:
    if queue is not None:
        after_commit(session, lambda: queue.enqueue_pipeline(submission_id, number))
