"""`openxiv mcp`: the MCP server over stdin/stdout, for an agent host that starts it locally.

The API key comes from `OPENXIV_API_KEY` and is checked again on every call, so revoking it
takes effect at once; without a key the tools read what the public may read and every write
says it needs a key. The process talks to the site's database directly (like the worker), with
the same services, scope checks and rate limits as the web server.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server

from openxiv.accounts import service as accounts
from openxiv.accounts.authz import Principal
from openxiv.config import Settings, resolve_secret_key
from openxiv.db import transaction
from openxiv.http.ratelimit import RateLimiter
from openxiv.mcp.server import OpenXivMcp
from openxiv.runtime import Runtime

API_KEY_VARIABLE = "OPENXIV_API_KEY"


def build(
    settings: Settings, api_key: str | None, toolsets: frozenset[str], runtime: Runtime | None = None
) -> OpenXivMcp:
    runtime = runtime or Runtime(settings)

    def authenticate(_: ServerRequestContext[Any, Any]) -> Principal | None:
        if not api_key:
            return None
        with runtime.read_sessions() as session:
            principal, touch = accounts.authenticate_key(session, api_key)
        if touch and principal.key_id is not None:
            with transaction(runtime.write_sessions) as session:
                accounts.record_key_use(session, principal.key_id)
        return principal

    return OpenXivMcp(
        runtime,
        authenticate=authenticate,
        digest_key=resolve_secret_key(settings),
        rate_check=RateLimiter(settings.rate_limit).check,
        toolsets=lambda _ctx: toolsets,
    )


def check_key(settings: Settings, api_key: str) -> Principal:
    """Fail fast at start-up on a key that cannot work (raises Unauthenticated)."""
    runtime = Runtime(settings)
    try:
        with runtime.read_sessions() as session:
            return accounts.authenticate_key(session, api_key)[0]
    finally:
        runtime.close()


def serve(settings: Settings, api_key: str | None, toolsets: frozenset[str]) -> None:
    server = build(settings, api_key, toolsets)

    async def run() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.server.run(read_stream, write_stream, server.server.create_initialization_options())

    try:
        anyio.run(run)
    finally:
        server.runtime.close()
