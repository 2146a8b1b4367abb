"""Bytes to text for sources that do not always say (or tell the truth about) their encoding."""

from __future__ import annotations


def decode(raw: bytes) -> tuple[str, str | None]:
    """UTF-8 when it is; otherwise Windows-1252 (a superset of Latin-1 for printable text).

    Returns the text and, when the fallback was needed, a note saying so: the record is kept
    rather than lost, and the report tells the user which items were re-decoded.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        note = f"not valid UTF-8 (byte {error.start}); read as Windows-1252"
    try:
        return raw.decode("cp1252"), note
    except UnicodeDecodeError:
        return raw.decode("latin-1"), note.replace("Windows-1252", "Latin-1")
