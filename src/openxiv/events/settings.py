"""Settings of the events domain: the event stream (SSE) and webhook delivery."""

from __future__ import annotations

from pydantic import BaseModel, Field

# One delay per retry after the first attempt: 7 attempts over about 2 h 43 min in all.
DEFAULT_RETRY_SCHEDULE_S = (10.0, 30.0, 120.0, 600.0, 1800.0, 7200.0)


class EventSettings(BaseModel):
    """Owned by the events domain (`[events]` in openxiv.toml)."""

    stream_poll_interval_s: float = Field(
        default=0.2,
        gt=0,
        le=10,
        description="how often each server process looks for events committed by other processes "
        "(events committed in the same process wake the stream at once)",
    )
    stream_keepalive_s: float = Field(
        default=15.0, gt=0, le=300, description="a comment line after this long without an event"
    )
    stream_queue_size: int = Field(
        default=1000,
        ge=10,
        description="events buffered per subscriber; a client that falls further behind is "
        "disconnected and resumes with Last-Event-ID",
    )
    stream_max_subscribers: int = Field(
        default=10_000,
        ge=1,
        description="open streams per server process; more are answered 429 with Retry-After",
    )
    webhook_retry_schedule_s: list[float] = Field(
        default=list(DEFAULT_RETRY_SCHEDULE_S),
        max_length=20,
        description="delay before each retry of a failed delivery; after the last one the "
        "delivery is marked failed (and can be replayed)",
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60, description="per delivery attempt")
    webhooks_per_account: int = Field(default=20, ge=1)
