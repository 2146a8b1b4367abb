"""HTTP caching for public reads: strong ETags, conditional requests (304) and an in-process
cache of rendered public responses.

A handler declares a response public with `declare_public(response, group=..., max_age=...)`;
`group` names what the response shows (a submission), so that a change to it evicts every
response of that group. The middleware then

- gives the response a strong ETag (a hash of its body) unless the handler set one,
- answers `If-None-Match` with 304 and no body,
- keeps the response in a bounded LRU (`ResponseCache`) and serves later anonymous requests for
  the same URL from memory: no database, no thread hop. A conditional request whose ETag is still
  current gets its 304 the same way.

Only anonymous requests (no `Authorization` header, no session cookie) read or fill the cache,
and a response that sets a cookie is never kept, so nothing that depends on who asks is shared.
Entries leave the cache when their group changes (`evict_group`, fed by the event outbox that
every process polls), after `ttl_s` at the latest (a bound on changes that record no event), and
when the cache is not `live` (nothing feeds it invalidations) it is not used at all.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openxiv.errors import DomainError
from openxiv.http.problems import domain_problem

# Set by handlers on public responses and removed by the middleware before anything is sent.
GROUP_HEADER = "x-openxiv-cache-group"
# A response is shown to a shared cache for this long before it must be revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
_READ_METHODS = frozenset({"GET", "HEAD"})
# Responses that list many items (pages, feeds, the homepage): any change may alter them.
LISTINGS = "listings"


class _HeaderSetter(Protocol):
    def __setitem__(self, key: str, value: str, /) -> None: ...


def declare_public(request: Request, headers: _HeaderSetter, *, group: str, immutable: bool = False) -> None:
    """Mark a response as the same for every anonymous reader until `group` changes; shared
    caches may keep it `http.public_max_age_s`, or for good when it is `immutable`."""
    max_age = request.app.state.settings.http.public_max_age_s
    headers["Cache-Control"] = IMMUTABLE if immutable else f"public, max-age={max_age}"
    # A signed-in reader (session cookie, API key) asking for the same URL gets their own answer,
    # and a page's theme comes from a cookie: shared caches must key on both.
    headers["Vary"] = "Authorization, Cookie"
    headers[GROUP_HEADER] = group


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison, a list of tags, or `*`."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


@dataclass(frozen=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # as sent, ETag and Cache-Control included
    body: bytes | None  # None: too large to keep; only its validators are kept (304s)
    etag: str
    group: str
    stored_at: float


class ResponseCache:
    """A bounded LRU of public responses by URL, thread-safe (handlers store from worker threads)."""

    def __init__(
        self, *, entries: int, ttl_s: float, max_body: int = 256 * 1024, max_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self.capacity = entries
        self.ttl_s = ttl_s
        self.max_body = max_body
        self.max_bytes = max_bytes
        self._bytes = 0
        self.live = False  # True only while invalidations are fed to it
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._groups: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        # Bumped by every eviction: a response computed before an eviction may show what was
        # evicted, so it is not stored (see `generation` and `put`).
        self._generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.live and self.capacity > 0

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry.stored_at > self.ttl_s:
                if entry is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: str, entry: CachedResponse, *, computed_at_generation: int) -> bool:
        with self._lock:
            if computed_at_generation != self._generation:
                return False
            self._drop(key)
            self._entries[key] = entry
            self._bytes += len(entry.body or b"")
            self._groups.setdefault(entry.group, set()).add(key)
            while len(self._entries) > self.capacity or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))
            return True

    def evict_group(self, group: str) -> None:
        with self._lock:
            self._generation += 1
            for key in self._groups.pop(group, set()):
                entry = self._entries.pop(key, None)
                self._bytes -= len(entry.body or b"") if entry is not None else 0

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._groups.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry.body or b"")
            keys = self._groups.get(entry.group)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._groups[entry.group]


class CachingMiddleware:
    """Conditional requests for every response with an ETag; the cache for public ones."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: ResponseCache,
        session_cookie: str,
        vary_cookies: tuple[str, ...] = (),
        rate_check: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.cache = cache
        self.session_cookie = session_cookie
        # Cookies that change what a public page looks like (the theme): part of the cache key.
        self.vary_cookies = vary_cookies
        # Reads served from memory still spend the reader's rate limit (the key the principal
        # dependency uses for anonymous callers).
        self.rate_check = rate_check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _READ_METHODS:
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        if_none_match = request_headers.get("if-none-match")
        key = self._cache_key(scope, request_headers)
        shared = self.cache.enabled and self._anonymous(request_headers)
        if shared:
            entry = self.cache.get(key)
            if entry is not None and (entry.body is not None or etag_matches(if_none_match, entry.etag)):
                await self._send_cached(scope, send, entry, if_none_match)
                return
        generation = self.cache.generation
        store = shared and scope["method"] == "GET"
        await self.app(scope, receive, _Responder(self, send, key, if_none_match, store, generation).send)

    def _cache_key(self, scope: Scope, headers: Headers) -> str:
        query = scope.get("query_string", b"")
        key = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        if self.vary_cookies and "cookie" in headers:
            cookies = cookie_parser(headers["cookie"])
            key += "".join(f"\n{name}={cookies.get(name, '')}" for name in self.vary_cookies)
        return key

    def _anonymous(self, headers: Headers) -> bool:
        if "authorization" in headers:
            return False
        cookie = headers.get("cookie", "")
        return f"{self.session_cookie}=" not in cookie

    async def _send_cached(
        self, scope: Scope, send: Send, entry: CachedResponse, if_none_match: str | None
    ) -> None:
        if self.rate_check is not None:
            client = scope.get("client")
            try:
                self.rate_check(f"ip:{client[0] if client else 'unknown'}")
            except DomainError as error:
                await domain_problem(error, scope["path"])(scope, _no_body, send)
                return
        if etag_matches(if_none_match, entry.etag):
            await _send_not_modified(send, entry.headers)
            return
        assert entry.body is not None
        await send({"type": "http.response.start", "status": entry.status, "headers": list(entry.headers)})
        body = b"" if scope["method"] == "HEAD" else entry.body
        await send({"type": "http.response.body", "body": body})


