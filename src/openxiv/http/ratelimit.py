"""Per-credential rate limits: a token bucket per key (or per client address when anonymous),
and the lockout of password guessing (LoginThrottle).

The buckets live in the process; with several server processes each enforces the limit on its
own share of the traffic, so the effective limit is per process. That is a deliberate trade for
zero extra infrastructure; a Redis-backed limiter belongs behind this same `check` call.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from openxiv.errors import RateLimited, Unauthenticated


class RateLimitPolicy(Protocol):
    """What the limiter reads of the settings (`config.RateLimitSettings`)."""

    @property
    def enabled(self) -> bool: ...

    @property
    def per_minute(self) -> int: ...

    @property
    def burst(self) -> int: ...


class RateLimiter:
    def __init__(self, settings: RateLimitPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = settings.enabled
        self.rate = settings.per_minute / 60.0
        self.capacity = float(settings.burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        if not self.enabled:
            return
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                retry_after = max(1, math.ceil((1.0 - tokens) / self.rate))
                raise RateLimited(
                    f"rate limit of {round(self.rate * 60)} requests per minute exceeded; retry in {retry_after} s",
                    retry_after=retry_after,
                )
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle clients so memory stays bounded
                cutoff = now - self.capacity / max(self.rate, 1e-9)
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] >= cutoff}


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
