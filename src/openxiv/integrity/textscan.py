"""Character-level checks that work on any text: invisible characters, bidi controls, confusables,
encoded runs, and the folding that lets the lexicon see through them."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u034f\u115f\u1160\u3164")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
BIDI_OVERRIDES = frozenset("\u202d\u202e")  # these reorder text; marks and isolates only hint direction
TAG_RANGE = range(0xE0000, 0xE0080)
VARIATION_SELECTORS = frozenset(chr(c) for c in [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])

# Cyrillic and Greek letters that look like Latin ones. Enough for the attacks seen in practice;
# a full confusables table adds little once mixed-script words are flagged on their own.
CONFUSABLES = {
    "а": "a",
    "в": "b",
    "е": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "ԁ": "d",
    "ɡ": "g",
    "ӏ": "l",
    "ԛ": "q",
    "ԝ": "w",
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
    "І": "I",
    "Ј": "J",
    "Ѕ": "S",
    "α": "a",
    "ο": "o",
    "ν": "v",
    "ι": "i",
    "κ": "k",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
}
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def is_invisible_char(ch: str) -> bool:
    return ch in ZERO_WIDTH or ch in BIDI_CONTROLS or ord(ch) in TAG_RANGE or ch in VARIATION_SELECTORS


def strip_invisible(text: str) -> str:
    """Text without zero-width, bidi, tag and variation-selector characters (what a reader sees)."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if not is_invisible_char(ch))


