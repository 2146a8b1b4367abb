"""A line diff of two versions' texts for people to read: changed lines with a few lines of
context around them, long unchanged stretches folded. Plain data; templates escape the text."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

Op = Literal["same", "add", "del", "fold"]
CONTEXT = 3
# Beyond this many lines per side the diff is cut: a person cannot read more, and SequenceMatcher
# is quadratic in the worst case.
MAX_LINES = 20_000


@dataclass(frozen=True)
class DiffLine:
    op: Op
    text: str  # for "fold": how many lines were folded, as words


@dataclass(frozen=True)
class TextDiff:
    lines: list[DiffLine]
    added: int
    removed: int
    truncated: bool


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def line_diff(old: str, new: str, *, context: int = CONTEXT) -> TextDiff:
    before, after = _lines(old), _lines(new)
    truncated = len(before) > MAX_LINES or len(after) > MAX_LINES
    before, after = before[:MAX_LINES], after[:MAX_LINES]
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    out: list[DiffLine] = []
    added = removed = 0
    opcodes = matcher.get_opcodes()
    for index, (tag, a0, a1, b0, b1) in enumerate(opcodes):
        if tag == "equal":
            same = before[a0:a1]
            head = same[:context] if index > 0 else []
            tail = same[-context:] if index < len(opcodes) - 1 else []
            if len(same) <= len(head) + len(tail) + 1:
                out.extend(DiffLine("same", line) for line in same)
                continue
            out.extend(DiffLine("same", line) for line in head)
            folded = len(same) - len(head) - len(tail)
            out.append(DiffLine("fold", f"{folded} unchanged line{'s' if folded != 1 else ''}"))
            out.extend(DiffLine("same", line) for line in tail)
            continue
        if tag in ("replace", "delete"):
            out.extend(DiffLine("del", line) for line in before[a0:a1])
            removed += a1 - a0
        if tag in ("replace", "insert"):
            out.extend(DiffLine("add", line) for line in after[b0:b1])
            added += b1 - b0
    return TextDiff(lines=out, added=added, removed=removed, truncated=truncated)
