"""Webhook signatures: HMAC-SHA256 over `<unix timestamp>.<body>` with the webhook's secret.

A delivery carries `OpenXiv-Signature: t=<unix seconds>,v1=<hex digest>`. The receiver recomputes
the digest over the timestamp, a dot and the raw body it received, compares in constant time, and
refuses timestamps older than a few minutes (a captured request cannot be replayed later).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "OpenXiv-Signature"
EVENT_HEADER = "OpenXiv-Event"
DELIVERY_HEADER = "OpenXiv-Delivery"
DEFAULT_TOLERANCE_S = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={digest(secret, moment, body)}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None
) -> bool:
    """Whether `header` signs `body` with `secret` within `tolerance_s` of now."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