class _Responder:
    """The `send` of one request: finds the response's validators, answers a matching
    `If-None-Match` with 304, and hands public responses to the cache."""

    def __init__(
        self,
        middleware: CachingMiddleware,
        send: Send,
        key: str,
        if_none_match: str | None,
        store: bool,
        generation: int,
    ) -> None:
        self.middleware = middleware
        self.downstream = send
        self.key = key
        self.if_none_match = if_none_match
        self.store = store
        self.generation = generation
        self.start: Message | None = None
        self.group: str | None = None
        self.chunks: list[bytes] = []
        self.passing_through = False

    async def send(self, message: Message) -> None:
        if self.passing_through:
            await self.downstream(message)
            return
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            self.group = headers.get(GROUP_HEADER)
            if self.group is not None:
                del headers[GROUP_HEADER]
            status = message["status"]
            if status != 200 or (self.group is None and "etag" not in headers):
                self.passing_through = True
                await self.downstream(message)
                return
            if "etag" in headers and not self._wants_body(headers):
                await self._respond_with_known_etag(message, headers)
                return
            self.start = message  # wait for the body: the ETag is its hash
            return
        if message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._finish(b"".join(self.chunks))
            return
        await self.downstream(message)

    def _storable(self, headers: MutableHeaders) -> bool:
        # A response that sets a cookie is someone's own, whatever the handler declared.
        return self.store and self.group is not None and "set-cookie" not in headers

    def _wants_body(self, headers: MutableHeaders) -> bool:
        """A grouped response small enough to keep is buffered so the cache can serve it."""
        length = headers.get("content-length")
        return (
            self._storable(headers) and length is not None and int(length) <= self.middleware.cache.max_body
        )

    async def _respond_with_known_etag(self, message: Message, headers: MutableHeaders) -> None:
        etag = headers["etag"]
        if self._storable(headers):
            self._keep(message, None, etag)
        self.passing_through = True
        if etag_matches(self.if_none_match, etag):
            await _send_not_modified(self.downstream, tuple(message["headers"]))
            self.downstream = _discard  # the handler's body follows; the 304 has none
            return
        await self.downstream(message)

    async def _finish(self, body: bytes) -> None:
        assert self.start is not None
        headers = MutableHeaders(scope=self.start)
        if "etag" not in headers:
            headers["ETag"] = strong_etag(body)
        etag = headers["etag"]
        if self._storable(headers):
            keep = body if len(body) <= self.middleware.cache.max_body else None
            self._keep(self.start, keep, etag)
        if etag_matches(self.if_none_match, etag):
            await _send_not_modified(self.downstream, tuple(self.start["headers"]))
            return
        await self.downstream(self.start)
        await self.downstream({"type": "http.response.body", "body": body})

    def _keep(self, start: Message, body: bytes | None, etag: str) -> None:
        assert self.group is not None
        entry = CachedResponse(
            status=start["status"],
            headers=tuple(start["headers"]),
            body=body,
            etag=etag,
            group=self.group,
            stored_at=time.monotonic(),
        )
        self.middleware.cache.put(self.key, entry, computed_at_generation=self.generation)


# A 304 repeats the validators and caching headers of the 200 it stands for, nothing about a body.
_NOT_MODIFIED_HEADERS = frozenset({b"etag", b"cache-control", b"vary", b"link", b"expires", b"last-modified"})


async def _send_not_modified(send: Send, headers: tuple[tuple[bytes, bytes], ...]) -> None:
    kept = [(name, value) for name, value in headers if name.lower() in _NOT_MODIFIED_HEADERS]
    await send({"type": "http.response.start", "status": 304, "headers": kept})
    await send({"type": "http.response.body", "body": b""})


async def _discard(_message: Message) -> None:
    return None


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
