"""Finding what a submission cites: its reference list, and arXiv ids and DOIs anywhere in it."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from openxiv.literature.records import find_arxiv_ids, find_dois, fold, title_key
from openxiv.literature.text import tokenize

_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\\section\*?\{|\d+(?:\.\d+)*\.?[ \t]+)?"
    r"(references|bibliography|works cited|literature cited|reference list)\}?[ \t]*:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_END = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\\section\*?\{|[A-Z](?:\.\d+)*\.?[ \t]+)?(appendix|appendices|supplementary material)\b",
    re.IGNORECASE | re.MULTILINE,
)
_NUMBERED = re.compile(
    r"^[ \t]*(?:\[\d{1,4}\]|\d{1,4}\.(?=\s)|\\bibitem(?:\[[^\]]*\])?\{[^}]*\}|[-*•][ \t])", re.MULTILINE
)


@dataclass
class References:
    entries: list[str]
    arxiv_ids: set[str] = field(default_factory=set)
    dois: set[str] = field(default_factory=set)
    folded: str = ""  # the reference section folded like titles, for substring checks
    entry_tokens: list[set[str]] = field(default_factory=list)

    def cites(self, title: str, arxiv_id: str | None, doi: str | None) -> bool:
        if arxiv_id and arxiv_id in self.arxiv_ids:
            return True
        if doi and doi.lower() in self.dois:
            return True
        key = title_key(title)
        if len(key) >= 12 and key in self.folded:
            return True
        words = set(tokenize(title))
        if len(words) < 2:
            return False
        return any(len(words & tokens) / len(words) >= 0.8 for tokens in self.entry_tokens)


def reference_section(text: str) -> str:
    matches = list(_HEADING.finditer(text))
    if not matches:
        return ""
    start = matches[-1].end()
    end = _END.search(text, start)
    return text[start : end.start() if end else len(text)]


def split_entries(section: str) -> list[str]:
    starts = [m.start() for m in _NUMBERED.finditer(section)]
    if len(starts) >= 2:
        bounds = [*starts, len(section)]
        parts = [section[a:b] for a, b in itertools.pairwise(bounds)]
    else:
        parts = re.split(r"\n\s*\n", section)
        if len(parts) < 2:
            parts = section.splitlines()
    return [" ".join(part.split()) for part in parts if len(part.strip()) > 10]


def extract_references(text: str) -> References:
    section = reference_section(text)
    entries = split_entries(section) if section else []
    return References(
        entries=entries,
        arxiv_ids=find_arxiv_ids(text),
        dois=find_dois(text),
        folded=fold(section) if section else "",
        entry_tokens=[set(tokenize(entry)) for entry in entries],
    )
