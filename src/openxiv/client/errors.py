"""Exceptions of the client. Every error answer of the server is an RFC 9457 problem document
whose `type` (`urn:openxiv:problem:<slug>`) is stable; it picks the exception class, and the
status code decides when the type is one this client does not know."""

from __future__ import annotations

from typing import Any

PROBLEM_PREFIX = "urn:openxiv:problem:"


class OpenXivError(Exception):
    """Base of everything the client raises on purpose."""


class ApiError(OpenXivError):
    """The server answered with an error; `problem` is its problem document as sent."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', 'error')}: {problem.get('detail', '')}")

    @property
    def type(self) -> str:
        return str(self.problem.get("type", "about:blank"))

    @property
    def slug(self) -> str:
        """The stable part of `type`, e.g. `not-found`; empty for a type of another origin."""
        return self.type.removeprefix(PROBLEM_PREFIX) if self.type.startswith(PROBLEM_PREFIX) else ""

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))


class BadRequest(ApiError):
    pass


class Unauthenticated(ApiError):
    """No key, an unknown key or a revoked one."""


class Forbidden(ApiError):
    """The key lacks a scope or the account a role, or the item is not yours."""


class NotFound(ApiError):
    pass


class MethodNotAllowed(ApiError):
    pass


class Conflict(ApiError):
    """The state changed under the request: an illegal lifecycle transition, a stale
    `base_version`, or a request with the same Idempotency-Key still running."""


class IllegalTransition(Conflict):
    pass


class IdempotencyInProgress(Conflict):
    pass


class PayloadTooLarge(ApiError):
    pass


class UnsupportedMediaType(ApiError):
    pass


class ValidationFailed(ApiError):
    """The request was refused as invalid; `errors` lists each field's problem when the server
    gave them (request validation), otherwise `field` may name the one at fault."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        found = self.problem.get("errors")
        return list(found) if isinstance(found, list) else []

    @property
    def field(self) -> str | None:
        found = self.problem.get("field")
        return str(found) if found is not None else None


class IdempotencyKeyReused(ValidationFailed):
    """The same Idempotency-Key was sent with a different request."""


class RateLimited(ApiError):
    """Too many requests. `retry_after` is the server's wait in seconds (None when it gave none);
    the client already retried within its RetryPolicy before raising this."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: float | None = None) -> None:
        super().__init__(status, problem)
        self.retry_after = retry_after


class ServerError(ApiError):
    """A 5xx answer that persisted through the retries."""


class ConnectionFailed(OpenXivError):
    """The server could not be reached (or stopped answering) through every retry; the httpx error
    is the `__cause__`."""


class WaitTimeout(OpenXivError, TimeoutError):
    """`wait_for` gave up; `last_status` is the status last seen (None if none was seen)."""

    def __init__(self, identifier: str, wanted: frozenset[str], last_status: str | None) -> None:
        self.identifier = identifier
        self.wanted = wanted
        self.last_status = last_status
        super().__init__(f"{identifier} did not reach {sorted(wanted)} in time (last status: {last_status})")


class StatusUnreachable(OpenXivError):
    """`wait_for` stopped early: the submission is in a final status that is not one waited for."""

    def __init__(self, identifier: str, wanted: frozenset[str], status: str) -> None:
        self.identifier = identifier
        self.wanted = wanted
        self.status = status
        super().__init__(f"{identifier} is {status}, a final status; it will never reach {sorted(wanted)}")


BY_SLUG: dict[str, type[ApiError]] = {
    "bad-request": BadRequest,
    "invalid-input": ValidationFailed,
    "invalid-idempotency-key": ValidationFailed,
    "idempotency-key-reused": IdempotencyKeyReused,
    "unauthenticated": Unauthenticated,
    "forbidden": Forbidden,
    "not-found": NotFound,
    "method-not-allowed": MethodNotAllowed,
    "conflict": Conflict,
    "illegal-transition": IllegalTransition,
    "idempotency-key-in-progress": IdempotencyInProgress,
    "payload-too-large": PayloadTooLarge,
    "unsupported-media-type": UnsupportedMediaType,
    "rate-limited": RateLimited,
    "internal-error": ServerError,
}

BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: RateLimited,
}


def error_class(status: int, problem: dict[str, Any]) -> type[ApiError]:
    kind = str(problem.get("type", ""))
    if kind.startswith(PROBLEM_PREFIX) and (found := BY_SLUG.get(kind.removeprefix(PROBLEM_PREFIX))):
        return found
    if status >= 500:
        return ServerError
    return BY_STATUS.get(status, ApiError)


def api_error(status: int, problem: dict[str, Any], retry_after: float | None = None) -> ApiError:
    cls = error_class(status, problem)
    if issubclass(cls, RateLimited):
        return cls(status, problem, retry_after)
    return cls(status, problem)
