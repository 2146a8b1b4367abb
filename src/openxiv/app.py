"""create_app(settings): the web UI, the REST API under /api/v1, and static files."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

import openxiv
from openxiv.accounts.api import router as accounts_router
from openxiv.accounts.pages import router as accounts_pages
from openxiv.community.api import router as community_router
from openxiv.community.pages import router as community_pages
from openxiv.config import HttpSettings, Settings, check_production_safety, resolve_secret_key
from openxiv.discovery import api as discovery_api
from openxiv.discovery.pages import router as discovery_pages
from openxiv.events.api import router as events_router
from openxiv.events.pages import router as events_pages
from openxiv.events.stream import EventHub
from openxiv.http import problems
from openxiv.http.caching import LISTINGS, CachingMiddleware, ResponseCache
from openxiv.http.deps import Database
from openxiv.http.idempotency import IdempotencyMiddleware
from openxiv.http.ratelimit import LoginThrottle, RateLimiter
from openxiv.http.rendering import THEME_COOKIE
from openxiv.http.security import SecurityHeadersMiddleware, install_api_docs
from openxiv.integrity.api import router as integrity_router
from openxiv.integrity.pages import router as integrity_pages
from openxiv.literature.api import router as literature_router
from openxiv.mcp.http import PATH as MCP_PATH
from openxiv.mcp.http import McpHttpEndpoint
from openxiv.models import Event
from openxiv.publishing.api import router as publishing_router
from openxiv.review.api import router as review_router
from openxiv.review.external.api import router as external_reviews_router
from openxiv.runtime import Runtime
from openxiv.submissions.api import router as submissions_router
from openxiv.submissions.pages import router as submissions_pages
from openxiv.trajectories.api import router as trajectories_router

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "openxiv_session"


# Each domain's router directly under the prefix: a router included in a router is matched once
# per level, twice over (FastAPI matches, then handles), on every request. Routers are tried in
# this order, so the one of the most frequent requests (an item, a listing) comes first; no path
# of a router is taken by one tried before it (tests/core/test_read_path.py).
API_PREFIX = "/api/v1"
API_ROUTERS = (
    submissions_router,
    accounts_router,
    review_router,
    external_reviews_router,
    integrity_router,
    literature_router,
    events_router,
    trajectories_router,
    publishing_router,
    community_router,
    discovery_api.router,
)


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    # Refuse to serve with settings that are only safe on a laptop (ConfigError says which).
    secret_key = resolve_secret_key(settings)
    check_production_safety(settings)
    runtime = runtime or Runtime(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tune_process(settings.http)
        async with mcp.running(), event_hub.running():
            # In the background: a database that is down at start-up delays the cache, not the app.
            feeding = asyncio.create_task(feed_invalidations(event_hub, response_cache))
            yield
            feeding.cancel()
        runtime.close()

    app = FastAPI(
        title=f"{settings.instance_name} API",
        version=openxiv.__version__,
        description=(
            "Preprint server with AI peer review. Authenticate with `Authorization: Bearer <API key>`. "
            "Errors are RFC 9457 problem documents. Every write accepts an `Idempotency-Key` header."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # What the HTTP kit and the domains' dependencies read: each endpoint asks for the part it
    # uses (a session, the blob store, the queue), never for the whole runtime.
    app.state.settings = runtime.settings
    app.state.instance_name = runtime.settings.instance_name
    app.state.database = Database(
        read_sessions=runtime.read_sessions,
        write_sessions=runtime.write_sessions,
        hot_read_sessions=runtime.hot_read_sessions,
        hot_reads_on_loop=runtime.hot_reader is not None and runtime.hot_reader.on_loop,
    )
    app.state.blobs = runtime.blobs
    # Looked up per request: the queue is built on first use (a read-only process never opens
    # it), and whatever the runtime holds at that moment is what requests enqueue on.
    app.state.queue = lambda: runtime.queue
    # One poller per process feeds every event stream; commits made here wake it at once.
    event_hub = app.state.event_hub = EventHub(runtime.read_sessions, runtime.settings.events)
    runtime.commit_listeners.append(event_hub.notify)
    response_cache = app.state.response_cache = ResponseCache(
        entries=settings.http.cache_entries, ttl_s=settings.http.cache_ttl_s
    )
    # A change committed here is visible to this process's next read at once, not after a poll.
    runtime.write_listeners.append(response_cache.clear)
    app.state.rate_limiter = RateLimiter(settings.rate_limit)
    limits = settings.rate_limit
    app.state.login_throttle = LoginThrottle(free_attempts=limits.login_free_attempts, enabled=limits.enabled)
    app.state.registration_throttle = LoginThrottle(
        free_attempts=limits.registrations_per_address, enabled=limits.enabled
    )
    problems.install(app)

    for api_router in API_ROUTERS:
        app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(discovery_api.hub_router)
    app.include_router(discovery_api.feeds_router)
    app.include_router(discovery_api.oai_router)
    app.include_router(discovery_pages)
    # Before the submissions pages: their /moderation/{identifier} would take /moderation/act.
    app.include_router(community_pages)
    app.include_router(submissions_pages)
    app.include_router(integrity_pages)
    app.include_router(events_pages)
    app.include_router(accounts_pages)
    install_api_docs(app)
    mcp = McpHttpEndpoint(runtime, digest_key=secret_key, rate_check=app.state.rate_limiter.check)
    # An ASGI app, not a request handler: Starlette routes a non-function endpoint as ASGI
    # (exactly /mcp, no redirect to /mcp/), which its type hints do not express.
    app.add_route(MCP_PATH, mcp)  # type: ignore[arg-type]
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(IdempotencyMiddleware, write_sessions=runtime.write_sessions, digest_key=secret_key)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        # Always Secure behind an https base URL; SecurityHeadersMiddleware adds it to any
        # cookie sent over an https request as well (a TLS proxy with X-Forwarded-Proto).
        https_only=settings.base_url.startswith("https://"),
        max_age=14 * 24 * 3600,
    )
    app.add_middleware(
        CachingMiddleware,
        cache=response_cache,
        session_cookie=SESSION_COOKIE,
        vary_cookies=(THEME_COOKIE,),
        rate_check=app.state.rate_limiter.check,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app


async def feed_invalidations(hub: EventHub, cache: ResponseCache) -> None:
    """Evict a submission's cached responses when any process records an event about it; the
    cache serves only while this feed runs."""

    def on_event(event: Event | None) -> None:
        if event is None:
            cache.live = False
            cache.clear()
        else:
            cache.evict_group(LISTINGS)
            if event.submission_id is not None:
                cache.evict_group(str(event.submission_id))

    await hub.watch(on_event)
    cache.live = True


_gc_frozen = False


def tune_process(http: HttpSettings) -> None:
    """Per-process settings of the server (docs/deployment.md, "Read path")."""
    global _gc_frozen
    if http.freeze_gc and not _gc_frozen:
        # What start-up built lives as long as the process; the collector need not scan it again.
        gc.collect()
        gc.freeze()
        _gc_frozen = True


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` and `openxiv serve`: settings from openxiv.toml + OPENXIV_*."""
    from openxiv.config import load_settings

    return create_app(load_settings())
