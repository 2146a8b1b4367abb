"""Webhooks against real receivers on loopback: signed deliveries a receiver can verify, the
filters and visibility of the fan-out, retries through a receiver that is down, slow, then up
(a real Huey consumer), a failed delivery replayed, and the SSRF refusal outside dev mode."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openxiv import worker
from openxiv.app import create_app
from openxiv.db import make_engine
from openxiv.errors import InvalidInput
from openxiv.events import signing, types
from openxiv.events.delivery import _post
from openxiv.events.webhooks import UnsafeUrl, check_url
from openxiv.models import Base
from tests.core.helpers import auth, register
from tests.events.conftest import Receiver, Site, serve_site, site_settings


def create_hook(site: Site, token: str, url: str, **extra: Any) -> dict[str, Any]:
    response = site.http.post("/api/v1/webhooks", headers=auth(token), json={"url": url, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def deliveries(site: Site, token: str, hook: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    response = site.http.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=auth(token), params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def wait_until(condition: Any, what: str, limit_s: float = 60) -> Any:
    deadline = time.monotonic() + limit_s  # a safety limit against hangs, not a speed assertion
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def receiver_verifies(secret: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300) -> bool:
    """What a receiver does, written from the documented rule alone (not with our module)."""
    fields = dict(part.split("=", 1) for part in headers["OpenXiv-Signature"].split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(fields["t"])) <= tolerance_s
    return fresh and hmac.compare_digest(expected, fields["v1"])


def test_a_webhook_receives_each_event_signed_and_logged(site: Site, receiver: Receiver) -> None:
    owner = site.tokens["owner"]
    hook = create_hook(site, owner, receiver.url, description="lab notebook")
    assert hook["secret"].startswith("whsec_") and hook["mine_only"] is True and hook["event_types"] == []
    listed = site.http.get("/api/v1/webhooks", headers=auth(owner)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]  # shown once

    identifier = site.submit(owner)
    wait_until(lambda: len(receiver.received) >= 4, "four deliveries")
    bodies = [json.loads(d.body) for d in receiver.received]
    assert [(b["type"], b["payload"].get("status")) for b in bodies] == [
        (types.STATUS_CHANGED, "submitted"),
        (types.STATUS_CHANGED, "screening"),
        (types.VERSION_SCREENED, None),
        (types.STATUS_CHANGED, "under_review"),
    ]
    assert {b["submission"] for b in bodies} == {identifier}
    for delivery in receiver.received:
        assert receiver_verifies(hook["secret"], delivery.headers, delivery.body)
        assert signing.verify(hook["secret"], delivery.headers["OpenXiv-Signature"], delivery.body)
        assert not receiver_verifies(hook["secret"], delivery.headers, delivery.body + b" ")
        assert not receiver_verifies("whsec_wrong", delivery.headers, delivery.body)
        assert delivery.headers["OpenXiv-Event"] == json.loads(delivery.body)["type"]
        assert delivery.headers["Content-Type"] == "application/json"

    log = deliveries(site, owner, hook)
    assert [d["status"] for d in log] == ["delivered"] * 4 and [d["last_status_code"] for d in log] == [
        200
    ] * 4
    assert sorted(str(d["id"]) for d in log) == sorted(
        d.headers["OpenXiv-Delivery"] for d in receiver.received
    )
    assert [d["event_id"] for d in log] == sorted((b["id"] for b in bodies), reverse=True)  # newest first
    assert deliveries(site, owner, hook, status="failed") == []
    assert len(deliveries(site, owner, hook, limit=2)) == 2
    assert len(deliveries(site, owner, hook, before=log[1]["id"])) == 2


def test_a_captured_delivery_cannot_be_replayed_later() -> None:
    body = b'{"id":1}'
    header = signing.signature_header("whsec_s", body, timestamp=1_000_000)
    assert signing.verify("whsec_s", header, body, now=1_000_100)
    assert not signing.verify("whsec_s", header, body, now=1_000_000 + 301)
    assert not signing.verify("whsec_s", "t=soon,v1=abc", body)
    assert not signing.verify("whsec_s", "", body)


def test_filters_ownership_and_visibility(site: Site, receiver: Receiver) -> None:
    owner, other = site.tokens["owner"], site.tokens["other"]
    versions = Receiver().start()
    watcher = Receiver().start()
    try:
        screened_only = create_hook(site, owner, versions.url, event_types=["version.*"])
        strangers_own = create_hook(site, other, receiver.url)  # mine_only: the other's items only
        strangers_all = create_hook(site, other, watcher.url, mine_only=False)
        held = site.submit_held(owner)
        public = site.submit(owner)
        wait_until(lambda: len(versions.received) >= 2, "the owner's version events")
        wait_until(
            lambda: any(json.loads(d.body)["submission"] == public for d in watcher.received), "public"
        )

        assert sorted(json.loads(d.body)["type"] for d in versions.received) == [
            types.VERSION_HELD,
            types.VERSION_SCREENED,
        ]
        assert receiver.received == []
        assert deliveries(site, other, strangers_own) == []
        # Fan-out decides when it runs: before screening held the item it was public (as in the
        # listing); the hold and anything after it never reach a stranger's webhook.
        watched = [json.loads(d.body) for d in watcher.received]
        assert len([b for b in watched if b["submission"] == public]) == 4
        about_held = {(b["type"], b["payload"].get("status")) for b in watched if b["submission"] == held}
        assert about_held <= {(types.STATUS_CHANGED, "submitted"), (types.STATUS_CHANGED, "screening")}

        # Another account's webhook is not there for the owner (nor the log, nor the replay).
        assert (
            site.http.get(f"/api/v1/webhooks/{strangers_all['id']}", headers=auth(owner)).status_code == 404
        )
        path = f"/api/v1/webhooks/{strangers_all['id']}/deliveries"
        assert site.http.get(path, headers=auth(owner)).status_code == 404
        first = deliveries(site, other, strangers_all)[0]["id"]
        replay = f"{path}/{first}/replay"
        assert site.http.post(replay, headers=auth(owner)).status_code == 404
        assert (
            site.http.delete(f"/api/v1/webhooks/{strangers_all['id']}", headers=auth(owner)).status_code
            == 404
        )
        assert (
            site.http.get(f"/api/v1/webhooks/{screened_only['id']}", headers=auth(owner)).status_code == 200
        )
    finally:
        versions.stop()
        watcher.stop()


def test_agent_webhooks_belong_to_the_agent(site: Site, receiver: Receiver) -> None:
    owner = site.tokens["owner"]
    agent = site.http.post(
        "/api/v1/agents",
        headers=auth(owner),
        json={"name": "Scout", "model_identity": "m/1", "organisation": "Lab"},
    ).json()
    agent_key = site.http.post(
        "/api/v1/keys", headers=auth(owner), json={"scopes": ["read", "submit"], "agent_id": agent["id"]}
    ).json()["token"]
    human_hook = create_hook(site, owner, receiver.url)
    agent_hook = create_hook(site, agent_key, receiver.url)
    assert agent_hook["agent_id"] == agent["id"] and human_hook["agent_id"] is None
    assert [h["id"] for h in site.http.get("/api/v1/webhooks", headers=auth(agent_key)).json()] == [
        agent_hook["id"]
    ]
    assert {h["id"] for h in site.http.get("/api/v1/webhooks", headers=auth(owner)).json()} == {
        human_hook["id"],
        agent_hook["id"],
    }
    assert (
        site.http.delete(f"/api/v1/webhooks/{human_hook['id']}", headers=auth(agent_key)).status_code == 404
    )
    refused = site.http.post(
        "/api/v1/webhooks", headers=auth(agent_key), json={"url": receiver.url, "agent_id": agent["id"] + 1}
    )
    assert refused.status_code == 403
    gone = site.http.delete(f"/api/v1/webhooks/{agent_hook['id']}", headers=auth(agent_key))
    assert gone.status_code == 200 and gone.json()["id"] == agent_hook["id"]
    assert site.http.get(f"/api/v1/webhooks/{agent_hook['id']}", headers=auth(owner)).status_code == 404

    read_only = site.http.post("/api/v1/keys", headers=auth(owner), json={"scopes": ["submit"]}).json()[
        "token"
    ]
    assert (
        site.http.post("/api/v1/webhooks", headers=auth(read_only), json={"url": receiver.url}).status_code
        == 403
    )
    assert site.http.post("/api/v1/webhooks", json={"url": receiver.url}).status_code == 401
    bad_type = site.http.post(
        "/api/v1/webhooks", headers=auth(owner), json={"url": receiver.url, "event_types": ["x"]}
    )
    assert bad_type.status_code == 422


# ------------------------------------------------------------------------------ retries


@pytest.fixture
def queued_site(tmp_path: Path) -> Iterator[Site]:
    """A site whose jobs run on a real Huey queue (a SQLite file) with a consumer thread; retries
    wait 0.2 s (the consumer's scheduler looks once a second) and an attempt gives up after 1 s."""
    events = {"webhook_retry_schedule_s": [0.2, 0.2, 0.2], "webhook_timeout_s": 1.0}
    queue = {"url": f"sqlite:///{tmp_path / 'queue.db'}"}
    for site in serve_site(tmp_path / "site", events=events, queue=queue):
        huey_queue = site.runtime.make_queue(
            worker.make_huey(site.runtime.settings.queue, name=f"t-{uuid.uuid4().hex}")
        )
        site.runtime.__dict__["queue"] = huey_queue
        consumer = huey_queue.consumer(2, main_thread=False)
        thread = threading.Thread(target=consumer.run, daemon=True)
        thread.start()
        try:
            yield site
        finally:
            consumer.stop(graceful=True)
            thread.join(timeout=30)


def test_retries_through_a_receiver_that_is_down_slow_then_up(queued_site: Site) -> None:
    site, owner = queued_site, queued_site.tokens["owner"]
    receiver = Receiver()  # nothing listens on its port yet: the receiver is down
    hook = create_hook(site, owner, receiver.url, event_types=[types.VERSION_SCREENED])
    site.submit(owner)

    first = wait_until(lambda: [d for d in deliveries(site, owner, hook) if d["attempts"] >= 1], "attempt 1")[
        0
    ]
    assert first["status"] == "pending" and first["last_status_code"] is None
    assert "Connect" in first["last_error"] and first["next_attempt_at"] is not None

    receiver.behaviour = lambda n: ("sleep", 2.5) if n == 1 else 200  # slow once, then answers
    receiver.start()
    try:
        done = wait_until(
            lambda: [d for d in deliveries(site, owner, hook) if d["status"] == "delivered"], "delivery"
        )[0]
        assert done["attempts"] == 3 and done["last_status_code"] == 200 and done["last_error"] is None
        assert len(receiver.received) == 2  # the slow answer came too late and was retried
        assert len({d.headers["OpenXiv-Delivery"] for d in receiver.received}) == 1
        assert all(receiver_verifies(hook["secret"], d.headers, d.body) for d in receiver.received)
    finally:
        receiver.stop()


def test_a_receiver_that_stays_down_leaves_a_failed_delivery_to_replay(queued_site: Site) -> None:
    site, owner = queued_site, queued_site.tokens["owner"]
    receiver = Receiver()
    hook = create_hook(site, owner, receiver.url, event_types=[types.VERSION_SCREENED])
    site.submit(owner)

    failed = wait_until(
        lambda: [d for d in deliveries(site, owner, hook) if d["status"] == "failed"],
        "the retries to run out",
    )[0]
    assert failed["attempts"] == 4 and "Connect" in failed["last_error"] and failed["next_attempt_at"] is None
    replay_path = f"/api/v1/webhooks/{hook['id']}/deliveries/{failed['id']}/replay"

    receiver.behaviour = lambda _n: 200
    receiver.start()
    try:
        replayed = site.http.post(replay_path, headers=auth(owner))
        assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
        done = wait_until(
            lambda: [d for d in deliveries(site, owner, hook) if d["status"] == "delivered"], "the replay"
        )[0]
        assert done["id"] == failed["id"] and done["attempts"] == 1
        assert len(receiver.received) == 1 and receiver_verifies(
            hook["secret"], receiver.received[0].headers, receiver.received[0].body
        )
        assert json.loads(receiver.received[0].body)["type"] == types.VERSION_SCREENED
        # A delivered one can be sent again too; a pending one cannot be doubled.
        assert site.http.post(replay_path, headers=auth(owner)).status_code == 202
        again = site.http.post(replay_path, headers=auth(owner))
        assert again.status_code in (202, 409)
        wait_until(lambda: len(receiver.received) >= 2, "the second replay")
    finally:
        receiver.stop()


# ------------------------------------------------------------------------------ SSRF


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",  # plain http
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[::1]/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@example.org/hook",
        "ftp://example.org/hook",
    ],
)
def test_production_refuses_urls_into_the_servers_own_network(url: str) -> None:
    expected = UnsafeUrl if "user:pw" not in url and "ftp" not in url else InvalidInput
    with pytest.raises(expected):
        check_url(url, allow_private=False)


