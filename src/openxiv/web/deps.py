"""FastAPI dependencies: the runtime, units of work, and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from openxiv.accounts import service as accounts
from openxiv.accounts.service import Principal
from openxiv.db import transaction
from openxiv.errors import DomainError, Unauthenticated
from openxiv.runtime import Runtime
from openxiv.validation import MAX_DB_ID
from openxiv.web.ratelimit import LoginThrottle

SESSION_ACCOUNT_KEY = "account_id"
IdInPath = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
IdInQuery = Annotated[int | None, Query(ge=1, le=MAX_DB_ID)]
IdentifierInPath = Annotated[
    str, Path(max_length=40, description="YYMM.NNNNN (latest version) or YYMM.NNNNNvN")
]


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@contextmanager
def unit_of_work(runtime: Runtime) -> Iterator[Session]:
    """A write transaction: commits when the block succeeds, rolls back on any error."""
    with transaction(runtime.write_sessions) as session:
        yield session


@contextmanager
def reading(runtime: Runtime) -> Iterator[Session]:
    with runtime.read_sessions() as session:
        yield session


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers (trusted addresses only) has already put the
    # client's address here.
    return request.client.host if request.client else "unknown"


def login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def registration_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.registration_throttle
    return throttle


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <API key>'")
    return token.strip()


async def current_principal(request: Request, runtime: RuntimeDep) -> Principal | None:
    """Resolve the API key or the browser session, and apply the rate limit.

    Anonymous requests are answered without leaving the event loop; resolving a credential reads
    the database, which happens in a worker thread so the loop never blocks.
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = _bearer_token(request)
    account_id = request.session.get(SESSION_ACCOUNT_KEY) if "session" in request.scope else None
    principal: Principal | None = None
    if token is not None or account_id:
        principal = await run_in_threadpool(_resolve, request, runtime, token, account_id)
    request.app.state.rate_limiter.check(principal.rate_key if principal else f"ip:{client_address(request)}")
    request.state.principal = principal
    return principal


def _resolve(request: Request, runtime: Runtime, token: str | None, account_id: object) -> Principal | None:
    if token is not None:
        with reading(runtime) as session:
            principal, touch = accounts.authenticate_key(session, token)
        if touch and principal.key_id is not None:
            try:
                with unit_of_work(runtime) as session:
                    accounts.record_key_use(session, principal.key_id)
            except DomainError:
                pass  # bookkeeping only: never fail a request over it
        return principal
    with reading(runtime) as session:
        try:
            return accounts.session_principal(session, int(str(account_id)))
        except DomainError:
            request.session.clear()
            return None


def require_principal(principal: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
    if principal is None:
        raise Unauthenticated("this needs an API key (Authorization: Bearer oxk_...) or a signed-in session")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]
RequiredPrincipal = Annotated[Principal, Depends(require_principal)]
