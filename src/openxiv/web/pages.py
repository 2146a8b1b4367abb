"""Server-rendered HTML pages. Thin: the same services as the REST API."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from openxiv.accounts import service as accounts
from openxiv.errors import DomainError, Forbidden, NotFound
from openxiv.review import service as review_service
from openxiv.submissions import moderation, presenters, repository, service
from openxiv.submissions.identifiers import parse_identifier
from openxiv.web.deps import (
    SESSION_ACCOUNT_KEY,
    OptionalPrincipal,
    RuntimeDep,
    client_address,
    login_throttle,
    reading,
    registration_throttle,
    unit_of_work,
)

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
router = APIRouter(include_in_schema=False)
_CSRF_KEY = "csrf"


def csrf_token(request: Request) -> str:
    token = request.session.get(_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return str(token)


def check_csrf(request: Request, submitted: str) -> None:
    expected = request.session.get(_CSRF_KEY)
    if not expected or not hmac.compare_digest(str(expected), submitted):
        raise Forbidden("the form has expired or did not come from this site; reload the page and try again")


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    runtime = request.app.state.runtime
    context.setdefault("principal", getattr(request.state, "principal", None))
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"instance_name": runtime.settings.instance_name, "csrf_token": csrf_token(request), **context},
        status_code=status_code,
        headers=headers,
    )


def _retry_after(error: DomainError) -> dict[str, str] | None:
    """A lockout (RateLimited) tells the browser when to come back, as the API does."""
    return {"Retry-After": str(error.extra["retry_after"])} if "retry_after" in error.extra else None


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    principal: OptionalPrincipal,
    runtime: RuntimeDep,
    cursor: str | None = None,
    kind: str | None = None,
) -> HTMLResponse:
    kind = kind if kind in ("paper", "proposal") else None
    with reading(runtime) as session:
        rows, next_cursor = service.list_submissions(
            session, repository.SubmissionFilter(kind=kind), cursor=cursor, limit=25, viewer=principal
        )
        items = [presenters.summary_out(s) for s in rows]
    return render(request, "index.html", items=items, next_cursor=next_cursor, kind=kind)


@router.get("/abs/{identifier}", response_class=HTMLResponse)
def abstract_page(
    request: Request, identifier: str, principal: OptionalPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    try:
        _, number = parse_identifier(identifier)
        with reading(runtime) as session:
            submission = service.get_submission(session, identifier, principal)
            version = service.get_version(session, submission, number)
            out = presenters.submission_out(session, submission, version, principal)
            versions = [
                presenters.version_out(session, submission, service.get_version(session, submission, n))
                for n in range(1, submission.latest_version + 1)
            ]
            log = [presenters.transition_out(t) for t in repository.transitions(session, submission.id)]
            runs = [presenters.stage_run_out(r) for r in repository.stage_runs(session, submission.id)]
            reviews = review_service.version_reviews(session, version.id)
    except DomainError as error:
        return render(request, "error.html", status_code=error.status, title=error.title, detail=error.detail)
    return render(
        request,
        "abs.html",
        item=out,
        versions=versions,
        transitions=log,
        reviews=reviews,
        stage_runs=runs,
        viewing_latest=number is None or number == submission.latest_version,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/login", response_model=None)
def login(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    try:
        check_csrf(request, csrf)
        with (
            login_throttle(request).password_attempt(email, client_address(request)),
            reading(runtime) as session,
        ):
            account = accounts.authenticate_password(session, email, password)
    except DomainError as error:
        return render(
            request,
            "login.html",
            status_code=error.status,
            headers=_retry_after(error),
            error=error.detail,
            email=email,
        )
    request.session.clear()
    request.session[SESSION_ACCOUNT_KEY] = account.id
    return RedirectResponse("/account", status_code=303)


@router.post("/logout", response_model=None)
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return render(request, "register.html", policy_version=runtime.settings.policy_version)


@router.post("/register", response_model=None)
def register(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    orcid: Annotated[str, Form()] = "",
    accept_policy: Annotated[str, Form()] = "",
) -> Response:
    try:
        check_csrf(request, csrf)
        registration_throttle(request).counted_attempt(client_address(request))
        with unit_of_work(runtime) as session:
            account = accounts.register_account(
                session,
                email=email,
                password=password,
                display_name=display_name,
                orcid=orcid or None,
                accept_policy=accept_policy == "yes",
                policy_version=runtime.settings.policy_version,
            )
    except DomainError as error:
        return render(
            request,
            "register.html",
            status_code=error.status,
            headers=_retry_after(error),
            error=error.detail,
            email=email,
            display_name=display_name,
            orcid=orcid,
            accepted=accept_policy == "yes",
            policy_version=runtime.settings.policy_version,
        )
    request.session.clear()
    request.session[SESSION_ACCOUNT_KEY] = account.id
    return RedirectResponse("/account", status_code=303)


@router.get("/account", response_model=None)
def account_page(request: Request, principal: OptionalPrincipal, runtime: RuntimeDep) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    with reading(runtime) as session:
        account = accounts.get_account(session, principal.account_id)
        agents = accounts.list_agents(session, account.id)
        keys = accounts.list_keys(session, account.id, viewer=principal)
        mine, _ = service.list_submissions(
            session, repository.SubmissionFilter(owner_id=account.id), cursor=None, limit=50, viewer=principal
        )
        pending = service.pending_authorships(session, principal) if "read" in principal.scopes else []
        return render(
            request,
            "account.html",
            account=account,
            agents=agents,
            keys=keys,
            submissions=[presenters.summary_out(s) for s in mine],
            pending=[presenters.summary_out(s) for s in pending],
        )


@router.post("/account/authorship/{identifier}", response_model=None)
def authorship_decide(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    runtime: RuntimeDep,
    decision: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    """Confirm or decline being listed as an author (the same rule as the API)."""
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        with unit_of_work(runtime) as session:
            service.decide_authorship(session, principal, identifier, decision)
    except DomainError as error:
        return render(request, "error.html", status_code=error.status, title=error.title, detail=error.detail)
    return RedirectResponse("/account", status_code=303)


@router.get("/moderation", response_model=None)
def moderation_page(
    request: Request, principal: OptionalPrincipal, runtime: RuntimeDep, error: str | None = None
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        with reading(runtime) as session:
            held = [presenters.held_out(h) for h in moderation.held_versions(session, principal, limit=200)]
    except DomainError as failure:
        return render(
            request, "error.html", status_code=failure.status, title=failure.title, detail=failure.detail
        )
    return render(request, "moderation.html", held=held, error=error)


@router.post("/moderation/{identifier}", response_model=None)
def moderation_decide(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    runtime: RuntimeDep,
    decision: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        with unit_of_work(runtime) as session:
            moderation.decide(session, principal, runtime.queue, identifier, decision, reason)
    except DomainError as failure:
        with reading(runtime) as session:
            held = [presenters.held_out(h) for h in moderation.held_versions(session, principal, limit=200)]
        return render(
            request,
            "moderation.html",
            status_code=failure.status,
            held=held,
            error=f"{identifier}: {failure.detail}",
            typed={identifier: reason},
        )
    return RedirectResponse("/moderation", status_code=303)


@router.get("/abs", include_in_schema=False)
def abs_without_id() -> Response:
    raise NotFound("give an identifier, e.g. /abs/2611.00001")
