"""What every server-rendered page shares: the templates, the CSRF token of forms, the theme, the
notice about which models review, and how a failure is shown to a browser."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from openxiv.errors import DomainError, Forbidden

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
_CSRF_KEY = "csrf"
THEME_COOKIE = "theme"
THEMES = ("light", "dark")


def csrf_token(request: Request) -> str:
    token = request.session.get(_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return str(token)


class _TokenWhenShown:
    """The CSRF token, made (and a session cookie set) only when a page really shows a form, so
    that an anonymous visitor reading pages gets no cookie and the page can be cached."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def __str__(self) -> str:
        return csrf_token(self._request)

    def __html__(self) -> str:
        return str(self)


def same_origin(request: Request) -> bool:
    """Whether the browser says the request came from one of this site's own pages."""
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    origin = request.headers.get("origin")
    return origin is not None and origin == str(request.base_url).rstrip("/")


def check_csrf(request: Request, submitted: str) -> None:
    expected = request.session.get(_CSRF_KEY)
    if not expected or not hmac.compare_digest(str(expected), submitted):
        raise Forbidden("the form has expired or did not come from this site; reload the page and try again")


def chosen_theme(request: Request) -> str | None:
    """The theme a visitor picked with the toggle; None follows the system (prefers-color-scheme)."""
    value = request.cookies.get(THEME_COOKIE)
    return value if value in THEMES else None


def review_model_notice(settings: Any) -> str | None:
    """Which kind of stand-in model writes the reviews, when it is not a real one.

    The kit knows no domain, so it reads the two settings sections by name: the review roles'
    aliases and the providers those aliases point at."""
    review = getattr(settings, "review", None)
    llm = getattr(settings, "llm", None)
    if review is None or llm is None or not getattr(review, "enabled", False):
        return None
    roles: Iterable[str] = [
        review.single_model,
        review.area_chair_model,
        review.pairwise_model,
        *review.reviewer_models,
        *review.panel,
    ]
    providers = {llm.models[alias].provider for alias in roles if alias in llm.models}
    if "embedded" in providers:
        return "embedded"
    if "test" in providers:
        return "test"
    return None


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
        {
            "instance_name": request.app.state.instance_name,
            "csrf_token": _TokenWhenShown(request),
            "theme": chosen_theme(request),
            "review_notice": review_model_notice(getattr(request.app.state, "settings", None)),
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def render_error(request: Request, error: DomainError) -> HTMLResponse:
    return render(request, "error.html", status_code=error.status, title=error.title, detail=error.detail)


def retry_after(error: DomainError) -> dict[str, str] | None:
    """A lockout (RateLimited) tells the browser when to come back, as the API does."""
    return {"Retry-After": str(error.extra["retry_after"])} if "retry_after" in error.extra else None


def field_errors(error: ValidationError) -> dict[str, str]:
    """A schema's refusal as one message per form field (the dotted path of the first problem),
    so a form shows each next to its input rather than as one block."""
    messages: dict[str, str] = {}
    for problem in error.errors():
        path = ".".join(str(part) for part in problem["loc"]) or "form"
        messages.setdefault(path, str(problem["msg"]))
    return messages
