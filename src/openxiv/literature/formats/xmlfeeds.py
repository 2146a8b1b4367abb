"""arXiv API Atom feeds and OAI-PMH `ListRecords`/`GetRecord` responses (`arXiv`, `arXivRaw`, `oai_dc`).

The document is cut into its items (`<entry>` or `<record>`) before parsing, and each item is
parsed on its own with the namespace declarations of the document wrapped around it. One broken
item is then one rejection, and the items after it are still read; a parser over the whole
document would stop at the first syntax error.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator

from openxiv.literature.formats.decode import decode
from openxiv.literature.records import RecordIn, Rejection, authors_list, clean_text, parse_year

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV_ATOM = "{http://arxiv.org/schemas/atom}"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
OAI_ARXIV = "{http://arxiv.org/OAI/arXiv/}"
OAI_ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
DC = "{http://purl.org/dc/elements/1.1/}"

_ITEM_START = re.compile(rb"<(?:[\w.-]+:)?(entry|record)(?=[\s>/])")
_NAMESPACE = re.compile(rb"""xmlns(?::[\w.-]+)?\s*=\s*(?:"[^"]*"|'[^']*')""")
_OAI_ERROR = re.compile(rb"<(?:[\w.-]+:)?error\b[^>]*code=\"([^\"]+)\"[^>]*>([^<]*)<")
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_BLOCK = 1 << 20


def _items(blocks: Iterable[bytes]) -> Iterator[tuple[bytes, bytes | None, str | None]]:
    """(item bytes, namespace declarations, or None with a message for the text outside items)."""
    buffer = b""
    namespaces: bytes | None = None
    preamble_checked = False
    for block in blocks:
        buffer += block
        while True:
            start = _ITEM_START.search(buffer)
            if start is None:
                break
            if not preamble_checked:
                head = buffer[: start.start()]
                if _DOCTYPE.search(head):
                    yield b"", None, "document declares a DOCTYPE or entities; refused"
                    return
                by_prefix: dict[bytes, bytes] = {}
                for declaration in _NAMESPACE.findall(head):
                    by_prefix.setdefault(declaration.split(b"=", 1)[0].strip(), declaration)
                namespaces = b" ".join(by_prefix.values())
                preamble_checked = True
            tag = start.group(0)[1:]
            end_tag = re.compile(rb"</" + re.escape(tag) + rb"\s*>")
            end = end_tag.search(buffer, start.end())
            next_start = _ITEM_START.search(buffer, start.end())
            if next_start is not None and (end is None or next_start.start() < end.start()):
                # The item never closes before the next one begins: hand over the broken part
                # as its own item so it is rejected, and carry on from the next one.
                yield buffer[start.start() : next_start.start()], namespaces, None
                buffer = buffer[next_start.start() :]
                continue
            if end is None:
                break  # need more input
            yield buffer[start.start() : end.end()], namespaces, None
            buffer = buffer[end.end() :]
        if len(buffer) > 64 * _BLOCK:
            yield b"", namespaces, "an item is larger than 64 MiB; stopped"
            return
    if not preamble_checked:
        error = _OAI_ERROR.search(buffer)
        if error:
            yield b"", None, f"OAI-PMH error {error.group(1).decode()}: {error.group(2).decode().strip()}"
        elif buffer.strip():
            yield b"", None, "no <entry> or <record> elements found"
    elif _ITEM_START.search(buffer):
        yield buffer, namespaces, None  # a last item cut off by the end of the file


def parse_xml(blocks: Iterable[bytes]) -> Iterator[RecordIn | Rejection]:
    for number, (chunk, namespaces, message) in enumerate(_items(blocks), start=1):
        if message is not None:
            yield Rejection("document", message)
            continue
        position = f"item {number}"
        text, note = decode(chunk)
        wrapped = f"<wrap {(namespaces or b'').decode('utf-8', 'replace')}>{text}</wrap>"
        try:
            element = next(iter(ET.fromstring(wrapped)))
        except (ET.ParseError, StopIteration) as error:
            yield Rejection(position, f"malformed XML ({error})")
            continue
        try:
            result = _parse_element(element)
        except ValueError as error:
            yield Rejection(position, str(error))
            continue
        if isinstance(result, RecordIn):
            result.position = position
            if note:
                result.extra["import_note"] = note
        yield result


def _parse_element(element: ET.Element) -> RecordIn | Rejection:
    if element.tag == f"{ATOM}entry":
        return atom_entry(element)
    if element.tag in (f"{OAI}record", "record"):
        return oai_record(element)
    raise ValueError(f"unexpected element {element.tag}")


