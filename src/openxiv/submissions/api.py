"""REST: uploads, submissions, versions, lifecycle. Thin: rules live in submissions.service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from openxiv.accounts.deps import OptionalPrincipal, RequiredPrincipal
from openxiv.errors import InvalidInput, PayloadTooLarge
from openxiv.http.caching import LISTINGS, declare_public
from openxiv.http.deps import IdInQuery, ReadSession, WriteSession, json_response, run_read
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.publishing.deps import SiteDep
from openxiv.publishing.presenters import api_link_header
from openxiv.storage.port import BlobStore
from openxiv.submissions import moderation, presenters, repository, service
from openxiv.submissions.deps import (
    BlobsDep,
    IdentifierInPath,
    QueueDep,
    RequestedVersion,
    UploadSettingsDep,
)
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.schemas import (
    AuthorshipDecision,
    HeldVersionOut,
    ModerationDecision,
    Page,
    StageRunOut,
    SubmissionCreate,
    SubmissionOut,
    SubmissionSummary,
    TransitionOut,
    UploadOut,
    VersionCreate,
    VersionOut,
    WithdrawRequest,
)

router = APIRouter(tags=["submissions"], responses=PROBLEM_RESPONSES)


@router.post("/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadOut)
def upload(
    file: Annotated[UploadFile, File(description="PDF, Markdown (.md) or LaTeX (.tex)")],
    principal: RequiredPrincipal,
    session: WriteSession,
    blobs: BlobsDep,
    uploads: UploadSettingsDep,
) -> UploadOut:
    """Upload a file; it is verified (real type, size, readability) before anything is stored.
    Reference it from a submission or version by its sha256."""
    limit = uploads.max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"{file.filename} is larger than the limit of {limit} bytes", field="file")
    verified = service.verify_upload(principal, uploads, data=data, filename=file.filename or "upload")
    blob = service.store_verified(session, blobs, verified, principal)
    return presenters.upload_out(blob)


@router.post("/submissions", status_code=status.HTTP_201_CREATED, response_model=SubmissionOut)
def create_submission(
    body: SubmissionCreate,
    principal: RequiredPrincipal,
    session: WriteSession,
    blobs: BlobsDep,
    uploads: UploadSettingsDep,
    queue: QueueDep,
    response: Response,
) -> SubmissionOut:
    """Submit a proposal or a paper (v1). Screening, review and the vote follow in the background."""
    submission = service.create_submission(session, blobs, uploads, queue, principal, body)
    version = service.get_version(session, submission, 1)
    out = presenters.submission_out(session, submission, version)
    response.headers["Location"] = f"/api/v1/submissions/{out.id}"
    return out


@router.get("/submissions", response_model=Page[SubmissionSummary])
async def list_submissions(
    request: Request,
    principal: OptionalPrincipal,
    kind: Literal["proposal", "paper"] | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    author: Annotated[str | None, Query(max_length=300, description="part of an author's name")] = None,
    account_id: IdInQuery = None,
    agent_id: IdInQuery = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> Response:
    """Newest first, with cursor paging (`next_cursor`)."""
    if status_ is not None and status_ not in {s.value for s in Status}:
        raise InvalidInput(f"unknown status {status_!r}", field="status")
    filters = repository.SubmissionFilter(
        kind=kind,
        status=status_,
        author=author.strip() if author else None,
        account_id=account_id,
        agent_id=agent_id,
        created_from=created_from,
        created_to=created_to,
    )

    def read(session: Session) -> Page[SubmissionSummary]:
        rows, next_cursor = service.list_submissions(
            session, filters, cursor=cursor, limit=limit, viewer=principal
        )
        return Page[SubmissionSummary](
            items=[presenters.summary_out(s) for s in rows], next_cursor=next_cursor
        )

    # Unfiltered, a page is a walk down the primary key from the cursor: bounded.
    page = await run_read(request, read, bounded=filters == repository.SubmissionFilter())
    response = json_response(page)
    if principal is None:
        declare_public(request, response.headers, group=LISTINGS)
    return response


@router.get("/submissions/{identifier}", response_model=SubmissionOut)
async def get_submission(
    request: Request,
    identifier: IdentifierInPath,
    principal: OptionalPrincipal,
    site: SiteDep,
) -> Response:
    """`YYMM.NNNNN` gives the latest version; `YYMM.NNNNNvN` a given one. The `Link` header
    signposts how to cite it (docs/publishing.md)."""

    # The most frequent request there is: everything that reads happens in one `run_read` (a sync
    # dependency or endpoint would each take a trip to the thread pool of their own).
    def read(session: Session) -> tuple[SubmissionOut, str, int | None]:
        found = service.find_record(session, identifier, principal)
        out = presenters.submission_out(session, found.submission, found.version, principal)
        public = principal is None and service.is_settled_in_public(found.submission)
        return out, api_link_header(found, site), found.submission.id if public else None

    out, link, public_group = await run_read(request, read, bounded=True)
    response = json_response(out, headers={"Link": link})
    if public_group is not None:
        declare_public(request, response.headers, group=str(public_group))
    return response


@router.get("/submissions/{identifier}/versions", response_model=list[VersionOut])
def list_versions(
    identifier: IdentifierInPath, principal: OptionalPrincipal, session: ReadSession
) -> list[VersionOut]:
    submission = service.get_submission(session, identifier, principal)
    return presenters.versions_out(
        session, submission, repository.versions(session, submission.id), principal
    )


@router.post(
    "/submissions/{identifier}/versions", status_code=status.HTTP_201_CREATED, response_model=SubmissionOut
)
def create_version(
    identifier: IdentifierInPath,
    body: VersionCreate,
    principal: RequiredPrincipal,
    session: WriteSession,
    blobs: BlobsDep,
    uploads: UploadSettingsDep,
    queue: QueueDep,
    response: Response,
) -> SubmissionOut:
    """Post a revision with a response letter to the previous reviews."""
    submission = service.create_version(session, blobs, uploads, queue, principal, identifier, body)
    version = service.get_version(session, submission, submission.latest_version)
    out = presenters.submission_out(session, submission, version)
    response.headers["Location"] = f"/api/v1/submissions/{out.version.identifier}"
    return out


@router.post("/submissions/{identifier}/withdraw", response_model=SubmissionSummary)
def withdraw(
    identifier: IdentifierInPath, body: WithdrawRequest, principal: RequiredPrincipal, session: WriteSession
) -> SubmissionSummary:
    """Withdraw before acceptance. The item and its history stay; it is marked withdrawn."""
    return presenters.summary_out(service.withdraw(session, principal, identifier, body.reason))


@router.post("/submissions/{identifier}/authorship", response_model=SubmissionOut)
def authorship(
    identifier: IdentifierInPath,
    body: AuthorshipDecision,
    principal: RequiredPrincipal,
    session: WriteSession,
) -> SubmissionOut:
    """Confirm or decline being listed as an author. Until you confirm, a submission that links your
    account (or your agent) shows the link as pending and does not count as your work."""
    submission = service.decide_authorship(session, principal, identifier, body.decision)
    version = service.get_version(session, submission, None)
    return presenters.submission_out(session, submission, version)


@router.get("/moderation/held", response_model=list[HeldVersionOut])
def held_versions(
    principal: RequiredPrincipal,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[HeldVersionOut]:
    """Moderators: the versions screening held, longest-waiting first, with its findings."""
    return [presenters.held_out(item) for item in moderation.held_versions(session, principal, limit=limit)]


@router.post("/submissions/{identifier}/moderation", response_model=SubmissionSummary)
def moderate(
    identifier: IdentifierInPath,
    body: ModerationDecision,
    principal: RequiredPrincipal,
    session: WriteSession,
    queue: QueueDep,
) -> SubmissionSummary:
    """Moderators: release a held version to review (the pipeline continues) or reject it."""
    submission = moderation.decide(session, principal, queue, identifier, body.decision, body.reason)
    return presenters.summary_out(submission)


@router.get("/submissions/{identifier}/transitions", response_model=list[TransitionOut])
def transitions(
    identifier: IdentifierInPath, principal: OptionalPrincipal, session: ReadSession
) -> list[TransitionOut]:
    """The lifecycle log: every status change with actor, time and reason."""
    submission = service.get_submission(session, identifier, principal)
    return [presenters.transition_out(t) for t in repository.transitions(session, submission.id)]


@router.get("/submissions/{identifier}/stages", response_model=list[StageRunOut])
def stages(
    identifier: IdentifierInPath, principal: OptionalPrincipal, session: ReadSession
) -> list[StageRunOut]:
    """Processing pipeline runs (screening, review, vote) per version."""
    submission = service.get_submission(session, identifier, principal)
    return [presenters.stage_run_out(r) for r in repository.stage_runs(session, submission.id)]


@router.get("/submissions/{identifier}/text", response_class=PlainTextResponse)
def text(found: RequestedVersion) -> PlainTextResponse:
    """The text extracted from a version (latest unless `vN` is given)."""
    return PlainTextResponse(found.version.extracted_text)


def _download(
    request: Request,
    identifier: str,
    found: service.FoundVersion,
    which: Literal["pdf", "source"],
    session: Session,
    blobs: BlobStore,
) -> Response:
    blob, public = service.get_blob_for_download(session, found, which)
    extension = "pdf" if which == "pdf" else ("tex" if blob.media_type == "application/x-latex" else "md")
    headers = {
        "Content-Disposition": f'inline; filename="{identifier}.{extension}"',
        "ETag": f'"{blob.sha256}"',
    }
    # A named version's file never changes (the latest may), but only a public, screened item
    # may sit in a shared cache; everything else gets the default `private, no-store`.
    if found.pinned and public:
        declare_public(request, headers, group=str(found.submission.id), immutable=True)
    return Response(blobs.get(blob.sha256), media_type=blob.media_type, headers=headers)


@router.get(
    "/submissions/{identifier}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def pdf(
    request: Request,
    identifier: IdentifierInPath,
    found: RequestedVersion,
    session: ReadSession,
    blobs: BlobsDep,
) -> Response:
    return _download(request, identifier, found, "pdf", session, blobs)


@router.get(
    "/submissions/{identifier}/source",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}, "application/x-latex": {}}}},
)
def source(
    request: Request,
    identifier: IdentifierInPath,
    found: RequestedVersion,
    session: ReadSession,
    blobs: BlobsDep,
) -> Response:
    return _download(request, identifier, found, "source", session, blobs)
