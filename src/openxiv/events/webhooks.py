"""Webhooks: an account's (or an agent's) endpoints, their delivery log, and replays.

Who may do what: every action needs the `read` scope (a webhook only ever carries what its owner
can read). A human's credentials see the account's webhooks, an agent's key only that agent's,
as with API keys. A webhook hears events about its owner's submissions (`mine_only`, the default)
or, with `mine_only = false`, also about every item its owner may see (public items; held items
only when they are the owner's own).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openxiv.accounts.authz import Principal
from openxiv.accounts.service import get_owned_agent
from openxiv.db import after_commit
from openxiv.errors import Conflict, Forbidden, InvalidInput, NotFound
from openxiv.events.documents import TypeFilter
from openxiv.events.ports import JobQueue
from openxiv.events.signing import new_secret
from openxiv.models import Webhook, WebhookDelivery
from openxiv.models.base import utcnow
from openxiv.validation import clean_text

DELIVER = "webhook_deliver"
MAX_URL_LENGTH = 2000
DELIVERY_STATUSES = ("pending", "delivered", "failed")
# A pending delivery this long past its due time lost its queued job (a worker killed mid-attempt).
STUCK_AFTER = timedelta(minutes=10)


class UnsafeUrl(InvalidInput):
    """The URL points somewhere a server must not send requests to (SSRF)."""


@dataclass(frozen=True)
class CreatedWebhook:
    webhook: Webhook
    secret: str  # shown once, in the answer that created the webhook


def authorize_webhooks(principal: Principal) -> None:
    principal.require("read")


def visible_webhook(principal: Principal, webhook: Webhook) -> bool:
    if webhook.owner_id != principal.account_id:
        return False
    return principal.agent_id is None or principal.agent_id == webhook.agent_id


def check_url(url: str, *, allow_private: bool) -> str:
    """An http(s) URL with a host; outside dev/demo mode only https to public addresses."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"the URL is longer than {MAX_URL_LENGTH} characters", field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the URL must be http(s)://host/...", field="url")
    if parts.username or parts.password:
        raise InvalidInput("the URL must not carry credentials; the signature authenticates us", field="url")
    try:
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError as error:
        raise InvalidInput(f"the URL's port is not valid: {error}", field="url") from None
    if allow_private:
        return url
    if parts.scheme != "https":
        raise UnsafeUrl("webhooks need an https URL (plain http is allowed in dev mode only)", field="url")
    check_public_host(parts.hostname, parts.port or 443)
    return url


def check_public_host(host: str, port: int) -> None:
    """Refuse hosts that are, or resolve to, loopback, private, link-local or reserved addresses,
    so that a webhook cannot make the server call its own network."""
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl(f"the host {host!r} does not resolve: {error}", field="url") from None
    for address in resolved:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise UnsafeUrl(
                f"the host {host!r} resolves to {ip}, which is not a public address; webhooks may "
                "only call public addresses (private ones are allowed in dev mode)",
                field="url",
            )


def create_webhook(
    session: Session,
    principal: Principal,
    *,
    url: str,
    event_types: Sequence[str],
    mine_only: bool,
    description: str,
    agent_id: int | None,
    allow_private: bool,
    limit: int,
) -> CreatedWebhook:
    authorize_webhooks(principal)
    if principal.agent_id is not None and agent_id not in (None, principal.agent_id):
        raise Forbidden("an agent's key can only create webhooks for that same agent", field="agent_id")
    agent_id = principal.agent_id if principal.agent_id is not None else agent_id
    if agent_id is not None:
        get_owned_agent(session, principal.account_id, agent_id)
    types = TypeFilter.parse(event_types, field="event_types")
    description = clean_text(description, "description", max_length=500, required=False)
    url = check_url(url, allow_private=allow_private)
    count = session.scalar(
        select(func.count()).select_from(Webhook).where(Webhook.owner_id == principal.account_id)
    )
    if (count or 0) >= limit:
        raise Conflict(f"an account may have at most {limit} webhooks; delete one first")
    secret = new_secret()
    webhook = Webhook(
        owner_id=principal.account_id,
        agent_id=agent_id,
        url=url,
        secret=secret,
        event_types=types.as_list(),
        mine_only=mine_only,
        description=description,
        active=True,
        created_at=utcnow(),
    )
    session.add(webhook)
    session.flush()
    return CreatedWebhook(webhook, secret)


def list_webhooks(session: Session, principal: Principal) -> list[Webhook]:
    authorize_webhooks(principal)
    hooks = session.scalars(
        select(Webhook).where(Webhook.owner_id == principal.account_id).order_by(Webhook.id)
    ).all()
    return [hook for hook in hooks if visible_webhook(principal, hook)]


def get_webhook(
    session: Session, principal: Principal, webhook_id: int, *, for_update: bool = False
) -> Webhook:
    authorize_webhooks(principal)
    webhook = session.get(Webhook, webhook_id, with_for_update=for_update)
    if webhook is None or not visible_webhook(principal, webhook):
        raise NotFound(f"you have no webhook {webhook_id}")
    return webhook


def delete_webhook(session: Session, principal: Principal, webhook_id: int) -> Webhook:
    """Deletes the webhook and its delivery log; queued deliveries find nothing and stop."""
    webhook = get_webhook(session, principal, webhook_id, for_update=True)
    for delivery in session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)):
        session.delete(delivery)
    session.delete(webhook)
    session.flush()
    return webhook


def list_deliveries(
    session: Session,
    principal: Principal,
    webhook_id: int,
    *,
    status: str | None,
    before: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """Newest first; `before` (a delivery id) pages back."""
    webhook = get_webhook(session, principal, webhook_id)
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(DELIVERY_STATUSES)}", field="status")
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200", field="limit")
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def replay_delivery(
    session: Session, principal: Principal, webhook_id: int, delivery_id: int, queue: JobQueue | None
) -> WebhookDelivery:
    """Send a delivered or failed delivery again (or one whose queued attempt was lost), with a
    fresh retry schedule."""
    webhook = get_webhook(session, principal, webhook_id)
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound(f"webhook {webhook_id} has no delivery {delivery_id}")
    now = utcnow()
    stuck = delivery.next_attempt_at is not None and delivery.next_attempt_at < now - STUCK_AFTER
    if delivery.status == "pending" and not stuck:
        raise Conflict(
            f"delivery {delivery_id} is still pending (next attempt {delivery.next_attempt_at}); "
            "replay it once it is delivered or failed"
        )
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.updated_at = now
    if queue is not None:
        after_commit(session, lambda: queue.enqueue_job(DELIVER, {"delivery_id": delivery_id, "attempt": 0}))
    return delivery