def _text(element: ET.Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return "".join(found.itertext()) if found is not None else ""


def atom_entry(entry: ET.Element) -> RecordIn | Rejection:
    entry_id = _text(entry, f"{ATOM}id")
    title = _text(entry, f"{ATOM}title")
    if "/api/errors" in entry_id:
        return Rejection(entry_id, f"arXiv API error: {clean_text(_text(entry, f'{ATOM}summary'), 300)}")
    url = None
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel") == "alternate" or (link.get("type") == "text/html"):
            url = link.get("href")
    category = entry.find(f"{ARXIV_ATOM}primary_category")
    extra = {"category": category.get("term")} if category is not None else {}
    comment = _text(entry, f"{ARXIV_ATOM}comment")
    if comment:
        extra["comment"] = clean_text(comment, 500)
    return RecordIn(
        title=title,
        abstract=_text(entry, f"{ATOM}summary"),
        authors=authors_list([_text(a, f"{ATOM}name") for a in entry.findall(f"{ATOM}author")]),
        year=parse_year(_text(entry, f"{ATOM}published")),
        venue=_text(entry, f"{ARXIV_ATOM}journal_ref") or None,
        doi=_text(entry, f"{ARXIV_ATOM}doi") or None,
        arxiv_id=entry_id,
        url=url or entry_id or None,
        source="arxiv",
        extra=extra,
    )


def _flip_name(name: str) -> str:
    """'Vaswani, Ashish' -> 'Ashish Vaswani' (Dublin Core creators are written surname first)."""
    if "," in name:
        last, _, first = name.partition(",")
        return f"{first.strip()} {last.strip()}".strip()
    return name


def oai_record(record: ET.Element) -> RecordIn | Rejection:
    header = record.find(f"{OAI}header")
    identifier = _text(header, f"{OAI}identifier")
    position = f"record {identifier}" if identifier else "record"
    if header is not None and header.get("status") == "deleted":
        return Rejection(position, "marked deleted by the repository")
    metadata = record.find(f"{OAI}metadata")
    if metadata is None or len(metadata) == 0:
        return Rejection(position, "record has no metadata")
    body = metadata[0]
    if body.tag == f"{OAI_ARXIV}arXiv":
        return _oai_arxiv(body, OAI_ARXIV, identifier)
    if body.tag == f"{OAI_ARXIV_RAW}arXivRaw":
        return _oai_arxiv(body, OAI_ARXIV_RAW, identifier)
    if body.tag.endswith("}dc"):
        return _oai_dc(body, identifier)
    return Rejection(position, f"unsupported metadata format {body.tag}")


def _oai_arxiv(body: ET.Element, ns: str, identifier: str) -> RecordIn:
    authors: list[str] = []
    authors_element = body.find(f"{ns}authors")
    if authors_element is not None and len(authors_element):
        for author in authors_element.findall(f"{ns}author"):
            parts = [
                _text(author, f"{ns}forenames"),
                _text(author, f"{ns}keyname"),
                _text(author, f"{ns}suffix"),
            ]
            authors.append(" ".join(p.strip() for p in parts if p.strip()))
    elif authors_element is not None:
        # arXivRaw: one string, "A. Author, B. Author and C. Author"
        raw = "".join(authors_element.itertext())
        authors = [n for part in raw.split(" and ") for n in part.split(",")]
    dates = [_text(body, f"{ns}created")] + [_text(v, f"{ns}date") for v in body.findall(f"{ns}version")]
    year = next((y for y in (parse_year(d) for d in dates) if y), None)
    return RecordIn(
        title=_text(body, f"{ns}title"),
        abstract=_text(body, f"{ns}abstract"),
        authors=authors_list(authors),
        year=year,
        venue=_text(body, f"{ns}journal-ref") or None,
        doi=_text(body, f"{ns}doi").split()[0] if _text(body, f"{ns}doi").strip() else None,
        arxiv_id=_text(body, f"{ns}id") or identifier,
        source="oai",
        extra={"categories": clean_text(_text(body, f"{ns}categories"), 300)},
    )


def _oai_dc(body: ET.Element, identifier: str) -> RecordIn:
    descriptions = ["".join(d.itertext()) for d in body.findall(f"{DC}description")]
    # arXiv puts the abstract first and "Comment: 15 pages" lines after it.
    abstract = next((d for d in descriptions if not d.strip().lower().startswith("comment:")), "")
    identifiers = ["".join(i.itertext()).strip() for i in body.findall(f"{DC}identifier")]
    doi = next((i for i in identifiers if i.lower().startswith(("doi:", "10.", "https://doi.org/"))), None)
    url = next((i for i in identifiers if i.startswith("http") and "doi.org" not in i), None)
    dates = [parse_year("".join(d.itertext())) for d in body.findall(f"{DC}date")]
    arxiv = identifier if "arxiv" in identifier.lower() else (url if url and "arxiv.org" in url else None)
    return RecordIn(
        title=_text(body, f"{DC}title"),
        abstract=abstract,
        authors=authors_list([_flip_name("".join(c.itertext())) for c in body.findall(f"{DC}creator")]),
        year=next((y for y in dates if y), None),
        venue=_text(body, f"{DC}source") or None,
        doi=doi,
        arxiv_id=arxiv,
        url=url,
        source="oai",
    )
