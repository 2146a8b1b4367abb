"""E-mail digests: each subscriber gets the items published in the categories it follows since its
last digest. Every digest is written to the outbox (a `digest_messages` row and an `.eml` file);
when SMTP is configured it is also sent, and the row says whether that worked."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from openxiv.discovery import repository
from openxiv.discovery.repository import EntryFilter
from openxiv.discovery.settings import DigestSettings, SmtpSettings
from openxiv.errors import InvalidInput
from openxiv.models import Account
from openxiv.models.discovery import DigestMessage, DigestSubscription, DiscoveryEntry
from openxiv.submissions.lifecycle import PUBLISHED

_CATEGORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,63}$")
Transport = Callable[[EmailMessage, SmtpSettings], None]


def subscribe(session: Session, account_id: int, categories: list[str]) -> DigestSubscription:
    cleaned = sorted({c.strip() for c in categories})
    bad = [c for c in cleaned if not _CATEGORY.match(c)]
    if bad or not cleaned:
        raise InvalidInput("categories are names such as cs.LG (letters, digits, . - _)", field="categories")
    subscription = session.get(DigestSubscription, account_id)
    if subscription is None:
        subscription = DigestSubscription(
            account_id=account_id, categories=cleaned, created_at=datetime.now(UTC)
        )
        session.add(subscription)
    else:
        subscription.categories = cleaned
    session.flush()
    return subscription


def subscription_of(session: Session, account_id: int) -> DigestSubscription | None:
    return session.get(DigestSubscription, account_id)


def unsubscribe(session: Session, account_id: int) -> None:
    subscription = session.get(DigestSubscription, account_id)
    if subscription is not None:
        session.delete(subscription)
        session.flush()


@dataclass(frozen=True)
class DigestSite:
    base_url: str
    name: str


def new_items(
    session: Session, subscription: DigestSubscription, *, until: datetime, limit: int
) -> list[DiscoveryEntry]:
    """Published in a followed category after the last digest (or the subscription) and before `until`."""
    since = subscription.last_sent_at or subscription.created_at
    found: dict[int, DiscoveryEntry] = {}
    for category in subscription.categories:
        filters = EntryFilter(
            statuses=sorted(PUBLISHED), category=category, published_from=since, published_to=until
        )
        for entry in repository.newest(session, filters, by="published_at", limit=limit):
            found[entry.submission_id] = entry
    ordered = sorted(found.values(), key=lambda e: (e.published_at or until, e.submission_id), reverse=True)
    return ordered[:limit]


def compose(
    site: DigestSite, settings: DigestSettings, recipient: str, entries: list[DiscoveryEntry], now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient
    message["Subject"] = (
        f"{site.name}: {len(entries)} new item{'s' if len(entries) != 1 else ''} in your categories"
    )
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="openxiv.digest")
    lines = [f"New on {site.name} since your last digest:", ""]
    for entry in entries:
        authors = ", ".join(str(a.get("name", "")) for a in entry.authors)
        lines += [
            f"* {entry.title}",
            f"  {authors}" if authors else "  (no authors listed)",
            f"  {', '.join(entry.categories)} - {site.base_url}/abs/{entry.identifier}",
            "",
        ]
    lines.append(
        "You receive this because you follow these categories; change them at /api/v1/digests/subscription."
    )
    # Plain text only: nothing a title holds is ever interpreted as markup by a mail reader.
    message.set_content("\n".join(lines))
    return message


def smtp_transport(message: EmailMessage, smtp: SmtpSettings) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


def send_digests(
    session: Session,
    site: DigestSite,
    settings: DigestSettings,
    *,
    now: datetime | None = None,
    transport: Transport | None = None,
) -> list[DigestMessage]:
    """Write (and, with SMTP configured, send) one digest per subscriber with something new."""
    now = now or datetime.now(UTC)
    transport = transport or (smtp_transport if settings.smtp.host else None)
    outbox = settings.outbox_dir
    outbox.mkdir(parents=True, exist_ok=True)
    written: list[DigestMessage] = []
    subscriptions = session.scalars(select(DigestSubscription).order_by(DigestSubscription.account_id))
    for subscription in list(subscriptions):
        account = session.get(Account, subscription.account_id)
        if account is None or account.disabled_at is not None:
            continue
        entries = new_items(session, subscription, until=now, limit=settings.max_items)
        if not entries:
            continue
        message = compose(site, settings, account.email, entries, now)
        row = DigestMessage(
            account_id=account.id,
            recipient=account.email,
            subject=str(message["Subject"]),
            item_count=len(entries),
            created_at=now,
        )
        session.add(row)
        session.flush()
        path = outbox / f"{now:%Y%m%dT%H%M%SZ}-{row.id}.eml"
        path.write_bytes(bytes(message))
        row.eml_path = str(path)
        if transport is not None:
            try:
                transport(message, settings.smtp)
                row.sent_at = datetime.now(UTC)
            except (OSError, smtplib.SMTPException) as error:
                row.error = f"{error.__class__.__name__}: {error}"[:2000]
        subscription.last_sent_at = now
        written.append(row)
    session.flush()
    return written
