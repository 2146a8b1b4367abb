"""Reading a document to review from a file (CLI and evaluation harness)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from openxiv.review.engine import Document, ReviewInputError
from openxiv.review.stages import visible_text_of
from openxiv.submissions.files import proposal_text

TEXT_SUFFIXES = {".md", ".markdown", ".tex", ".txt", ".rst"}
PROPOSAL_SUFFIXES = {".json", ".yaml", ".yml"}


def guess_kind(path: Path) -> str:
    return "proposal" if path.suffix.lower() in PROPOSAL_SUFFIXES else "paper"


def load_document(path: Path, kind: str | None = None) -> Document:
    """A `Document` from a PDF, Markdown, LaTeX or text file, or a proposal as JSON/YAML fields."""
    if not path.is_file():
        raise ReviewInputError(f"{path}: no such file")
    kind = kind or guess_kind(path)
    suffix = path.suffix.lower()
    data = path.read_bytes()
    title = path.stem
    if suffix == ".pdf":
        text = visible_text_of(data, path.name)
    elif suffix in PROPOSAL_SUFFIXES:
        fields = _structured(path, data)
        title = str(fields.get("title") or title)
        text = proposal_text(title if fields.get("title") else "", fields)
    elif suffix in TEXT_SUFFIXES or not suffix:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ReviewInputError(
                f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
            ) from error
    else:
        raise ReviewInputError(
            f"{path}: unsupported file type {suffix!r} (use PDF, Markdown, LaTeX, JSON or YAML)"
        )
    if not text.strip():
        raise ReviewInputError(f"{path}: the document has no text to review")
    return Document(kind=kind, text=text, title=title, label=path.name)


def _structured(path: Path, data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data) if path.suffix.lower() == ".json" else yaml.safe_load(data)
    except (json.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise ReviewInputError(f"{path}: cannot parse ({error})") from error
    if not isinstance(value, dict):
        raise ReviewInputError(
            f"{path}: a proposal file must hold a mapping of fields (title, motivation, ...)"
        )
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items() if v is not None}
