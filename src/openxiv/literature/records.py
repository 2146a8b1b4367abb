"""The normalised shape every importer and connector produces, and the rules that clean it.

Parsers never touch the database: they yield `RecordIn` (something that may become a record) or
`Rejection` (an item of the source that cannot, with the reason), and the importer decides.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_TITLE_CHARS = 1000
MAX_ABSTRACT_CHARS = 20_000
MAX_AUTHORS = 500

_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"(?<![\w.-])([a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.IGNORECASE)
_NOT_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")
_NOT_ALNUM = re.compile(r"[\W_]+")
# Control characters become spaces (str.translate is much faster than a regex here).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # the ones str.split() does not treat as space
_CONTROL_TO_SPACE = {code: " " for code in [*range(0x00, 0x20), 0x7F]}


@dataclass
class RecordIn:
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    s2_id: str | None = None
    openalex_id: str | None = None
    openxiv_id: str | None = None
    url: str | None = None
    source: str = "jsonl"
    extra: dict[str, Any] = field(default_factory=dict)
    fetched_at: datetime | None = None
    position: str = ""  # where in its source the record came from; not stored

    @functools.cached_property
    def title_key(self) -> str:
        return title_key(self.title)

    def ids(self) -> dict[str, str]:
        pairs = {
            "doi": self.doi,
            "arxiv": self.arxiv_id,
            "s2": self.s2_id,
            "openalex": self.openalex_id,
            "openxiv": self.openxiv_id,
        }
        return {name: value for name, value in pairs.items() if value}


@dataclass(frozen=True)
class Rejection:
    position: str  # "line 12", "entry 3", "record oai:arXiv.org:1234.5678"
    reason: str


def clean_text(value: object, limit: int) -> str:
    """One line of readable text: no control characters, single spaces, at most `limit` chars."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if _CONTROL.search(text):
        text = text.translate(_CONTROL_TO_SPACE)
    return " ".join(text.split())[:limit]


def fold(text: str) -> str:
    """Lower-case letters and digits only, accents removed: how titles are compared."""
    if text.isascii():
        return _NOT_ALNUM_ASCII.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _NOT_ALNUM.sub("", decomposed)  # combining accents are not alphanumeric: they go too


def title_key(title: str) -> str:
    """Titles folded so that case, accents, punctuation and spacing do not make two papers differ."""
    return fold(title)[:200]


def normalise_arxiv_id(value: str | None) -> str | None:
    """`arXiv:1706.03762v5`, `https://arxiv.org/abs/1706.03762` and `1706.03762` are one id."""
    if not value:
        return None
    text = str(value).strip()
    match = _ARXIV_NEW.search(text)
    if match:
        return match.group(1)
    match = _ARXIV_OLD.search(text)
    if match:
        return match.group(1).lower()
    return None


def normalise_doi(value: str | None) -> str | None:
    if not value:
        return None
    match = _DOI.search(str(value).strip())
    if not match:
        return None
    return match.group(1).rstrip(".,;").lower()


def find_arxiv_ids(text: str) -> set[str]:
    return {m.group(1) for m in _ARXIV_NEW.finditer(text)}


def find_dois(text: str) -> set[str]:
    return {m.group(1).rstrip(".,;)").lower() for m in _DOI.finditer(text)}


def parse_year(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        year = value
    else:
        match = re.search(r"(1[5-9]\d\d|2[01]\d\d)", str(value))
        if not match:
            return None
        year = int(match.group(1))
    return year if 1500 <= year <= 2199 else None


def authors_list(value: object) -> list[str]:
    """Authors from a list of names, a list of `{"name": ...}` objects, or one "A and B" string."""
    if value is None:
        return []
    names: list[str] = []
    if isinstance(value, str):
        parts = re.split(r"\s+and\s+|;", value)
        names = [part for part in parts]
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                names.append(str(item.get("name") or item.get("display_name") or ""))
            else:
                names.append(str(item))
    else:
        raise ValueError("authors must be a list or a string")
    cleaned = [clean_text(name, 300) for name in names[:MAX_AUTHORS]]
    return [name for name in cleaned if name]


def finish(record: RecordIn) -> RecordIn | str:
    """Clean a candidate in place; return it, or the reason it cannot be a record."""
    record.title = clean_text(record.title, MAX_TITLE_CHARS)
    record.__dict__.pop("title_key", None)  # the cached key was of the uncleaned title
    record.abstract = clean_text(record.abstract, MAX_ABSTRACT_CHARS)
    if not record.title:
        return "missing title"
    if not record.title_key:
        return "title has no letters or digits"
    record.venue = clean_text(record.venue, 300) or None
    record.doi = normalise_doi(record.doi)
    record.arxiv_id = normalise_arxiv_id(record.arxiv_id)
    record.s2_id = clean_text(record.s2_id, 64) or None
    record.openalex_id = clean_text(record.openalex_id, 40) or None
    if record.url:
        record.url = clean_text(record.url, 2000) or None
    return record
