"""Lays generated papers out on PDF pages: columns, headings, paragraphs, figures, tables,
footnotes and math lines, with word wrapping from approximate glyph widths."""

from __future__ import annotations

import random
from dataclasses import dataclass

from openxiv.tooling.pdfwriter import Color, Page, PdfDocument, pick_font


def text_width(text: str, size: float) -> float:
    """A generous estimate of the advance width, so wrapped lines never leave their column."""
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    return (len(text) - wide) * 0.56 * size + wide * 1.02 * size


def wrap(text: str, width: float, size: float) -> list[str]:
    if any(ord(ch) > 0x2E80 for ch in text) and " " not in text.strip():
        per_line = max(1, int(width / (1.02 * size)))
        return [text[i : i + per_line] for i in range(0, len(text), per_line)]
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


@dataclass
class Placed:
    page: int  # 1-based
    box: list[float]
    text: str


class PaperWriter:
    def __init__(
        self, doc: PdfDocument, rng: random.Random, *, columns: int = 1, size: float = 10.0, font: str = "F3"
    ) -> None:
        self.doc = doc
        self.rng = rng
        self.columns = columns
        self.size = size
        self.font = font
        self.margin = 72.0 if columns == 1 else 54.0
        self.gutter = 18.0
        self.page: Page = doc.new_page()
        self.col = 0
        self.y = self.top
        self.footnote_y = 60.0

    @property
    def top(self) -> float:
        return self.page.height - 72.0

    @property
    def bottom(self) -> float:
        return 80.0

    @property
    def col_width(self) -> float:
        return (self.page.width - 2 * self.margin - (self.columns - 1) * self.gutter) / self.columns

    @property
    def x(self) -> float:
        return self.margin + self.col * (self.col_width + self.gutter)

    @property
    def page_number(self) -> int:
        return len(self.doc.pages)

    def new_page(self) -> None:
        self.page = self.doc.new_page()
        self.col = 0
        self.y = self.top
        self.footnote_y = 60.0

    def ensure(self, height: float) -> None:
        if self.y - height < self.bottom:
            if self.col + 1 < self.columns:
                self.col += 1
                self.y = self.top
            else:
                self.new_page()

    def line(
        self,
        text: str,
        *,
        size: float | None = None,
        font: str | None = None,
        color: Color = (0, 0, 0),
        **style: object,
    ) -> Placed:
        size = size or self.size
        self.ensure(size * 1.25)
        self.y -= size * 1.2
        font = pick_font(text, font or self.font)
        self.page.text(self.x, self.y, text, size=size, font=font, color=color, **style)  # type: ignore[arg-type]
        box = [
            self.x,
            self.y - size * 0.25,
            self.x + min(text_width(text, size), self.col_width),
            self.y + size * 0.9,
        ]
        return Placed(self.page_number, box, text)

    def paragraph(
        self,
        text: str,
        *,
        size: float | None = None,
        font: str | None = None,
        color: Color = (0, 0, 0),
        **style: object,
    ) -> list[Placed]:
        size = size or self.size
        placed = [
            self.line(chunk, size=size, font=font, color=color, **style)
            for chunk in wrap(text, self.col_width, size)
        ]
        self.y -= size * 0.6
        return placed

    def heading(self, text: str) -> None:
        self.ensure(self.size * 4)
        self.y -= self.size * 0.6
        self.line(text, size=self.size * 1.2, font="F2")
        self.y -= self.size * 0.3

    def title_block(self, title: str, authors: str) -> None:
        size = 16.0
        width = self.page.width - 2 * self.margin
        for chunk in wrap(title, width, size):
            self.y -= size * 1.25
            self.page.text(self.margin, self.y, chunk, size=size, font="F2")
        self.y -= 14
        self.page.text(self.margin, self.y, authors, size=10, font="F1")
        self.y -= 20

    def figure(self, *, image: bool, label_size: float = 5.0, dark_box: bool = False) -> None:
        height = min(150.0, self.col_width * 0.6)
        self.ensure(height + 30)
        top = self.y - 4
        x0, y0 = self.x + 10, top - height
        w = self.col_width - 20
        if image:
            self.page.image(x0, y0, w, height)
        else:
            self.page.rect(x0, y0, w, height, fill=(0.95, 0.95, 0.97))
            for i in range(5):
                bar = height * self.rng.uniform(0.2, 0.85)
                self.page.rect(x0 + 12 + i * (w - 20) / 5, y0 + 12, (w - 20) / 7, bar, fill=(0.25, 0.4, 0.7))
            for i, tick in enumerate(["0.0", "0.2", "0.4", "0.6", "0.8"]):
                self.page.text(x0 + 2, y0 + 12 + i * (height - 20) / 4, tick, size=label_size, font="F1")
            self.page.text(
                x0 + w / 2 - 10,
                y0 + 2,
                self.rng.choice(["epoch", "steps", "layers", "noise"]),
                size=label_size,
                font="F1",
            )
        if dark_box:
            self.page.rect(x0 + w - 80, top - 22, 76, 16, fill=(0.12, 0.16, 0.32))
            self.page.text(
                x0 + w - 76,
                top - 17,
                self.rng.choice(["Ours (best)", "Key result", "New SOTA"]),
                size=7,
                font="F2",
                color=(1, 1, 1),
            )
        self.y = y0 - 4
        self.paragraph(
            f"Figure {self.rng.randint(1, 5)}: Results of the proposed method across settings.",
            size=self.size * 0.85,
        )

    def table(self, rows: int = 4) -> None:
        size = self.size * 0.85
        height = (rows + 1) * size * 1.6
        self.ensure(height + 20)
        x0, w = self.x + 4, self.col_width - 8
        top = self.y - 4
        self.page.line(x0, top, x0 + w, top)
        headers = ["Method", "Acc.", "F1", "Time"]
        for r in range(rows + 1):
            yy = top - (r + 1) * size * 1.5
            cells = (
                headers
                if r == 0
                else [
                    self.rng.choice(["Baseline", "Ours", "Prior", "Ablation"]),
                    f"{self.rng.uniform(60, 95):.1f}",
                    f"{self.rng.uniform(0.5, 0.95):.2f}",
                    f"{self.rng.randint(2, 90)}s",
                ]
            )
            for c, cell in enumerate(cells):
                self.page.text(x0 + 4 + c * w / 4, yy, cell, size=size, font="F2" if r == 0 else "F1")
            if r == 0:
                self.page.line(x0, yy - 3, x0 + w, yy - 3)
        self.y = top - height
        self.page.line(x0, self.y, x0 + w, self.y)
        self.y -= 6

    def footnote(self, text: str, *, size: float = 7.0, color: Color = (0, 0, 0)) -> list[Placed]:
        placed = []
        for chunk in wrap(text, self.page.width - 2 * self.margin, size)[:3]:
            self.page.text(self.margin, self.footnote_y, chunk, size=size, font="F3", color=color)
            placed.append(
                Placed(
                    self.page_number,
                    [
                        self.margin,
                        self.footnote_y - 2,
                        self.margin + text_width(chunk, size),
                        self.footnote_y + size,
                    ],
                    chunk,
                )
            )
            self.footnote_y -= size * 1.3
        return placed

    def math(self) -> None:
        formula = self.rng.choice(
            [
                "L(θ) = Σ_i log p(x_i | z_i; θ) − β · KL(q || p)",
                "∇f(x) = lim_{h→0} (f(x + h) − f(x)) / h",
                "E[X] = ∫ x p(x) dx,   Var[X] = E[X²] − E[X]²",
                "h_v = σ( W · Σ_{u∈N(v)} h_u / |N(v)| )",
            ]
        )
        self.y -= 4
        self.line(formula, size=self.size, font="F5")
        self.y -= 4
