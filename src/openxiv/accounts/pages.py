"""Browser pages of accounts: sign in, register, sign out. The same services as the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from openxiv.accounts import service
from openxiv.accounts.deps import SESSION_ACCOUNT_KEY, PolicyVersion
from openxiv.errors import DomainError
from openxiv.http.deps import DatabaseDep, client_address, login_throttle, registration_throttle
from openxiv.http.rendering import check_csrf, render, retry_after

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/login", response_model=None)
def login(
    request: Request,
    database: DatabaseDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    try:
        check_csrf(request, csrf)
        with (
            login_throttle(request).password_attempt(email, client_address(request)),
            database.reading() as session,
        ):
            account = service.authenticate_password(session, email, password)
    except DomainError as error:
        return render(
            request,
            "login.html",
            status_code=error.status,
            headers=retry_after(error),
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
def register_form(request: Request, policy_version: PolicyVersion) -> HTMLResponse:
    return render(request, "register.html", policy_version=policy_version)


@router.post("/register", response_model=None)
def register(
    request: Request,
    database: DatabaseDep,
    policy_version: PolicyVersion,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    orcid: Annotated[str, Form()] = "",
    accept_policy: Annotated[str, Form()] = "",
) -> Response:
    # The page draws its own transaction: a refused registration is shown, not committed.
    try:
        check_csrf(request, csrf)
        registration_throttle(request).counted_attempt(client_address(request))
        with database.writing() as session:
            account = service.register_account(
                session,
                email=email,
                password=password,
                display_name=display_name,
                orcid=orcid or None,
                accept_policy=accept_policy == "yes",
                policy_version=policy_version,
            )
    except DomainError as error:
        return render(
            request,
            "register.html",
            status_code=error.status,
            headers=retry_after(error),
            error=error.detail,
            email=email,
            display_name=display_name,
            orcid=orcid,
            accepted=accept_policy == "yes",
            policy_version=policy_version,
        )
    request.session.clear()
    request.session[SESSION_ACCOUNT_KEY] = account.id
    return RedirectResponse("/account", status_code=303)
