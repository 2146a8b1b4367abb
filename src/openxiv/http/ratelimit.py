"""Rate limits: token buckets per credential and per owning account (or per client address when
anonymous), and the lockout of password guessing (LoginThrottle).

The buckets live in the process by default, so with several server processes each enforces the
limits on its own share of the traffic. With `[rate_limit] redis_url` they live in Redis and every
process and host shares them (one atomic script per check, timed by the Redis server's clock).
If Redis cannot be reached the request is let through and the failure logged: a limiter that is
down must not take the site down with it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from openxiv.errors import RateLimited, Unauthenticated

logger = logging.getLogger("openxiv.ratelimit")
# How long the limiter stops asking an unreachable Redis before it tries again.
REDIS_RETRY_AFTER_S = 5.0


class RateLimitPolicy(Protocol):
    """What the limiter reads of the settings (`config.RateLimitSettings`)."""

    enabled: bool
    per_minute: int
    burst: int
    owner_per_minute: int
    owner_burst: int
    redis_url: str


class _Buckets(Protocol):
    def take(self, key: str, rate: float, capacity: float) -> float | None:
        """Take one token; None when granted, else the tokens left (below one)."""


class _MemoryBuckets:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: float, capacity: float) -> float | None:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return tokens
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle clients so memory stays bounded
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] >= now - 3600}
            return None


# KEYS[1]: the bucket; ARGV: tokens per second, capacity, seconds to keep an idle bucket.
# Returns {granted (1/0), tokens left as a string}.
_TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local granted = 0
if tokens >= 1 then
  tokens = tokens - 1
  granted = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {granted, tostring(tokens)}
"""


class _RedisBuckets:
    def __init__(self, url: str) -> None:
        import redis  # the `redis` extra; only needed when the limits are shared

        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take: Any = self._client.register_script(_TAKE_SCRIPT)
        self._last_warning = 0.0
        self._skip_until = 0.0

    def take(self, key: str, rate: float, capacity: float) -> float | None:
        # Anonymous checks run on the event loop: while Redis is unreachable, every request would
        # wait out the socket timeout there. After a failure, let requests through for a while
        # without asking.
        if time.monotonic() < self._skip_until:
            return None
        keep_s = max(60, math.ceil(capacity / max(rate, 1e-9)))
        try:
            granted, tokens = self._take(keys=[f"openxiv:rate:{key}"], args=[rate, capacity, keep_s])
        except Exception as error:  # fail open, and say so at most once a minute
            now = time.monotonic()
            self._skip_until = now + REDIS_RETRY_AFTER_S
            if now - self._last_warning > 60:
                self._last_warning = now
                logger.warning("rate limits not enforced: Redis unreachable (%s)", error)
            return None
        return None if int(granted) else float(tokens)


class RateLimiter:
    def __init__(self, settings: RateLimitPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = settings.enabled
        self.rate = settings.per_minute / 60.0
        self.capacity = float(settings.burst)
        self.owner_rate = settings.owner_per_minute / 60.0
        self.owner_capacity = float(settings.owner_burst)
        self._buckets: _Buckets = (
            _RedisBuckets(settings.redis_url) if settings.redis_url else _MemoryBuckets(clock)
        )

    def check(self, key: str, owner: str | None = None) -> None:
        """Spend one request of the credential's (or address's) budget and of its owner's."""
        if not self.enabled:
            return
        self._spend(key, self.rate, self.capacity, "")
        if owner is not None:
            self._spend(
                owner, self.owner_rate, self.owner_capacity, " for the account's keys and agents together"
            )

    def _spend(self, key: str, rate: float, capacity: float, whose: str) -> None:
        left = self._buckets.take(key, rate, capacity)
        if left is not None:
            retry_after = max(1, math.ceil((1.0 - left) / rate))
            raise RateLimited(
                f"rate limit of {round(rate * 60)} requests per minute{whose} exceeded; retry in {retry_after} s",
                retry_after=retry_after,
            )


class LoginThrottle:
    """Password guessing: failures are counted per account (email) and per client address; after
    `free_attempts` failures a key is locked out for a time that doubles with each further failure
    (capped), so an attacker gets a handful of guesses per hour instead of thousands per minute,
    while a user who mistypes twice loses nothing. A count is forgotten `reset_after_s` after its
    last failure. A success clears the account's count, not the address's: one right password
    must not reset an attacker's budget for every other account. In-process, like RateLimiter."""

    def __init__(
        self,
        *,
        free_attempts: int = 5,
        base_lockout_s: float = 30.0,
        max_lockout_s: float = 3600.0,
        reset_after_s: float = 3600.0,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.free_attempts = free_attempts
        self.base_lockout_s = base_lockout_s
        self.max_lockout_s = max_lockout_s
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._failures: dict[str, tuple[int, float, float]] = {}  # key -> (count, locked until, last)
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        """Raise RateLimited while any of the keys is locked out."""
        if not self.enabled:
            return
        now = self._clock()
        with self._lock:
            wait = max((self._failures.get(k, (0, 0.0, 0.0))[1] - now for k in keys), default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise RateLimited(
                f"too many failed attempts; try again in {retry_after} s", retry_after=retry_after
            )

    def failure(self, *keys: str) -> None:
        if not self.enabled:
            return
        now = self._clock()
        with self._lock:
            for key in keys:
                count, _, last = self._failures.get(key, (0, 0.0, now))
                count = 1 if now - last > self.reset_after_s else count + 1
                locked_until = now
                if count >= self.free_attempts:
                    lockout = self.base_lockout_s * 2 ** (count - self.free_attempts)
                    locked_until = now + min(self.max_lockout_s, lockout)
                self._failures[key] = (count, locked_until, now)
            if len(self._failures) > 100_000:  # forget stale entries so memory stays bounded
                cutoff = now - self.reset_after_s
                self._failures = {k: v for k, v in self._failures.items() if max(v[1], v[2]) >= cutoff}

    def success(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    @contextmanager
    def password_attempt(self, email: str, address: str) -> Iterator[None]:
        """Around a password check: refused while locked out; a wrong password counts against
        both the account and the address."""
        keys = (f"email:{email.strip().lower()}", f"ip:{address}")
        self.check(*keys)
        try:
            yield
        except Unauthenticated:
            self.failure(*keys)
            raise
        self.success(keys[0])

    def counted_attempt(self, address: str) -> None:
        """Actions that are throttled whatever their outcome (creating accounts, per address)."""
        key = f"ip:{address}"
        self.check(key)
        self.failure(key)
