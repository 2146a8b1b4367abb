"""Browser pages of accounts: sign in, register, sign out, the theme, and the dashboard's forms
for agents and API keys. The same services as the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from openxiv.accounts import authz, service
from openxiv.accounts.deps import SESSION_ACCOUNT_KEY, OptionalPrincipal, PolicyVersion
from openxiv.http.deps import client_address, login_throttle, registration_throttle
from openxiv.http.forms import FormPostDep, Outcome, see_other, show_again
from openxiv.http.rendering import THEME_COOKIE, THEMES, check_csrf, render, same_origin

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html")


def _signed_in(request: Request, account_id: int) -> str:
    # A fresh session on signing in: nothing from before it (a fixed session id) carries over.
    request.session.clear()
    request.session[SESSION_ACCOUNT_KEY] = account_id
    return "/account"


@router.post("/login", response_model=None)
def login(form: FormPostDep, email: Annotated[str, Form()], password: Annotated[str, Form()]) -> Response:
    request = form.request

    def sign_in() -> str:
        with (
            login_throttle(request).password_attempt(email, client_address(request)),
            form.database.reading() as session,
        ):
            account = service.authenticate_password(session, email, password)
        return _signed_in(request, account.id)

    return form.run(sign_in, show_again(request, "login.html", email=email))


@router.post("/logout", response_model=None)
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return see_other("/")


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, policy_version: PolicyVersion) -> HTMLResponse:
    return render(request, "register.html", policy_version=policy_version)


@router.post("/register", response_model=None)
def register(
    form: FormPostDep,
    policy_version: PolicyVersion,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    orcid: Annotated[str, Form()] = "",
    accept_policy: Annotated[str, Form()] = "",
) -> Response:
    request = form.request

    def create() -> str:
        registration_throttle(request).counted_attempt(client_address(request))
        with form.database.writing() as session:
            account = service.register_account(
                session,
                email=email,
                password=password,
                display_name=display_name,
                orcid=orcid or None,
                accept_policy=accept_policy == "yes",
                policy_version=policy_version,
            )
        return _signed_in(request, account.id)

    typed = {"email": email, "display_name": display_name, "orcid": orcid, "accepted": accept_policy == "yes"}
    return form.run(create, show_again(request, "register.html", policy_version=policy_version, **typed))


@router.post("/theme", response_model=None)
def set_theme(request: Request, theme: Annotated[str, Form()], csrf: Annotated[str, Form()] = "") -> Response:
    """The toggle without JavaScript: remember the choice in a cookie and go back to the page.

    An anonymous visitor's toggle carries no token (it would give every reader a session cookie
    and make pages uncacheable); the browser's same-origin headers stand in for it."""
    if not same_origin(request):
        check_csrf(request, csrf)
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    back = "/" + referer[len(base) :] if referer.startswith(base) else "/"
    response = RedirectResponse(back, status_code=303)
    if theme in THEMES:
        response.set_cookie(THEME_COOKIE, theme, max_age=365 * 24 * 3600, samesite="lax", httponly=False)
    return response


@router.post("/account/agents", response_model=None)
def create_agent(
    principal: OptionalPrincipal,
    form: FormPostDep,
    name: Annotated[str, Form()],
    model_identity: Annotated[str, Form()],
    organisation: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return see_other("/login")

    def create(session: Session) -> str:
        authz.authorize_manage_agents(principal)
        owner = service.get_account(session, principal.account_id)
        service.create_agent(
            session,
            owner,
            name=name,
            model_identity=model_identity,
            organisation=organisation,
            description=description,
        )
        return "/account#agents"

    return form.write(create)


@router.post("/account/keys", response_model=None)
def issue_key(
    principal: OptionalPrincipal,
    form: FormPostDep,
    scopes: Annotated[list[str] | None, Form()] = None,
    name: Annotated[str, Form()] = "",
    agent_id: Annotated[str, Form()] = "",
) -> Response:
    """The token is on the answer page only; it is never stored and cannot be shown again."""
    if principal is None:
        return see_other("/login")

    def issue(session: Session) -> Outcome:
        account = service.get_account(session, principal.account_id)
        agent = service.get_owned_agent(session, account.id, int(agent_id)) if agent_id.isdigit() else None
        issued = service.issue_key(
            session, account, scopes=scopes or [], name=name, agent=agent, issued_by=principal
        )
        return render(
            form.request,
            "secret_once.html",
            headers={"Cache-Control": "no-store"},
            heading="Your new API key",
            explanation="Use it as a bearer token (Authorization: Bearer ...).",
            label="API key",
            secret=issued.token,
        )

    return form.write(issue)


@router.post("/account/keys/{key_id}/revoke", response_model=None)
def revoke_key(key_id: int, principal: OptionalPrincipal, form: FormPostDep) -> Response:
    if principal is None:
        return see_other("/login")

    def revoke(session: Session) -> str:
        service.revoke_key(session, principal, key_id)
        return "/account#keys"

    return form.write(revoke)
