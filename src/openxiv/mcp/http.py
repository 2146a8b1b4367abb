"""MCP over streamable HTTP at `/mcp` in the web app.

Before a request reaches the SDK's transport it passes three checks:
- `Origin`: a browser page from another site must not drive a local server (DNS rebinding), so
  a request with an Origin is served only when it is this host's own, the configured base URL's,
  or one listed in `allowed_origins`. Requests without one (agents, CLIs) pass.
- the API key, as a bearer token: missing or invalid answers 401 with `WWW-Authenticate: Bearer`
  naming the scopes the tools need (reads need a valid key here; writes check their scope).
- `?toolsets=reader,author`: an unknown toolset is a 400.

The transport runs stateless with JSON responses: every POST is served on its own, so any
server process can answer any request, and the per-call authentication and scope checks are
the REST API's. (OAuth 2.1: a deployment that fronts this with an authorization server swaps the
key lookup in `_authenticate` for a token verifier; docs/agents.md.)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.datastructures import Headers, QueryParams
from starlette.types import Receive, Scope, Send

from openxiv.accounts import service as accounts
from openxiv.accounts.authz import Principal
from openxiv.db import transaction
from openxiv.errors import DomainError, Unauthenticated
from openxiv.mcp.registry import parse_toolsets
from openxiv.mcp.server import OpenXivMcp
from openxiv.runtime import Runtime

PATH = "/mcp"
PRINCIPAL_KEY = "openxiv.mcp.principal"
NEEDED_SCOPES = "read submit"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class McpHttpEndpoint:
    """The ASGI app served at /mcp; `running()` belongs in the web app's lifespan."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        digest_key: str,
        rate_check: Callable[..., None] | None = None,
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        self.runtime = runtime
        self.allowed_origins = frozenset(
            [_origin_of(runtime.settings.base_url), *(_origin_of(o) for o in allowed_origins)]
        )
        self.mcp = OpenXivMcp(
            runtime,
            authenticate=_principal_of,
            digest_key=digest_key,
            rate_check=rate_check,
            toolsets=_toolsets_of,
        )
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The SDK's session manager lives for one run of the app (a manager cannot be restarted,
        while an app may be started more than once, e.g. by tests)."""
        manager = StreamableHTTPSessionManager(app=self.mcp.server, json_response=True, stateless=True)
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin and not self._origin_allowed(origin, headers.get("host", "")):
            await _respond(
                send,
                403,
                {"error": "forbidden_origin", "detail": f"origin {origin} may not use this endpoint"},
            )
            return
        try:
            parse_toolsets(QueryParams(scope.get("query_string", b"")).get("toolsets"))
        except ValueError as error:
            await _respond(send, 400, {"error": "invalid_toolsets", "detail": str(error)})
            return
        try:
            token = _bearer(headers.get("authorization"))
            principal = await anyio.to_thread.run_sync(self._authenticate, token)
        except Unauthenticated as error:
            await _unauthorized(send, error.detail, invalid=headers.get("authorization") is not None)
            return
        if self._manager is None:
            await _respond(send, 503, {"error": "not_started", "detail": "the MCP endpoint is not running"})
            return
        scope[PRINCIPAL_KEY] = principal
        await self._manager.handle_request(scope, receive, send)

    def _origin_allowed(self, origin: str, host: str) -> bool:
        origin = origin.lower()
        if origin in self.allowed_origins:
            return True
        return bool(host) and urlsplit(origin).netloc == host.lower()

    def _authenticate(self, token: str) -> Principal:
        with self.runtime.read_sessions() as session:
            principal, touch = accounts.authenticate_key(session, token)
        if touch and principal.key_id is not None:
            try:
                with transaction(self.runtime.write_sessions) as session:
                    accounts.record_key_use(session, principal.key_id)
            except DomainError:
                pass  # bookkeeping only: never fail a request over it
        return principal


def _bearer(header: str | None) -> str:
    if not header:
        raise Unauthenticated("this endpoint needs an API key: Authorization: Bearer oxk_...")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <API key>'")
    return token.strip()


def _principal_of(ctx: ServerRequestContext[Any, Any]) -> Principal | None:
    request = ctx.request
    principal = request.scope.get(PRINCIPAL_KEY) if request is not None else None
    return principal if isinstance(principal, Principal) else None


def _toolsets_of(ctx: ServerRequestContext[Any, Any]) -> frozenset[str]:
    request = ctx.request
    return parse_toolsets(request.query_params.get("toolsets") if request is not None else None)


async def _unauthorized(send: Send, detail: str, *, invalid: bool) -> None:
    challenge = f'Bearer realm="openxiv-mcp", scope="{NEEDED_SCOPES}"'
    if invalid:
        quoted = detail.replace('"', "'")
        challenge += f', error="invalid_token", error_description="{quoted}"'
    await _respond(
        send, 401, {"error": "unauthorized", "detail": detail}, [(b"www-authenticate", challenge.encode())]
    )


async def _respond(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
