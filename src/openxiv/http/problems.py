"""RFC 9457 problem documents for every error the HTTP interface returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from openxiv.errors import DomainError, RateLimited

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("openxiv.api")


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


def problem_type(slug: str) -> str:
    return f"urn:openxiv:problem:{slug}"


_RESERVED = frozenset({"type", "title", "status", "detail", "instance"})


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem document; `extra` members never override the standard ones (a domain error's
    `status` extra, say, is renamed `current_status`)."""
    members = {f"current_{k}" if k in _RESERVED else k: v for k, v in (extra or {}).items()}
    body = {
        **members,
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": title}
    for code, title in (
        (401, "Authentication required"),
        (403, "Forbidden: the credential lacks a scope or role"),
        (404, "Not found"),
        (409, "Conflict: the state changed, or an illegal lifecycle transition"),
        (422, "Invalid input"),
        (429, "Too many requests; see Retry-After"),
    )
}


def domain_problem(error: DomainError, instance: str) -> JSONResponse:
    headers = None
    if isinstance(error, RateLimited):
        headers = {"Retry-After": str(error.extra.get("retry_after", 1))}
    extra = {k: v for k, v in error.extra.items() if isinstance(v, str | int | float | bool | None)}
    return problem_response(
        error.status, error.slug, error.title, error.detail, instance=instance, headers=headers, extra=extra
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return domain_problem(error, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in error.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(p for p in first["loc"] if p != "body") or "request"
        return problem_response(
            422,
            "invalid-input",
            "Invalid input",
            f"{where}: {first['msg']}",
            instance=request.url.path,
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP_SLUGS.get(error.status_code, ("http-error", "HTTP error"))
        return problem_response(
            error.status_code,
            slug,
            title,
            str(error.detail),
            instance=request.url.path,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "internal-error",
            "Internal error",
            "an unexpected error occurred; it has been logged",
            instance=request.url.path,
        )
