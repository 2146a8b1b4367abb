from __future__ import annotations

from typing import Any

import pytest

from openxiv.config import RateLimitSettings
from openxiv.errors import RateLimited
from openxiv.http.ratelimit import RateLimiter
from tests.core.helpers import auth, register


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimitSettings(per_minute=60, burst=2), clock=lambda: now[0])
    limiter.check("k")
    limiter.check("k")
    with pytest.raises(RateLimited) as refused:
        limiter.check("k")
    assert refused.value.extra["retry_after"] == 1
    limiter.check("other")  # buckets are per key
    now[0] += 1.0
    limiter.check("k")


def test_api_answers_429_with_retry_after_per_key(client: Any, runtime: Any, app: Any) -> None:
    token = register(client)["key"]["token"]
    app.state.rate_limiter = RateLimiter(RateLimitSettings(per_minute=6, burst=3))
    codes = [client.get("/api/v1/me", headers=auth(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/me", headers=auth(token))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["type"] == "urn:openxiv:problem:rate-limited"
    other = register(client, email="other@example.org")["key"]["token"]
    assert client.get("/api/v1/me", headers=auth(other)).status_code == 200
