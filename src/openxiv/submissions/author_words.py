"""Words of author names, as indexed for the `author` filter."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"\w+")
MAX_WORD_LENGTH = 100


def name_words(names: Iterable[str]) -> set[str]:
    """Case-folded, accent-insensitive words: 'Chén Lǐ-Wang' -> {'chen', 'li', 'wang'}."""
    words: set[str] = set()
    for name in names:
        folded = unicodedata.normalize("NFKD", name.casefold())
        plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
        words.update(w[:MAX_WORD_LENGTH] for w in _WORD.findall(plain))
    return words


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (for range scans)."""
    return prefix + "\U0010ffff"
