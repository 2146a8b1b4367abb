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


def second_key(client: Any, token: str) -> str:
    issued = client.post(
        "/api/v1/keys", headers=auth(token), json={"name": "second", "scopes": ["read", "submit"]}
    )
    assert issued.status_code == 201, issued.text
    return str(issued.json()["token"])


def test_an_owners_keys_share_one_budget(client: Any, app: Any) -> None:
    token = register(client)["key"]["token"]
    other_key = second_key(client, token)
    app.state.rate_limiter = RateLimiter(
        RateLimitSettings(per_minute=600, burst=100, owner_per_minute=6, owner_burst=3)
    )
    codes = [client.get("/api/v1/me", headers=auth(key)).status_code for key in (token, other_key) * 2]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/me", headers=auth(other_key))
    assert refused.status_code == 429 and "keys and agents together" in refused.json()["detail"]
    stranger = register(client, email="stranger@example.org")["key"]["token"]
    assert client.get("/api/v1/me", headers=auth(stranger)).status_code == 200


@pytest.mark.redis
def test_redis_buckets_are_shared_between_processes_and_fail_open_when_redis_is_gone() -> None:
    import uuid

    import redis

    from tests.conftest import REDIS_URL, service_unavailable

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as error:
        service_unavailable("Redis", error)
    settings = RateLimitSettings(per_minute=60, burst=2, redis_url=REDIS_URL)
    first, second = RateLimiter(settings), RateLimiter(settings)  # two server processes
    key = f"key:{uuid.uuid4().hex}"
    first.check(key)
    second.check(key)
    with pytest.raises(RateLimited) as refused:
        first.check(key)
    assert refused.value.extra["retry_after"] == 1
    second.check(f"key:{uuid.uuid4().hex}")  # another credential has its own bucket

    gone = RateLimiter(RateLimitSettings(per_minute=60, burst=1, redis_url="redis://127.0.0.1:1/0"))
    asked: list[str] = []
    original = gone._buckets._take  # type: ignore[attr-defined]

    def counting_take(**kwargs: Any) -> Any:
        asked.append(kwargs["keys"][0])
        return original(**kwargs)

    gone._buckets._take = counting_take  # type: ignore[attr-defined]
    for _ in range(3):
        gone.check(key)  # nothing to count with: let requests through rather than refuse them all
    # After the first failure the limiter stops asking for a while, instead of making every
    # request wait out the connection timeout on the event loop.
    assert len(asked) == 1


@pytest.fixture
def settings(settings: Any) -> Any:
    return settings.model_copy(
        update={"uploads": settings.uploads.model_copy(update={"versions_per_hour": 2})}
    )


def test_a_flood_of_versions_meets_the_owners_hourly_cap(client: Any) -> None:
    from tests.core.helpers import paper_body, version_body

    token = register(client)["key"]["token"]
    other_key = second_key(client, token)
    created = [client.post("/api/v1/submissions", headers=auth(token), json=paper_body()) for _ in range(2)]
    assert [response.status_code for response in created] == [201, 201]
    for key in (token, other_key):  # a second key of the same owner does not reset the count
        flooded = client.post("/api/v1/submissions", headers=auth(key), json=paper_body())
        assert flooded.status_code == 429, flooded.text
        assert 3500 <= int(flooded.headers["Retry-After"]) <= 3600
        assert "2 versions in the last hour" in flooded.json()["detail"]
    revision = client.post(
        f"/api/v1/submissions/{created[0].json()['id']}/versions",
        headers=auth(token),
        json=version_body(),
    )
    assert revision.status_code == 429  # revisions count too
    stranger = register(client, email="stranger@example.org")["key"]["token"]
    assert client.post("/api/v1/submissions", headers=auth(stranger), json=paper_body()).status_code == 201
