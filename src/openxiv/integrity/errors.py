"""Errors raised for documents the scanner cannot read; each message is one line for the author."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class DocumentError(ValueError):
    """Base class: the document was not scanned. `str(error)` is a one-line reason."""


class UnsupportedDocument(DocumentError):
    """Not a PDF, Markdown or LaTeX document."""


class UnreadableDocument(DocumentError):
    """A supported type, but broken, encrypted, too large or too expensive to read."""


class CheckFailures:
    """Collects the sub-checks of a scan that failed, so that one broken part of a document (a
    malformed font map, a damaged stream) is reported and the other checks still decide."""

    def __init__(self) -> None:
        self.failures: list[tuple[str, int | None, str]] = []  # (check, page, reason)

    @contextmanager
    def guard(self, check: str, page: int | None = None) -> Iterator[None]:
        try:
            yield
        except DocumentError:
            raise
        except Exception as error:  # a sub-check's bug or a hostile file must not end the scan
            reason = " ".join(str(error).split())[:160] or error.__class__.__name__
            self.failures.append((check, page, f"{error.__class__.__name__}: {reason}"))
