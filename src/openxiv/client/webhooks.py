"""Checking that a webhook delivery came from the OpenXiv server (docs/agents.md, "Webhooks").

A delivery is a POST of the event document, signed with the secret the webhook was created with:

    OpenXiv-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

    from openxiv.client import webhooks

    def receive(request):                        # any web framework
        body = request.body                      # the raw bytes, before any JSON parsing
        if not webhooks.verify(SECRET, request.headers, body):
            return 400
        event = webhooks.parse(body)             # an openxiv.client.models.Event
        ...                                      # OpenXiv-Delivery repeats on retries: drop seen ones

Written for receivers, so it imports nothing of the server; tests/client checks it against the
server's own signing of a real delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from openxiv.client.errors import OpenXivError
from openxiv.client.models import Event

SIGNATURE_HEADER = "OpenXiv-Signature"
EVENT_HEADER = "OpenXiv-Event"
DELIVERY_HEADER = "OpenXiv-Delivery"
DEFAULT_TOLERANCE_S = 300


class InvalidSignature(OpenXivError):
    """The delivery's signature is missing, malformed, stale or made with another secret."""


def signature(headers: Mapping[str, str] | str) -> str | None:
    """The `OpenXiv-Signature` value from request headers (any letter case), or the value itself."""
    if isinstance(headers, str):
        return headers
    wanted = SIGNATURE_HEADER.lower()
    for name, value in headers.items():
        if name.lower() == wanted:
            return value
    return None


def verify(
    secret: str,
    headers: Mapping[str, str] | str,
    body: bytes,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """Whether `body` (the raw bytes received) was signed with `secret` less than `tolerance_s`
    seconds from now. `headers` are the request's headers, or the signature header's value."""
    value = signature(headers)
    if not value:
        return False
    timestamps: list[str] = []
    digests: list[str] = []
    for part in value.split(","):
        key, _, given = part.strip().partition("=")
        if key == "t":
            timestamps.append(given)
        elif key == "v1":
            digests.append(given)
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not digests:
        return False
    timestamp = int(timestamps[0])
    # A captured delivery replayed later is refused, whichever way the clocks disagree.
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    signed = timestamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    # Several v1 values may come while a secret is being rotated: any one that matches will do.
    return any(hmac.compare_digest(expected, given) for given in digests)


def parse(body: bytes) -> Event:
    """The event a delivery carries (parse only what `verify` accepted)."""
    return Event.model_validate_json(body)


def verified_event(
    secret: str, headers: Mapping[str, str] | str, body: bytes, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> Event:
    """`verify` then `parse`; raises InvalidSignature when the delivery is not genuine."""
    if not verify(secret, headers, body, tolerance_s):
        raise InvalidSignature("the webhook delivery's OpenXiv-Signature does not verify")
    return parse(body)
