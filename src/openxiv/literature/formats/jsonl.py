"""Our own JSON Lines format: one object per line; only `title` and `abstract` are required.

Optional fields: authors (list of names or "A and B"), year, venue, doi, arxiv_id (or arxiv),
s2_id, openalex_id, url, summary, and `ids` ({"doi": ..., "arxiv": ..., "s2": ...}) so that the
output of `openxiv literature search --json` can be imported back (its `passage` then stands in
for the abstract).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from openxiv.literature.formats.decode import decode
from openxiv.literature.records import RecordIn, Rejection, authors_list, parse_year

_KNOWN = {
    "title", "abstract", "authors", "year", "venue", "doi", "arxiv_id", "arxiv", "s2_id",
    "openalex_id", "url", "ids", "source", "score", "passage", "record_id",
}  # fmt: skip


def parse_jsonl(lines: Iterable[bytes], source: str = "jsonl") -> Iterator[RecordIn | Rejection]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        position = f"line {number}"
        text, note = decode(raw)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            yield Rejection(position, f"not valid JSON ({error.msg} at column {error.colno})")
            continue
        if not isinstance(data, dict):
            yield Rejection(position, f"expected a JSON object, got {type(data).__name__}")
            continue
        try:
            record = record_from_object(data, source)
        except ValueError as error:
            yield Rejection(position, str(error))
            continue
        if note:
            record.extra["import_note"] = note
        record.position = position
        yield record


def _text_field(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ValueError(f"field '{name}' must be text, got {type(value).__name__}")
    return str(value)


def record_from_object(data: dict[str, Any], source: str) -> RecordIn:
    title = data.get("title")
    # Search output (`--json`) carries the matching passage instead of the abstract.
    abstract = data.get("abstract") or data.get("passage")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("missing required field 'title'")
    if not isinstance(abstract, str) or not abstract.strip():
        raise ValueError("missing required field 'abstract'")
    ids = data.get("ids") or {}
    if not isinstance(ids, dict):
        raise ValueError("field 'ids' must be an object")
    extra: dict[str, Any] = {}
    if isinstance(data.get("summary"), str):
        extra["summary"] = data["summary"]
    for key, value in data.items():
        if key not in _KNOWN and key != "summary" and isinstance(value, str | int | float | bool):
            extra[key] = value
    return RecordIn(
        title=title,
        abstract=abstract,
        authors=authors_list(data.get("authors")),
        year=parse_year(data.get("year")),
        venue=_text_field(data, "venue"),
        doi=_text_field(data, "doi") or ids.get("doi"),
        arxiv_id=_text_field(data, "arxiv_id") or _text_field(data, "arxiv") or ids.get("arxiv"),
        s2_id=_text_field(data, "s2_id") or ids.get("s2"),
        openalex_id=_text_field(data, "openalex_id") or ids.get("openalex"),
        url=_text_field(data, "url"),
        source=source,
        extra=extra,
    )
