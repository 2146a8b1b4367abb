"""The queue that runs named background jobs, and the shape of a job handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

# What a handler returns is only logged by tests; the queue ignores it.
JobHandler = Callable[[dict[str, Any]], object]

# Jobs other domains handle; the composition root (`openxiv.runtime`) maps each name to its handler.
DISPATCH_EVENTS = "dispatch_events"
# A subscription under this key receives every event type (webhooks listen to all of them).
ANY_EVENT = "*"


class JobQueue(Protocol):
    def enqueue_job(self, name: str, payload: dict[str, Any]) -> None: ...


class DelayedJobQueue(JobQueue, Protocol):
    """A queue that can also run a job later (webhook retries wait minutes to hours)."""

    def enqueue_job_later(self, name: str, payload: dict[str, Any], delay_s: float) -> None: ...
