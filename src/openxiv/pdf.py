"""A small writer of plain text PDFs (Helvetica, A4/Letter, word-wrapped). Used by the demo and
by tests to make real PDF files without a typesetting system."""

from __future__ import annotations

import io
import textwrap

import pikepdf

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN = 72
LINE_HEIGHT = 14
WRAP = 90


def _escape(text: str) -> str:
    text = text.encode("latin-1", errors="replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(title: str, paragraphs: list[str]) -> bytes:
    lines: list[tuple[str, int]] = [(title, 16), ("", 11)]
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, WRAP) or [""]:
            lines.append((line, 11))
        lines.append(("", 11))
    per_page = (PAGE_HEIGHT - 2 * MARGIN) // LINE_HEIGHT
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    for start in range(0, len(lines), per_page):
        ops = ["BT", f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td", f"{LINE_HEIGHT} TL"]
        for text, size in lines[start : start + per_page]:
            ops.append(f"/F1 {size} Tf ({_escape(text)}) Tj T*")
        ops.append("ET")
        page = pdf.add_blank_page(page_size=(PAGE_WIDTH, PAGE_HEIGHT))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream("\n".join(ops).encode("latin-1"))
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)  # same input, same bytes, same sha256
    return buffer.getvalue()
