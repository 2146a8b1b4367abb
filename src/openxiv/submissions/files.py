"""Verification and text extraction of uploaded files. Everything here runs before anything is
stored: a file that fails a check leaves no trace."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pypdfium2 as pdfium

from openxiv.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

PDF = "application/pdf"
MARKDOWN = "text/markdown"
LATEX = "application/x-latex"
SOURCE_FORMAT_BY_TYPE = {MARKDOWN: "markdown", LATEX: "latex"}
_MARKDOWN_EXTENSIONS = (".md", ".markdown", ".txt")
_LATEX_EXTENSIONS = (".tex", ".latex")


@dataclass(frozen=True)
class VerifiedFile:
    data: bytes
    sha256: str
    media_type: str
    filename: str
    text: str
    pages: int | None = None


def verify_upload(data: bytes, filename: str, *, max_bytes: int, max_pdf_pages: int) -> VerifiedFile:
    """Check size and real type (magic bytes, not the name), decode, and extract the text."""
    filename = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:300] or "upload"
    if not data:
        raise InvalidInput(f"{filename} is empty (0 bytes)", field="file")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"{filename} is {len(data)} bytes; the limit is {max_bytes} bytes", field="file"
        )
    sha256 = hashlib.sha256(data).hexdigest()
    lower = filename.lower()
    if data[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        text, pages = _read_pdf(data, filename, max_pdf_pages)
        return VerifiedFile(data, sha256, PDF, filename, text, pages)
    if lower.endswith(".pdf"):
        raise UnsupportedMediaType(
            f"{filename} is named .pdf but is not a PDF (no %PDF- header)", field="file"
        )
    text = _decode_text(data, filename)
    if lower.endswith(_LATEX_EXTENSIONS) or looks_like_latex(text):
        return VerifiedFile(data, sha256, LATEX, filename, latex_to_text(text))
    if lower.endswith(_MARKDOWN_EXTENSIONS) or "." not in lower:
        return VerifiedFile(data, sha256, MARKDOWN, filename, text)
    raise UnsupportedMediaType(
        f"{filename}: unsupported file type; upload a PDF, Markdown (.md) or LaTeX (.tex) file", field="file"
    )


def _decode_text(data: bytes, filename: str) -> str:
    if b"\x00" in data:
        raise UnsupportedMediaType(f"{filename} is a binary file, not PDF, Markdown or LaTeX", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"{filename} is not valid UTF-8 (byte {error.start}); save the source as UTF-8", field="file"
        ) from None
    if not text.strip():
        raise InvalidInput(f"{filename} contains only whitespace", field="file")
    return text


def _read_pdf(data: bytes, filename: str, max_pages: int) -> tuple[str, int]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        message = str(error).lower()
        if "password" in message:
            raise InvalidInput(
                f"{filename} is encrypted with a password; upload an unencrypted PDF", field="file"
            ) from None
        raise InvalidInput(f"{filename} is not a readable PDF ({error})", field="file") from None
    try:
        pages = len(document)
        if pages == 0:
            raise InvalidInput(f"{filename} has no pages", field="file")
        if pages > max_pages:
            raise PayloadTooLarge(f"{filename} has {pages} pages; the limit is {max_pages}", field="file")
        texts = []
        for index in range(pages):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        document.close()
    return "\n\f\n".join(t.replace("\r\n", "\n").replace("\r", "\n") for t in texts), pages


def source_from_text(text: str, source_format: str) -> VerifiedFile:
    """An inline Markdown/LaTeX source, stored like an uploaded file."""
    data = text.encode("utf-8")
    if not text.strip():
        raise InvalidInput("source.text is empty", field="source")
    if "\x00" in text:
        raise InvalidInput("source.text contains NUL characters", field="source")
    media_type = LATEX if source_format == "latex" else MARKDOWN
    extracted = latex_to_text(text) if source_format == "latex" else text
    name = "source.tex" if source_format == "latex" else "source.md"
    return VerifiedFile(data, hashlib.sha256(data).hexdigest(), media_type, name, extracted)


def looks_like_latex(text: str) -> bool:
    head = text[:20_000]
    return "\\documentclass" in head or "\\begin{document}" in head


_COMMENT = re.compile(r"(?<!\\)%.*")
_ENV_DROP = re.compile(r"\\begin\{(figure|table|tikzpicture|thebibliography)\*?\}.*?\\end\{\1\*?\}", re.S)
_CMD_WITH_TEXT = re.compile(
    r"\\(?:section|subsection|subsubsection|paragraph|title|textbf|textit|emph|caption)\*?\{([^{}]*)\}"
)
_CMD = re.compile(r"\\[a-zA-Z@]+\*?(\[[^\]]*\])?")


def latex_to_text(source: str) -> str:
    """A readable approximation of LaTeX source, for search and review; not a renderer."""
    body = source
    if "\\begin{document}" in body:
        body = body.split("\\begin{document}", 1)[1]
    body = body.split("\\end{document}", 1)[0]
    body = _COMMENT.sub("", body)
    body = _ENV_DROP.sub("", body)
    for _ in range(3):
        body = _CMD_WITH_TEXT.sub(r"\n\1\n", body)
    body = _CMD.sub("", body)
    body = body.replace("{", "").replace("}", "").replace("~", " ")
    return re.sub(r"\n{3,}", "\n\n", body).strip()


PROPOSAL_HEADINGS = {
    "problem_statement": "Problem statement",
    "motivation": "Motivation",
    "proposed_method": "Proposed method",
    "experiment_plan": "Experiment plan",
    "expected_results_and_risks": "Expected results and risks",
    "timeline_and_resources": "Timeline and resources",
}


def proposal_text(title: str, fields: dict[str, str]) -> str:
    """The proposal as one document, in the order a reviewer reads it; fields beyond the standard
    ones (proposal files given to `openxiv review`) follow under their own names."""
    parts = [f"# {title}"] if title else []
    for key, heading in PROPOSAL_HEADINGS.items():
        if fields.get(key):
            parts.append(f"## {heading}\n\n{fields[key]}")
    for key, value in fields.items():
        if key not in PROPOSAL_HEADINGS and key != "title" and value:
            parts.append(f"## {key.replace('_', ' ').capitalize()}\n\n{value}")
    return "\n\n".join(parts)
