"""Checks on free text that users and agents send: lengths, control and invisible characters.

Invisible characters in metadata are refused rather than silently stripped: they are a known way
to smuggle instructions to LLM reviewers, and the author should see what was wrong.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import Field

from openxiv.errors import InvalidInput

# Row ids are 32-bit on PostgreSQL; anything larger cannot exist and is refused up front.
MAX_DB_ID = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]

# Zero-width, bidi controls, word joiners, BOM, tag characters, interlinear annotation marks.
_INVISIBLE = {
    0x200B,
    0x200C,
    0x200D,
    0x200E,
    0x200F,
    0x202A,
    0x202B,
    0x202C,
    0x202D,
    0x202E,
    0x2060,
    0x2061,
    0x2062,
    0x2063,
    0x2064,
    0x2066,
    0x2067,
    0x2068,
    0x2069,
    0xFEFF,
    0x00AD,
    0x180E,
    0xFFF9,
    0xFFFA,
    0xFFFB,
}


def _is_forbidden(ch: str, *, multiline: bool) -> str | None:
    code = ord(ch)
    if multiline and ch in "\n\t":
        return None
    if ch == "\r" and multiline:
        return None
    if code in _INVISIBLE or 0xE0000 <= code <= 0xE007F:
        return "an invisible formatting character"
    category = unicodedata.category(ch)
    if category == "Cc":
        return "a control character"
    if category in ("Cs", "Co", "Cn") and not (0xE000 <= code <= 0xF8FF):
        return "an unassigned or surrogate code point"
    return None


def clean_text(
    value: str, field: str, *, max_length: int, multiline: bool = False, required: bool = True
) -> str:
    """Normalise to NFC, trim, and refuse control/invisible characters and over-long values."""
    value = unicodedata.normalize("NFC", value).strip()
    if multiline:
        value = value.replace("\r\n", "\n")
    if required and not value:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is {len(value)} characters long; the limit is {max_length}", field=field)
    for position, ch in enumerate(value):
        problem = _is_forbidden(ch, multiline=multiline)
        if problem:
            raise InvalidInput(
                f"{field} contains {problem} (U+{ord(ch):04X}) at position {position}", field=field
            )
    return value


def orcid_is_valid(orcid: str) -> bool:
    """ISO 7064 MOD 11-2 check digit, as ORCID specifies, on the form 0000-0000-0000-000X."""
    parts = orcid.split("-")
    if len(parts) != 4 or any(len(p) != 4 for p in parts):
        return False
    digits = "".join(parts)
    if not digits[:-1].isdigit() or not (digits[-1].isdigit() or digits[-1] == "X"):
        return False
    total = 0
    for d in digits[:-1]:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    return digits[-1] == expected


def normalise_orcid(value: str) -> str:
    value = value.strip()
    for prefix in ("https://orcid.org/", "http://orcid.org/", "orcid.org/"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    value = value.upper()
    if not orcid_is_valid(value):
        raise InvalidInput(
            f"{value!r} is not a valid ORCID iD (form 0000-0000-0000-000X, checksum)", field="orcid"
        )
    return value
