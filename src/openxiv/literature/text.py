"""Tokens, sentences and passages: the text handling shared by the index, the grounder and the bench."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")

# A short English list: enough to keep BM25's posting lists for glue words out of the index,
# short enough that no content word of a paper title is lost.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also via using use used based upon within without towards toward among across per et al
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_stem_cache: dict[str, str] = {}


def _stem(word: str) -> str:
    """A light suffix folding (plurals, -ing/-ed are left alone): 'networks' and 'network' meet."""
    cached = _stem_cache.get(word)
    if cached is not None:
        return cached
    stem = word
    if len(word) > 4 and word.endswith("ies"):
        stem = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        stem = word[:-1]
    if len(_stem_cache) < 2_000_000:
        _stem_cache[word] = stem
    return stem


def tokenize(text: str) -> list[str]:
    """Lower-case content words of `text`, lightly stemmed, in order (repeats kept)."""
    stop = STOPWORDS
    stem = _stem
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in stop or len(word) > 40:
            continue
        out.append(stem(word))
    return out


def split_sentences(text: str) -> list[str]:
    parts = [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]
    return parts or ([text.strip()] if text.strip() else [])


def best_passage(
    text: str, query_terms: Iterable[str], weight: Callable[[str], float] | None = None, max_chars: int = 400
) -> str:
    """The sentence (with its neighbour when short) that shares the most weighted terms with the query."""
    sentences = split_sentences(text)
    if not sentences:
        return ""
    terms = set(query_terms)
    weigh = weight or (lambda _term: 1.0)
    best_index, best_score = 0, -1.0
    for index, sentence in enumerate(sentences):
        tokens = set(tokenize(sentence))
        score = sum(weigh(term) for term in tokens & terms) / math.sqrt(len(tokens) + 5)
        if score > best_score:
            best_index, best_score = index, score
    passage = sentences[best_index]
    if len(passage) < 120 and best_index + 1 < len(sentences):
        passage = f"{passage} {sentences[best_index + 1]}"
    if len(passage) > max_chars:
        passage = passage[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return passage
