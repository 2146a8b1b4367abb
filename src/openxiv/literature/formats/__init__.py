"""Readers for every import format, and the sniffing that picks one for a file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from openxiv.literature.formats.bibtex import parse_bibtex
from openxiv.literature.formats.jsonl import parse_jsonl
from openxiv.literature.formats.s2json import parse_s2
from openxiv.literature.formats.xmlfeeds import parse_xml
from openxiv.literature.records import RecordIn, Rejection

FORMATS = ("jsonl", "xml", "s2", "bibtex")


class UnknownFormat(ValueError):
    pass


def detect_format(path: Path) -> str:
    """Pick the reader from the content (extension only breaks ties); raise when nothing fits."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = path.suffix.lower()
    if not stripped:
        raise UnknownFormat(f"{path.name} is empty")
    if stripped.startswith(b"<"):
        return "xml"
    if stripped.startswith(b"@") or suffix == ".bib":
        return "bibtex"
    if stripped.startswith((b"{", b"[")):
        first_line = stripped.split(b"\n", 1)[0]
        try:
            first = json.loads(first_line)
        except json.JSONDecodeError:
            return "s2"  # a JSON document over several lines: the Graph API's shape
        if isinstance(first, dict) and ("paperId" in first or "externalIds" in first):
            return "s2"
        if isinstance(first, dict) and ("data" in first or "recommendedPapers" in first):
            return "s2"
        return "jsonl"
    raise UnknownFormat(
        f"cannot tell the format of {path.name}: expected JSON Lines, Atom/OAI-PMH XML, "
        "Semantic Scholar JSON or BibTeX"
    )


def parse_file(path: Path, fmt: str) -> Iterator[RecordIn | Rejection]:
    if fmt == "jsonl":
        with path.open("rb") as handle:
            yield from parse_jsonl(handle)
    elif fmt == "xml":
        with path.open("rb") as handle:
            yield from parse_xml(iter(lambda: handle.read(1 << 20), b""))
    elif fmt == "s2":
        yield from parse_s2(path.read_bytes())
    elif fmt == "bibtex":
        yield from parse_bibtex(path.read_bytes())
    else:
        raise UnknownFormat(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
