"""Text for XML documents: XML 1.0 forbids most control characters even when escaped, so a title
holding one would make the whole feed or OAI response unparseable; they are dropped."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


def utc_z(value: datetime) -> str:
    """YYYY-MM-DDThh:mm:ssZ (OAI-PMH's and Atom's second granularity)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
