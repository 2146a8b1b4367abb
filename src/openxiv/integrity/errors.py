"""Errors raised for documents the scanner cannot read; each message is one line for the author."""

from __future__ import annotations


class DocumentError(ValueError):
    """Base class: the document was not scanned. `str(error)` is a one-line reason."""


class UnsupportedDocument(DocumentError):
    """Not a PDF, Markdown or LaTeX document."""


class UnreadableDocument(DocumentError):
    """A supported type, but broken, encrypted, too large or too expensive to read."""