def test_production_refuses_them_through_the_api_and_at_delivery(tmp_path: Path, receiver: Receiver) -> None:
    settings = site_settings(tmp_path, mode="production")
    Base.metadata.create_all(make_engine(settings.database_url))
    with TestClient(create_app(settings)) as client:
        token = register(client)["key"]["token"]
        for url in (receiver.url, receiver.url.replace("http://", "https://")):
            refused = client.post("/api/v1/webhooks", headers=auth(token), json={"url": url})
            assert refused.status_code == 422, refused.text
            assert refused.json()["field"] == "url"
    # A name that resolved to a public address when created but points inside now is refused
    # at delivery time too: nothing reaches the receiver.
    status, error = _post(receiver.url.replace("http://", "https://"), b"{}", {}, 1.0, False, None)
    assert status is None and error is not None and error.startswith("refused:")
    assert receiver.received == []
    # dev mode allows loopback receivers (the tests' own)
    assert check_url(receiver.url, allow_private=True) == receiver.url


def test_a_delivery_whose_queued_attempt_was_lost_can_be_replayed(site: Site, receiver: Receiver) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from openxiv.db import transaction
    from openxiv.models import WebhookDelivery
    from openxiv.models.base import utcnow

    owner = site.tokens["owner"]
    hook = create_hook(site, owner, receiver.url, event_types=[types.VERSION_SCREENED])
    site.submit(owner)
    delivery = wait_until(lambda: deliveries(site, owner, hook), "the delivery")[0]
    path = f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay"
    lost = {"status": "pending", "next_attempt_at": utcnow() - timedelta(minutes=5)}
    with transaction(site.runtime.write_sessions) as session:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery["id"]).values(**lost))
    assert site.http.post(path, headers=auth(owner)).status_code == 409  # its retry may still come
    lost["next_attempt_at"] = utcnow() - timedelta(minutes=11)
    with transaction(site.runtime.write_sessions) as session:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery["id"]).values(**lost))
    assert site.http.post(path, headers=auth(owner)).status_code == 202
    wait_until(lambda: len(receiver.received) == 2, "the replay")
    assert deliveries(site, owner, hook)[0]["status"] == "delivered"
