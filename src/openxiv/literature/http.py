"""One HTTP client for every scholarly service: throttled per service, cached, polite on 429.

- Throttling: each service has a minimum interval between requests (its documented limit);
  callers in any thread wait for their turn.
- Caching: successful responses are kept for `cache_ttl_s`, keyed by service, path and params.
- 429/503: the `Retry-After` header (seconds or an HTTP date) is obeyed, up to `max_retry_after_s`;
  a service asking for a longer pause is reported as rate-limiting instead of blocking the caller.
- Offline switch: with `online = false` (the default) no request leaves the process.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from openxiv.literature.settings import LiteratureSettings, ServiceSettings

SERVICES = ("semantic_scholar", "arxiv", "openalex")
_RETRY_STATUSES = {429, 500, 502, 503, 504}


class ExternalServiceError(RuntimeError):
    """A scholarly service could not answer; `reason` is one short sentence for people."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class ServiceOffline(ExternalServiceError):
    pass


class ExternalRateLimited(ExternalServiceError):
    """An outside service refused us (429) for longer than we wait; unlike errors.RateLimited,
    which is the platform refusing its own callers."""


@dataclass(frozen=True)
class Response:
    status_code: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    from_cache: bool = False

    def json(self) -> Any:
        import json

        return json.loads(self.text)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (now if now is not None else time.time()))


class _Throttle:
    def __init__(self, interval: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait_turn(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)

    def push_back(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


class ScholarlyClient:
    def __init__(
        self,
        settings: LiteratureSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        cache_size: int = 2048,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=settings.http_timeout_s,
            headers={"User-Agent": settings.user_agent},
            transport=transport,
            follow_redirects=True,
        )
        self._throttles = {
            name: _Throttle(self.service(name).min_interval_s, clock, sleep) for name in SERVICES
        }
        self._cache: OrderedDict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[float, Response]] = (
            OrderedDict()
        )
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self.requests_sent = 0

    def service(self, name: str) -> ServiceSettings:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}")
        service: ServiceSettings = getattr(self.settings, name)
        return service

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ScholarlyClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(
        self,
        service: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        config = self.service(service)
        if not self.settings.online:
            raise ServiceOffline(service, "external services are switched off (literature.online = false)")
        if not config.enabled:
            raise ServiceOffline(service, "this service is disabled in the settings")
        query = tuple(sorted((str(k), str(v)) for k, v in (params or {}).items()))
        key = (service, path, query)
        cached = self._cache_get(key)
        if cached is not None:
            return cached
        url = config.base_url.rstrip("/") + "/" + path.lstrip("/")
        response = self._send(service, url, dict(query), dict(headers or {}))
        if response.status_code == 200:
            self._cache_put(key, response)
        return response

    def _send(self, service: str, url: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        throttle = self._throttles[service]
        attempts = self.settings.max_retries + 1
        last_problem = ""
        for attempt in range(attempts):
            throttle.wait_turn()
            try:
                self.requests_sent += 1
                raw = self._http.get(url, params=params, headers=headers)
            except httpx.TimeoutException:
                last_problem = f"timed out after {self.settings.http_timeout_s:g} s"
                continue
            except httpx.HTTPError as error:
                raise ExternalServiceError(
                    service, f"unreachable ({error.__class__.__name__}: {error})"
                ) from error
            if raw.status_code not in _RETRY_STATUSES:
                return Response(raw.status_code, raw.text, dict(raw.headers))
            wait = parse_retry_after(raw.headers.get("Retry-After"))
            if wait is None:
                wait = throttle.interval * (2**attempt) + 0.5
            if raw.status_code == 429:
                last_problem = "rate limit reached (HTTP 429)"
            else:
                last_problem = f"server error (HTTP {raw.status_code})"
            if wait > self.settings.max_retry_after_s:
                raise ExternalRateLimited(
                    service, f"{last_problem}; asked to wait {wait:.0f} s, more than we wait"
                )
            if attempt + 1 < attempts:
                throttle.push_back(wait)
        kind = ExternalRateLimited if "429" in last_problem else ExternalServiceError
        raise kind(service, f"{last_problem}; gave up after {attempts} attempts")

    def _cache_get(self, key: tuple[str, str, tuple[tuple[str, str], ...]]) -> Response | None:
        with self._cache_lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            expires, response = entry
            if expires < self._clock():
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return Response(response.status_code, response.text, response.headers, from_cache=True)

    def _cache_put(self, key: tuple[str, str, tuple[tuple[str, str], ...]], response: Response) -> None:
        with self._cache_lock:
            self._cache[key] = (self._clock() + self.settings.cache_ttl_s, response)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
