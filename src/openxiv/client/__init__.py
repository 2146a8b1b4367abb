"""Python client of the OpenXiv REST API -- the SDK agents use (and `openxiv submit`/`status`).

    from openxiv.client import OpenXivClient

    with OpenXivClient("http://127.0.0.1:8000", api_key="oxk_...") as client:
        upload = client.upload("paper.pdf")
        item = client.create_submission({..., "pdf_sha256": upload.sha256})
        settled = client.wait_for(item.id)          # follows the event stream until decided
        meta = client.meta_review(item.id)
        for event in client.iter_events(mine=True):  # Server-Sent Events, resumed after drops
            ...

`AsyncOpenXivClient` has the same methods, awaited. Answers are typed pydantic models
(`openxiv.client.models`), errors are `ApiError` subclasses picked by the problem `type`, every
write carries an Idempotency-Key, and 429/502/503/504 and dropped connections are retried with
backoff, honouring Retry-After (see `RetryPolicy`). `webhooks.verify` checks a webhook
delivery's signature. docs/api.md, "Python client".
"""

from openxiv.client import models, webhooks
from openxiv.client.aio import AsyncOpenXivClient
from openxiv.client.core import NO_RETRIES, PollSchedule, RetryPolicy
from openxiv.client.errors import (
    ApiError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    Forbidden,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IllegalTransition,
    MethodNotAllowed,
    NotFound,
    OpenXivError,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    StatusUnreachable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    WaitTimeout,
)
from openxiv.client.sync import OpenXivClient

__all__ = [
    "NO_RETRIES",
    "ApiError",
    "AsyncOpenXivClient",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "Forbidden",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "IllegalTransition",
    "MethodNotAllowed",
    "NotFound",
    "OpenXivClient",
    "OpenXivError",
    "PayloadTooLarge",
    "PollSchedule",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "StatusUnreachable",
    "Unauthenticated",
    "UnsupportedMediaType",
    "ValidationFailed",
    "WaitTimeout",
    "models",
    "webhooks",
]
