"""Background jobs that deliver events to webhooks: a fan-out per event, one job per delivery.

The fan-out writes a delivery row for every webhook that wants the event (one per webhook and
event, so a job that runs twice adds nothing), and queues its delivery once committed. A delivery
signs the event's document, POSTs it outside any transaction, and records the answer: delivered
on a 2xx, else a retry after the next delay of the schedule, and `failed` (with the last status
code or error, replayable) once the schedule is spent. Delivery is at least once: receivers
recognise a repeat by its `OpenXiv-Delivery` header.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

import openxiv
from openxiv.accounts.authz import Principal
from openxiv.db import after_commit, transaction
from openxiv.events.documents import TypeFilter, encode, event_document, visible
from openxiv.events.ports import DelayedJobQueue
from openxiv.events.settings import EventSettings
from openxiv.events.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature_header
from openxiv.events.webhooks import DELIVER, UnsafeUrl, check_public_host
from openxiv.models import Account, Agent, Event, Submission, Webhook, WebhookDelivery
from openxiv.models.base import utcnow

FAN_OUT = "webhook_fan_out"
logger = logging.getLogger("openxiv.events")
MAX_ERROR_CHARS = 500
RESPONSE_EXCERPT_BYTES = 300


def fan_out(write_sessions: sessionmaker[Session], queue: DelayedJobQueue, payload: dict[str, Any]) -> int:
    """Create the deliveries of one event; returns how many were new."""
    with transaction(write_sessions) as session:
        event = session.get(Event, int(payload["event_id"]))
        if event is None:
            return 0
        submission = session.get(Submission, event.submission_id) if event.submission_id else None
        candidates = session.scalars(
            select(Webhook)
            .join(Account, Account.id == Webhook.owner_id)
            .outerjoin(Agent, Agent.id == Webhook.agent_id)
            .where(
                Webhook.active.is_(True),
                Account.disabled_at.is_(None),
                Agent.disabled_at.is_(None),
                or_(Webhook.mine_only.is_(False), Webhook.owner_id == event.owner_id),
            )
            .order_by(Webhook.id)
        ).all()
        done = set(
            session.scalars(select(WebhookDelivery.webhook_id).where(WebhookDelivery.event_id == event.id))
        )
        now = utcnow()
        created: list[WebhookDelivery] = []
        for webhook in candidates:
            if webhook.id in done or not _wants(webhook, event, submission):
                continue
            delivery = WebhookDelivery(
                webhook_id=webhook.id,
                event_id=event.id,
                event_type=event.type,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(delivery)
            created.append(delivery)
        session.flush()
        ids = [delivery.id for delivery in created]

        def enqueue() -> None:
            for delivery_id in ids:
                queue.enqueue_job(DELIVER, {"delivery_id": delivery_id, "attempt": 0})

        after_commit(session, enqueue)
        return len(ids)


def _wants(webhook: Webhook, event: Event, submission: Submission | None) -> bool:
    if not TypeFilter.parse_stored(webhook.event_types).matches(event.type):
        return False
    if webhook.mine_only:
        return event.owner_id == webhook.owner_id
    # What the owner's own read-only credential would see on the stream.
    owner = Principal(
        account_id=webhook.owner_id, roles=frozenset(), scopes=frozenset({"read"}), agent_id=webhook.agent_id
    )
    return visible(submission, owner)


def deliver(
    write_sessions: sessionmaker[Session],
    queue: DelayedJobQueue,
    settings: EventSettings,
    payload: dict[str, Any],
    *,
    allow_private: bool,
    client: httpx.Client | None = None,
) -> str:
    """One attempt of one delivery; returns its outcome (delivered, retrying, failed, skipped)."""
    delivery_id = int(payload["delivery_id"])
    attempt = int(payload.get("attempt", 0))
    with transaction(write_sessions) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending" or delivery.attempts != attempt:
            return "skipped"  # deleted, already settled, or a newer attempt (a replay) took over
        webhook = session.get(Webhook, delivery.webhook_id)
        event = session.get(Event, delivery.event_id)
        if webhook is None or event is None:
            return "skipped"
        submission = session.get(Submission, event.submission_id) if event.submission_id else None
        body = encode(event_document(event, submission.identifier if submission else None)).encode()
        url, secret, event_type = webhook.url, webhook.secret, event.type

    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"OpenXiv-Webhooks/{openxiv.__version__}",
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: str(delivery_id),
        SIGNATURE_HEADER: signature_header(secret, body),
    }
    status_code, error = _post(url, body, headers, settings.webhook_timeout_s, allow_private, client)

    with transaction(write_sessions) as session:
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.attempts != attempt:
            return "skipped"
        now = utcnow()
        delivery.attempts = attempt + 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        delivery.updated_at = now
        if error is None:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            return "delivered"
        schedule: Sequence[float] = settings.webhook_retry_schedule_s
        if attempt < len(schedule):
            delay = schedule[attempt]
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            retry = {"delivery_id": delivery_id, "attempt": attempt + 1}
            after_commit(session, lambda: queue.enqueue_job_later(DELIVER, retry, delay))
            logger.info(
                "webhook delivery %s attempt %d failed (%s); retry in %.0f s",
                delivery_id,
                attempt + 1,
                error,
                delay,
            )
            return "retrying"
        delivery.status = "failed"
        delivery.next_attempt_at = None
        logger.warning("webhook delivery %s failed after %d attempts: %s", delivery_id, attempt + 1, error)
        return "failed"


def _post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
    allow_private: bool,
    client: httpx.Client | None,
) -> tuple[int | None, str | None]:
    """(status code, error): error is None on a 2xx. Redirects are not followed (a redirect to an
    internal address would get around the address check)."""
    if not allow_private:
        parts = urlsplit(url)
        try:
            # Checked again at each attempt: the name may resolve elsewhere since it was created.
            check_public_host(parts.hostname or "", parts.port or 443)
        except UnsafeUrl as refused:
            return None, f"refused: {refused.detail}"[:MAX_ERROR_CHARS]
    http = client or httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False)
    try:
        with http.stream("POST", url, content=body, headers=headers, timeout=timeout_s) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, None
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                    break
            text = excerpt[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace").strip()
            reason = f"HTTP {response.status_code}" + (f": {text}" if text else "")
            return response.status_code, reason[:MAX_ERROR_CHARS]
    except httpx.TimeoutException:
        return None, f"no answer within {timeout_s:g} s"
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    finally:
        if client is None:
            http.close()
