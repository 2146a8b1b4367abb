"""What every server-rendered page shares: the templates, the CSRF token of forms, and how a
failure is shown to a browser."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from openxiv.errors import DomainError, Forbidden

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
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
    # The principal is whoever the page's dependencies resolved (none on pages that never ask).
    context.setdefault("principal", getattr(request.state, "principal", None))
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"instance_name": request.app.state.instance_name, "csrf_token": csrf_token(request), **context},
        status_code=status_code,
        headers=headers,
    )


def render_error(request: Request, error: DomainError) -> HTMLResponse:
    return render(request, "error.html", status_code=error.status, title=error.title, detail=error.detail)


def retry_after(error: DomainError) -> dict[str, str] | None:
    """A lockout (RateLimited) tells the browser when to come back, as the API does."""
    return {"Retry-After": str(error.extra["retry_after"])} if "retry_after" in error.extra else None
