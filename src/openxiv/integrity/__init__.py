"""Prompt-injection detection and defence (SPEC §4).

Public API: `scan_document`, `scan_text`, `visible_text`, `IntegrityReport`, `Finding`,
`Category`, `JudgeVerdict`, `Judge`, `UnsupportedDocument`, `UnreadableDocument`,
`IntegritySettings`; `IntegrityScreeningStage` and the report service live in `stage` / `service`
(imported lazily: they depend on the submissions pipeline, which imports the settings).
"""

from __future__ import annotations

from typing import Any

from openxiv.integrity.errors import DocumentError, UnreadableDocument, UnsupportedDocument
from openxiv.integrity.settings import IntegritySettings

__all__ = [
    "Category",
    "DocumentError",
    "Finding",
    "IntegrityReport",
    "IntegrityScreeningStage",
    "IntegritySettings",
    "Judge",
    "JudgeVerdict",
    "UnreadableDocument",
    "UnsupportedDocument",
    "get_report",
    "scan_document",
    "scan_text",
    "visible_text",
]

_LAZY = {
    "scan_document": "openxiv.integrity.scanner",
    "scan_text": "openxiv.integrity.scanner",
    "visible_text": "openxiv.integrity.scanner",
    "IntegrityReport": "openxiv.integrity.schemas",
    "Finding": "openxiv.integrity.schemas",
    "Category": "openxiv.integrity.schemas",
    "JudgeVerdict": "openxiv.integrity.schemas",
    "Judge": "openxiv.integrity.schemas",
    "IntegrityScreeningStage": "openxiv.integrity.stage",
    "get_report": "openxiv.integrity.service",
}


def __getattr__(name: str) -> Any:
    # Lazy so that `openxiv.config` can import the settings without loading pdfium or the pipeline.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'openxiv.integrity' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
