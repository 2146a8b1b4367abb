"""BibTeX: a small tolerant reader. A broken entry is rejected and reading resumes at the next `@`.

Handles braced and quoted values, `#` concatenation, @string macros, numbers, nested braces,
LaTeX accents and escapes commonly found in titles and author names; skips @comment and @preamble.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from openxiv.literature.formats.decode import decode
from openxiv.literature.records import RecordIn, Rejection, parse_year

_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_KEY = re.compile(r"\s*([^\s,={}()]+)\s*,")
_FIELD_NAME = re.compile(r"\s*([A-Za-z][\w:.+-]*)\s*=\s*")
_MONTHS = {m: m for m in ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]}
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b",
}  # fmt: skip
_SYMBOLS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "aa": "å",
    "AA": "Å",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
}


class _BibError(ValueError):
    pass


def latex_to_text(value: str) -> str:
    def accent(match: re.Match[str]) -> str:
        import unicodedata

        return unicodedata.normalize("NFC", match.group(2) + _ACCENTS[match.group(1)])

    text = re.sub(r"\\([`'^\"~=.])\s*\{?\s*\\?([A-Za-z])\s*\}?", accent, value)
    text = re.sub(r"\\([cvuH])\s*\{\s*([A-Za-z])\s*\}", accent, text)
    text = re.sub(r"\\(ss|ae|AE|aa|AA|o|O|l|L|i)(?![A-Za-z])\s*", lambda m: _SYMBOLS[m.group(1)], text)
    text = re.sub(r"\\(?:emph|textit|textbf|textrm|textsc|mathrm|mathbf|text)\s*", "", text)
    text = re.sub(r"\\([&%$#_{}])", r"\1", text)
    text = text.replace("~", " ").replace("--", "–")
    return text.replace("{", "").replace("}", "")


def _characters(text: str, pos: int) -> Iterator[tuple[int, str, int]]:
    """Each character from `pos` on, with its position and the brace depth once it is read;
    a backslash and the character it escapes are passed over."""
    depth = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        yield pos, char, depth
        pos += 1


def _read_braced(text: str, pos: int) -> tuple[str, int]:
    for at, char, depth in _characters(text, pos):
        if char == "}" and depth == 0:
            return text[pos + 1 : at], at + 1
        if char == "@" and text[at - 1] == "\n":
            raise _BibError("unbalanced braces (a new entry starts inside a value)")
    raise _BibError("unbalanced braces (value never closes)")


def _read_quoted(text: str, pos: int) -> tuple[str, int]:
    for at, char, depth in _characters(text, pos + 1):
        if char == '"' and depth == 0:
            return text[pos + 1 : at], at + 1
        if char == "\n" and at + 1 < len(text) and text[at + 1] == "@":
            break
    raise _BibError("unterminated quoted value")


def _read_value(text: str, pos: int, macros: dict[str, str]) -> tuple[str, int]:
    parts: list[str] = []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise _BibError("entry ends inside a value")
        char = text[pos]
        if char == "{":
            part, pos = _read_braced(text, pos)
        elif char == '"':
            part, pos = _read_quoted(text, pos)
        else:
            match = re.compile(r"[^\s,#{}()\"]+").match(text, pos)
            if not match:
                raise _BibError(f"unexpected character {char!r} where a value should be")
            word = match.group(0)
            part = word if word.isdigit() else macros.get(word.lower(), _MONTHS.get(word.lower(), word))
            pos = match.end()
        parts.append(part)
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == "#":
            pos += 1
            continue
        return "".join(parts), pos


def _read_fields(text: str, pos: int, close: str, macros: dict[str, str]) -> tuple[dict[str, str], int]:
    fields: dict[str, str] = {}
    while True:
        while pos < len(text) and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        if pos >= len(text):
            raise _BibError("entry never closes")
        if text[pos] == close:
            return fields, pos + 1
        match = _FIELD_NAME.match(text, pos)
        if not match:
            snippet = text[pos : pos + 20].split("\n")[0]
            raise _BibError(f"expected 'name = value' at {snippet!r}")
        value, pos = _read_value(text, match.end(), macros)
        fields[match.group(1).lower()] = value


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def parse_bibtex(raw: bytes) -> Iterator[RecordIn | Rejection]:
    text, note = decode(raw)
    macros: dict[str, str] = {}
    pos = 0
    while True:
        match = _ENTRY_START.search(text, pos)
        if not match:
            return
        kind = match.group(1).lower()
        close = "}" if match.group(2) == "{" else ")"
        position = f"entry at line {_line_of(text, match.start())}"
        if kind in ("comment", "preamble"):
            try:
                _, pos = _read_braced(text, match.end() - 1) if close == "}" else (None, match.end())
            except _BibError:
                pos = match.end()
            continue
        try:
            if kind == "string":
                fields, pos = _read_fields(text, match.end(), close, macros)
                macros.update({k: v for k, v in fields.items()})
                continue
            key_match = _KEY.match(text, match.end())
            if not key_match:
                raise _BibError("missing citation key")
            fields, pos = _read_fields(text, key_match.end(), close, macros)
        except _BibError as error:
            yield Rejection(position, str(error))
            pos = match.end()
            continue
        record = _entry_to_record(kind, key_match.group(1), fields)
        if isinstance(record, RecordIn):
            record.position = position
            if note:
                record.extra["import_note"] = note
        yield record if isinstance(record, RecordIn) else Rejection(position, record)


def _split_authors(value: str) -> list[str]:
    names = []
    for name in re.split(r"\s+and\s+", latex_to_text(value).strip()):
        name = " ".join(name.split())
        if not name or name.lower() == "others":
            continue
        if "," in name:
            last, _, first = name.partition(",")
            name = f"{first.strip()} {last.strip()}".strip()
        names.append(name)
    return names


def _entry_to_record(kind: str, key: str, fields: dict[str, str]) -> RecordIn | str:
    title = latex_to_text(fields.get("title", ""))
    if not title.strip():
        return f"@{kind}{{{key}}} has no title"
    arxiv = None
    if fields.get("archiveprefix", "").lower() == "arxiv" or fields.get("eprinttype", "").lower() == "arxiv":
        arxiv = fields.get("eprint")
    url = fields.get("url")
    if not arxiv and url and "arxiv.org" in url:
        arxiv = url
    journal = fields.get("journal") or fields.get("booktitle") or fields.get("journaltitle")
    if journal and journal.lower().startswith("arxiv") and not arxiv:
        arxiv = journal
    return RecordIn(
        title=title,
        abstract=latex_to_text(fields.get("abstract", "")),
        authors=_split_authors(fields.get("author", "")),
        year=parse_year(fields.get("year") or fields.get("date")),
        venue=latex_to_text(journal) if journal else None,
        doi=fields.get("doi"),
        arxiv_id=arxiv,
        url=url,
        source="bibtex",
        extra={"bibtex_key": key, "bibtex_type": kind},
    )
