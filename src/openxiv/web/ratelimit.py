"""Per-credential rate limits: a token bucket per key (or per client address when anonymous).

The buckets live in the process; with several server processes each enforces the limit on its
own share of the traffic, so the effective limit is per process. That is a deliberate trade for
zero extra infrastructure; a Redis-backed limiter belongs behind this same `check` call.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from openxiv.config import RateLimitSettings
from openxiv.errors import RateLimited


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, clock: Callable[[], float] = time.monotonic) -> None:
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
