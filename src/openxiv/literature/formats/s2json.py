"""Semantic Scholar Graph API JSON: a paper, a list of papers (batch), a search or bulk-search page
(`{"data": [...]}`), recommendations (`{"recommendedPapers": [...]}`), citation/reference pages
(`{"data": [{"citedPaper": {...}}]}`), or JSON Lines of papers (the datasets API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from openxiv.literature.formats.decode import decode
from openxiv.literature.records import RecordIn, Rejection, authors_list, parse_year


def parse_s2(raw: bytes) -> Iterator[RecordIn | Rejection]:
    text, note = decode(raw)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        yield from _parse_lines(text, note)
        return
    for index, item in enumerate(papers_in(document), start=1):
        yield _one(item, f"paper {index}", note)


def papers_in(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ("data", "recommendedPapers", "papers"):
            if isinstance(document.get(key), list):
                return document[key]
        return [document]
    return [document]


def _parse_lines(text: str, note: str | None) -> Iterator[RecordIn | Rejection]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            yield Rejection(f"line {number}", f"not valid JSON ({error.msg} at column {error.colno})")
            continue
        yield _one(item, f"line {number}", note)


def _one(item: Any, position: str, note: str | None) -> RecordIn | Rejection:
    if item is None:
        return Rejection(position, "null entry (the batch endpoint returns null for unknown ids)")
    if not isinstance(item, dict):
        return Rejection(position, f"expected a paper object, got {type(item).__name__}")
    for wrapper in ("citedPaper", "citingPaper"):
        if isinstance(item.get(wrapper), dict):
            item = item[wrapper]
    try:
        record = paper_to_record(item)
    except (TypeError, ValueError) as error:
        return Rejection(position, f"unexpected paper object ({error})")
    if note:
        record.extra["import_note"] = note
    record.position = position
    return record


def paper_to_record(paper: dict[str, Any], source: str = "s2") -> RecordIn:
    external = paper.get("externalIds") or {}
    venue = paper.get("venue") or (paper.get("publicationVenue") or {}).get("name")
    if not venue:
        venue = (paper.get("journal") or {}).get("name")
    abstract = paper.get("abstract") or ""
    extra: dict[str, Any] = {}
    tldr = paper.get("tldr")
    if isinstance(tldr, dict) and tldr.get("text"):
        extra["tldr"] = tldr["text"]
        abstract = abstract or ""
    if isinstance(paper.get("citationCount"), int):
        extra["citation_count"] = paper["citationCount"]
    return RecordIn(
        title=str(paper.get("title") or ""),
        abstract=str(abstract),
        authors=authors_list(paper.get("authors")),
        year=parse_year(paper.get("year") or paper.get("publicationDate")),
        venue=str(venue) if venue else None,
        doi=external.get("DOI"),
        arxiv_id=external.get("ArXiv"),
        s2_id=paper.get("paperId"),
        url=paper.get("url"),
        source=source,
        extra=extra,
    )
