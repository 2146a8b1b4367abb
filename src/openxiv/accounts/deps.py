"""Who is calling: the API key or browser session of a request, resolved once per request and
rate-limited. Every domain's endpoints take `OptionalPrincipal` or `RequiredPrincipal` from here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from openxiv.accounts import service
from openxiv.accounts.authz import Principal
from openxiv.config import Settings
from openxiv.errors import DomainError, Unauthenticated
from openxiv.http.deps import Database, client_address

SESSION_ACCOUNT_KEY = "account_id"


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <API key>'")
    return token.strip()


async def current_principal(request: Request) -> Principal | None:
    """Resolve the API key or the browser session, and apply the rate limit.

    Anonymous requests are answered without leaving the event loop; resolving a credential reads
    the database, which happens in a worker thread so the loop never blocks. (The database comes
    from `app.state`, not as a dependency: every request solves this one, and a sub-dependency
    costs more than the lookup.)
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = _bearer_token(request)
    account_id = request.session.get(SESSION_ACCOUNT_KEY) if "session" in request.scope else None
    principal: Principal | None = None
    if token is not None or account_id:
        principal = await run_in_threadpool(_resolve, request, request.app.state.database, token, account_id)
    limiter = request.app.state.rate_limiter
    if principal is None:
        limiter.check(f"ip:{client_address(request)}")
    else:
        limiter.check(principal.rate_key, owner=principal.owner_rate_key)
    request.state.principal = principal
    return principal


def _resolve(request: Request, database: Database, token: str | None, account_id: object) -> Principal | None:
    if token is not None:
        with database.reading() as session:
            principal, touch = service.authenticate_key(session, token)
        if touch and principal.key_id is not None:
            try:
                with database.writing() as session:
                    service.record_key_use(session, principal.key_id)
            except DomainError:
                pass  # bookkeeping only: never fail a request over it
        return principal
    with database.reading() as session:
        try:
            return service.session_principal(session, int(str(account_id)))
        except DomainError:
            request.session.clear()
            return None


def require_principal(principal: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
    if principal is None:
        raise Unauthenticated("this needs an API key (Authorization: Bearer oxk_...) or a signed-in session")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]
RequiredPrincipal = Annotated[Principal, Depends(require_principal)]


async def policy_version(request: Request) -> str:
    """The use policy a new account accepts."""
    settings: Settings = request.app.state.settings
    return settings.policy_version


PolicyVersion = Annotated[str, Depends(policy_version)]