def fold_for_matching(text: str) -> str:
    """Lower-cased text with invisible characters removed, confusables mapped to Latin and
    compatibility forms (full-width letters, ligatures) normalised, for lexicon matching."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", strip_invisible(text))
        latin = sum("a" <= ch <= "z" or "A" <= ch <= "Z" for ch in text)
        other = sum(
            1 for ch in text if ch in CONFUSABLES or "\u0400" <= ch <= "\u04ff" or "\u0370" <= ch <= "\u03ff"
        )
        # In Latin text every look-alike is a disguise; in Russian or Greek text only words that
        # already mix scripts are.
        text = text.translate(_CONFUSABLE_TABLE) if latin > other else _WORD.sub(_fold_word, text)
    return re.sub(r"\s+", " ", text).lower()


def _fold_word(match: re.Match[str]) -> str:
    """Map look-alikes to Latin only inside words that already mix them with Latin letters, so
    that genuine Russian or Greek text stays as it is."""
    word = match.group(0)
    if word.isascii() or not any("a" <= ch.lower() <= "z" for ch in word):
        return word
    return word.translate(_CONFUSABLE_TABLE)


@dataclass(frozen=True)
class HiddenPayload:
    kind: str  # tag_characters | zero_width_binary | zero_width_inside_words | bidi_override | homoglyphs
    count: int
    decoded: str  # text recovered from the payload ("" when there is nothing to decode)
    evidence: str


def _decode_tags(text: str) -> str:
    return "".join(
        chr(ord(ch) - 0xE0000) for ch in text if ord(ch) in TAG_RANGE and 0x20 <= ord(ch) - 0xE0000 < 0x7F
    )


def _decode_zero_width_binary(text: str) -> str:
    """Runs of two zero-width characters used as bits (the common "invisible ink" encodings)."""
    best = ""
    for zero, one in (("\u200b", "\u200c"), ("\u200c", "\u200d"), ("\u200b", "\u200d"), ("\u200c", "\u200b")):
        for run in re.findall(f"[{zero}{one}]{{16,}}", text):
            bits = run.replace(zero, "0").replace(one, "1")
            data = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits) - 7, 8))
            decoded = data.decode("utf-8", "replace")
            if _printable_ratio(decoded) > 0.9 and len(decoded) > len(best):
                best = decoded
    return best


def invisible_payloads(text: str) -> list[HiddenPayload]:
    if text.isascii():
        return []
    found = []
    tags = [ch for ch in text if ord(ch) in TAG_RANGE]
    if tags:
        found.append(
            HiddenPayload(
                "tag_characters", len(tags), _decode_tags(text), f"{len(tags)} Unicode tag characters"
            )
        )
    zw = [ch for ch in text if ch in ZERO_WIDTH]
    if zw:
        binary = _decode_zero_width_binary(text)
        if binary:
            found.append(
                HiddenPayload(
                    "zero_width_binary", len(zw), binary, f"{len(zw)} zero-width characters encode text"
                )
            )
        inside = len(re.findall(r"\w[\u200b\u200c\u200d\u2060\ufeff\u00ad]+\w", text))
        if inside:
            found.append(
                HiddenPayload(
                    "zero_width_inside_words",
                    inside,
                    strip_invisible(text),
                    f"{inside} zero-width characters split words",
                )
            )
    overrides = [ch for ch in text if ch in BIDI_OVERRIDES]
    if overrides:
        found.append(
            HiddenPayload(
                "bidi_override",
                len(overrides),
                _unreverse_overrides(text),
                f"{len(overrides)} bidi override characters",
            )
        )
    mixed = mixed_script_words(text)
    if mixed:
        found.append(
            HiddenPayload(
                "homoglyphs",
                len(mixed),
                text.translate(_CONFUSABLE_TABLE),
                f"{len(mixed)} words mix Latin with look-alike letters, e.g. {mixed[0]!r}",
            )
        )
    return found


def _unreverse_overrides(text: str) -> str:
    """The text a reader sees after right-to-left overrides are applied."""

    def flip(match: re.Match[str]) -> str:
        return match.group(1)[::-1]

    return re.sub("\u202e([^\u202c]*)\u202c?", flip, text)


def mixed_script_words(text: str) -> list[str]:
    out = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        if word.isascii():
            continue
        has_latin = any("a" <= ch.lower() <= "z" for ch in word)
        has_confusable = any(ch in CONFUSABLES for ch in word)
        if has_latin and has_confusable:
            out.append(word)
    return out


# -- encoded runs ------------------------------------------------------------------------------

_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/=])(?:[A-Za-z0-9+/]{4}){5,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?(?![A-Za-z0-9+/=])"
)
_BASE64URL = re.compile(
    r"(?<![A-Za-z0-9_\-=])(?:[A-Za-z0-9_\-]{4}){5,}(?:[A-Za-z0-9_\-]{2}==|[A-Za-z0-9_\-]{3}=)?(?![A-Za-z0-9_\-=])"
)
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){16,}(?![0-9A-Fa-f])")
_URLENC = re.compile(r"(?:%[0-9A-Fa-f]{2}|[A-Za-z0-9._~+\-]){12,}")
_ESCAPES = re.compile(r"(?:\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|&#x?[0-9A-Fa-f]+;){6,}")


def _printable_ratio(text: str) -> float:
    if not text:
        return 0.0
    good = sum(1 for ch in text if ch.isprintable() or ch in "\n\t")
    return good / len(text)


def _looks_like_language(text: str) -> bool:
    """Decoded bytes that read as words rather than binary noise."""
    if len(text) < 8 or _printable_ratio(text) < 0.95:
        return False
    letters = sum(ch.isalpha() for ch in text)
    spaces = text.count(" ")
    if not text.isascii():  # CJK and other scripts have few spaces
        return letters / len(text) > 0.5
    return letters / len(text) > 0.6 and spaces >= max(1, len(text) // 25)


@dataclass(frozen=True)
class DecodedRun:
    encoding: str
    start: int
    end: int
    decoded: str


def decode_runs(text: str, *, depth: int = 0) -> list[DecodedRun]:
    """Encoded substrings of `text` that decode to readable language (decoded once more if nested)."""
    runs: list[DecodedRun] = []
    for pattern, name, decode in (
        (_BASE64, "base64", _b64),
        (_BASE64URL, "base64url", _b64url),
        (_HEX, "hex", _hex),
        (_ESCAPES, "escapes", _escapes),
    ):
        for match in pattern.finditer(text):
            decoded = decode(match.group(0))
            if not decoded:
                continue
            if _looks_like_language(decoded):
                runs.append(DecodedRun(name, match.start(), match.end(), decoded))
            elif depth == 0 and _printable_ratio(decoded) > 0.95:
                # Layered encodings (base64 of URL-encoded text, hex of base64, ...).
                for inner in decode_runs(decoded, depth=1):
                    runs.append(
                        DecodedRun(f"{name}+{inner.encoding}", match.start(), match.end(), inner.decoded)
                    )
                unquoted = urllib.parse.unquote_plus(decoded) if decoded.count("%") >= 3 else ""
                if unquoted and _looks_like_language(unquoted):
                    runs.append(DecodedRun(f"{name}+url", match.start(), match.end(), unquoted))
    for match in _URLENC.finditer(text):
        chunk = match.group(0)
        if chunk.count("%") < 4:
            continue
        decoded = urllib.parse.unquote_plus(chunk)
        if _looks_like_language(decoded):
            runs.append(DecodedRun("url", match.start(), match.end(), decoded))
    unique: dict[tuple[int, int], DecodedRun] = {}
    for run in runs:
        unique.setdefault((run.start, run.end), run)
    runs = list(unique.values())
    if depth == 0:
        for run in list(runs):
            for inner in decode_runs(run.decoded, depth=1):
                runs.append(DecodedRun(f"{run.encoding}+{inner.encoding}", run.start, run.end, inner.decoded))
    return runs


def rot13(text: str) -> str:
    return codecs.decode(text, "rot13")


def _b64(chunk: str) -> str:
    try:
        return base64.b64decode(chunk, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _b64url(chunk: str) -> str:
    if "-" not in chunk and "_" not in chunk:
        return ""
    try:
        return base64.urlsafe_b64decode(chunk + "=" * (-len(chunk) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _hex(chunk: str) -> str:
    try:
        return bytes.fromhex(re.sub(r"[ :]", "", chunk)).decode("utf-8")
    except ValueError:
        return ""


def _escapes(chunk: str) -> str:
    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("&#x"):
            return chr(int(token[3:-1], 16))
        if token.startswith("&#"):
            return chr(int(token[2:-1]))
        return chr(int(token[2:], 16))

    try:
        return re.sub(r"\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|&#x?[0-9A-Fa-f]+;", one, chunk)
    except (ValueError, OverflowError):
        return ""


# -- sentences and languages -------------------------------------------------------------------

_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[\"'“«(\[0-9]|[^\W\d_a-z])|(?<=[。！？])|\n{2,}|\r?\n(?=\s*[-*•]|\s*\d+[.)]\s)"
)


def split_sentences(text: str, *, max_len: int = 400) -> list[str]:
    out = []
    for piece in _SENTENCE_END.split(text):
        piece = " ".join(piece.split())
        while len(piece) > max_len:
            cut = piece.rfind(" ", 0, max_len)
            cut = cut if cut > max_len // 2 else max_len
            out.append(piece[:cut])
            piece = piece[cut:].strip()
        if len(piece) >= 3:
            out.append(piece)
    return out


_STOPWORDS = {
    "en": {
        "the",
        "and",
        "of",
        "to",
        "is",
        "in",
        "that",
        "this",
        "we",
        "for",
        "with",
        "are",
        "on",
        "as",
        "be",
    },
    "de": {
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "mit",
        "sie",
        "ein",
        "eine",
        "wir",
        "für",
        "auf",
        "den",
        "zu",
    },
    "fr": {
        "le",
        "la",
        "les",
        "et",
        "est",
        "des",
        "une",
        "un",
        "pour",
        "dans",
        "nous",
        "que",
        "du",
        "pas",
        "vous",
    },
    "es": {"el", "la", "los", "las", "y", "es", "una", "un", "para", "que", "del", "por", "con", "se", "no"},
    "it": {
        "il",
        "lo",
        "gli",
        "e",
        "è",
        "una",
        "per",
        "che",
        "del",
        "della",
        "con",
        "non",
        "sono",
        "di",
        "questo",
    },
    "pt": {"o", "os", "as", "e", "é", "uma", "um", "para", "que", "do", "da", "com", "não", "em", "este"},
}


def detect_language(text: str) -> str:
    """A coarse language label from script and stopwords: en, de, fr, es, it, pt, ru, zh, ja, ko, other."""
    counts = {"han": 0, "kana": 0, "hangul": 0, "cyrillic": 0, "greek": 0, "latin": 0}
    for ch in text:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            counts["han"] += 1
        elif 0x3040 <= o <= 0x30FF:
            counts["kana"] += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
            counts["hangul"] += 1
        elif 0x0400 <= o <= 0x04FF:
            counts["cyrillic"] += 1
        elif 0x0370 <= o <= 0x03FF:
            counts["greek"] += 1
        elif ch.isalpha() and o < 0x250:
            counts["latin"] += 1
    script = max(counts, key=lambda k: counts[k])
    total = sum(counts.values())
    if total == 0:
        return "other"
    if counts["kana"] and counts["kana"] + counts["han"] >= total * 0.3:
        return "ja"
    if script == "han" or counts["han"] >= total * 0.3:
        return "zh"
    if script == "hangul":
        return "ko"
    if script == "cyrillic":
        return "ru"
    if script == "greek":
        return "el"
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return "other"
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else "en"
