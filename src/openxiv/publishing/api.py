"""REST: citation exports of a version and the DOIs of an item. Thin: records and exports are
built in publishing.service and publishing.formats."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from openxiv.accounts.deps import RequiredPrincipal
from openxiv.db import after_commit
from openxiv.events.deps import JobQueueDep
from openxiv.http.deps import ReadSession, WriteSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.publishing import jobs, service
from openxiv.publishing.deps import SiteDep
from openxiv.publishing.formats import FORMATS
from openxiv.publishing.presenters import link_header
from openxiv.publishing.schemas import DoiOut, DoiRetryOut, ItemDoisOut
from openxiv.submissions.deps import RequestedVersion

router = APIRouter(tags=["publishing"], responses=PROBLEM_RESPONSES)

CiteFormat = Literal["bibtex", "ris", "csl", "datacite", "jsonld"]
_BY_MEDIA_TYPE = {export.media_type: name for name, export in FORMATS.items()}


def _negotiated(request: Request) -> str:
    """The format an `Accept` header asks for (the first listed that we write), else BibTeX."""
    for part in request.headers.get("accept", "").split(","):
        media_type = part.split(";", 1)[0].strip().lower()
        if media_type in _BY_MEDIA_TYPE:
            return _BY_MEDIA_TYPE[media_type]
    return "bibtex"


@router.get(
    "/submissions/{identifier}/cite",
    response_class=Response,
    responses={200: {"content": {export.media_type: {} for export in FORMATS.values()}}},
)
def cite(
    request: Request,
    found: RequestedVersion,
    session: ReadSession,
    site: SiteDep,
    format: Annotated[
        CiteFormat | None,
        Query(
            description="bibtex, ris, csl (CSL-JSON), datacite (DataCite JSON) or jsonld "
            "(schema.org); without it, the Accept header decides (else BibTeX)"
        ),
    ] = None,
) -> Response:
    """How to cite a version (`YYMM.NNNNN` the latest, `YYMM.NNNNNvN` a given one), with its DOI
    once registered."""
    record = service.citation_for(session, found, site)
    export = FORMATS[format or _negotiated(request)]
    headers = {
        "Content-Disposition": f'inline; filename="{record.versioned_identifier}.{export.extension}"',
        "Link": link_header(record),
        "Vary": "Accept",
    }
    return Response(export.write(record), media_type=export.media_type, headers=headers)


def _doi_out(view: service.DoiView) -> DoiOut:
    return DoiOut(
        doi=view.doi,
        url=view.url,
        version=view.version,
        state=view.state,  # type: ignore[arg-type]
        registered_at=view.registered_at,
    )


@router.get("/submissions/{identifier}/dois", response_model=ItemDoisOut)
def dois(found: RequestedVersion, session: ReadSession) -> ItemDoisOut:
    """The item's DOIs: one per published version and the concept DOI for the item as a whole.
    Empty until a version is provisionally accepted or accepted."""
    item = service.item_dois(session, found.submission.id)
    return ItemDoisOut(
        concept=_doi_out(item.concept) if item.concept else None,
        versions=[_doi_out(view) for _, view in sorted(item.versions.items())],
    )


@router.post("/submissions/{identifier}/dois/retry", response_model=DoiRetryOut)
def retry_dois(
    found: RequestedVersion, principal: RequiredPrincipal, session: WriteSession, queue: JobQueueDep
) -> DoiRetryOut:
    """Moderators: register an item's failed DOIs again (after DataCite's settings or the item's
    metadata were fixed). Pending and registered DOIs are left as they are."""
    requeued = service.retry_failed_as(session, principal, found.submission)
    if requeued:
        payload = {"submission_id": found.submission.id}
        after_commit(session, lambda: queue.enqueue_job(jobs.REGISTER_DOIS, payload))
    return DoiRetryOut(requeued=requeued)
