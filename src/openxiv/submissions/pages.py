"""Browser pages of submissions: the listing, an item's abstract page, the author's account
page, and the moderation queue. The same services as the REST API.

The account page lives here rather than with accounts: it shows an account together with its
submissions and pending authorships, and submissions depend on accounts, never the reverse.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from openxiv.accounts import service as accounts
from openxiv.accounts.authz import Principal
from openxiv.accounts.deps import OptionalPrincipal
from openxiv.errors import DomainError, NotFound
from openxiv.http.deps import Database, DatabaseDep, ReadSession
from openxiv.http.rendering import check_csrf, render, render_error
from openxiv.publishing.presenters import page_citation
from openxiv.publishing.service import Site
from openxiv.review import service as review_service
from openxiv.submissions import moderation, presenters, repository, service
from openxiv.submissions.deps import QueueDep
from openxiv.submissions.schemas import HeldVersionOut

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    principal: OptionalPrincipal,
    session: ReadSession,
    cursor: str | None = None,
    kind: str | None = None,
) -> HTMLResponse:
    kind = kind if kind in ("paper", "proposal") else None
    rows, next_cursor = service.list_submissions(
        session, repository.SubmissionFilter(kind=kind), cursor=cursor, limit=25, viewer=principal
    )
    items = [presenters.summary_out(s) for s in rows]
    return render(request, "index.html", items=items, next_cursor=next_cursor, kind=kind)


@router.get("/abs/{identifier}", response_class=HTMLResponse)
def abstract_page(
    request: Request, identifier: str, principal: OptionalPrincipal, session: ReadSession
) -> HTMLResponse:
    try:
        found = service.find_version(session, identifier, principal)
        submission = found.submission
        item = presenters.submission_out(session, submission, found.version, principal)
        versions = presenters.versions_out(session, submission, repository.versions(session, submission.id))
        log = [presenters.transition_out(t) for t in repository.transitions(session, submission.id)]
        runs = [presenters.stage_run_out(r) for r in repository.stage_runs(session, submission.id)]
        reviews = review_service.version_reviews(session, found.version.id)
        citation = page_citation(session, found, Site.from_settings(request.app.state.settings))
    except DomainError as error:
        return render_error(request, error)
    return render(
        request,
        "abs.html",
        headers={"Link": citation.link_header},
        item=item,
        versions=versions,
        transitions=log,
        reviews=reviews,
        stage_runs=runs,
        viewing_latest=found.is_latest,
        citation=citation,
    )


@router.get("/abs", include_in_schema=False)
def abs_without_id() -> Response:
    raise NotFound("give an identifier, e.g. /abs/2611.00001")


@router.get("/account", response_model=None)
def account_page(request: Request, principal: OptionalPrincipal, session: ReadSession) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    account = accounts.get_account(session, principal.account_id)
    mine, _ = service.list_submissions(
        session, repository.SubmissionFilter(owner_id=account.id), cursor=None, limit=50, viewer=principal
    )
    pending = service.pending_authorships(session, principal) if "read" in principal.scopes else []
    return render(
        request,
        "account.html",
        account=account,
        agents=accounts.list_agents(session, account.id),
        keys=accounts.list_keys(session, account.id, viewer=principal),
        submissions=[presenters.summary_out(s) for s in mine],
        pending=[presenters.summary_out(s) for s in pending],
    )


@router.post("/account/authorship/{identifier}", response_model=None)
def authorship_decide(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    decision: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    """Confirm or decline being listed as an author (the same rule as the API)."""
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    # The page draws its own transaction: a refused decision is shown, not committed.
    try:
        check_csrf(request, csrf)
        with database.writing() as session:
            service.decide_authorship(session, principal, identifier, decision)
    except DomainError as error:
        return render_error(request, error)
    return RedirectResponse("/account", status_code=303)


def _held(database: Database, principal: Principal) -> list[HeldVersionOut]:
    with database.reading() as session:
        return [presenters.held_out(h) for h in moderation.held_versions(session, principal, limit=200)]


@router.get("/moderation", response_model=None)
def moderation_page(
    request: Request, principal: OptionalPrincipal, database: DatabaseDep, error: str | None = None
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        held = _held(database, principal)
    except DomainError as failure:
        return render_error(request, failure)
    return render(request, "moderation.html", held=held, error=error)


@router.post("/moderation/{identifier}", response_model=None)
def moderation_decide(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    queue: QueueDep,
    decision: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        with database.writing() as session:
            moderation.decide(session, principal, queue, identifier, decision, reason)
    except DomainError as failure:
        return render(
            request,
            "moderation.html",
            status_code=failure.status,
            held=_held(database, principal),
            error=f"{identifier}: {failure.detail}",
            typed={identifier: reason},
        )
    return RedirectResponse("/moderation", status_code=303)
