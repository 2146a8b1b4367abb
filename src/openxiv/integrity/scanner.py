"""Entry points: `scan_document` (the five stages) and `visible_text` (what reviewers receive)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium

from openxiv.integrity.analysis import (
    Analyzer,
    DocumentView,
    Segment,
    apply_judge,
    categories,
    decide,
    incomplete_finding,
    risk,
)
from openxiv.integrity.classifier import InjectionClassifier
from openxiv.integrity.errors import CheckFailures, UnreadableDocument, UnsupportedDocument
from openxiv.integrity.pdf_extract import PageContent, _Reader, close_page, read_page, visible_text_of
from openxiv.integrity.pdf_structure import (
    PdfStructure,
    check_inflation,
    open_pdf,
    read_structure,
    remapped_text,
)
from openxiv.integrity.schemas import Action, Category, Finding, IntegrityReport, Judge
from openxiv.integrity.settings import IntegritySettings
from openxiv.integrity.source_extract import visible_and_hidden
from openxiv.integrity.textscan import strip_invisible
from openxiv.integrity.visibility import PageRenderer, body_size, classify_page

MARKDOWN_EXT = {".md", ".markdown", ".mdown", ".mkd", ".txt"}
LATEX_EXT = {".tex", ".latex", ".ltx"}


def detect_kind(data: bytes, filename: str | None = None) -> str:
    """pdf, markdown, latex or text; raises UnsupportedDocument for anything else."""
    if not data:
        raise UnreadableDocument("the file is empty (0 bytes)")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    ext = ("." + filename.rsplit(".", 1)[-1].lower()) if filename and "." in filename else ""
    if ext == ".pdf":
        raise UnreadableDocument("the file is named .pdf but has no PDF header (damaged or not a PDF)")
    for magic, what in (
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
        (b"\x7fELF", "an executable"),
        (b"\x1f\x8b", "a gzip archive"),
    ):
        if data.startswith(magic):
            raise UnsupportedDocument(f"the file is {what}; upload a PDF, Markdown or LaTeX document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedDocument("the file is neither a PDF nor UTF-8 text (Markdown or LaTeX)") from None
    if "\x00" in text:
        raise UnsupportedDocument("the file contains NUL bytes; it is not a text document")
    if ext in LATEX_EXT:
        return "latex"
    if ext in MARKDOWN_EXT:
        return "markdown"
    if any(
        marker in text[:20000]
        for marker in ("\\documentclass", "\\begin{document}", "\\section{", "\\usepackage")
    ):
        return "latex"
    if ext and ext not in MARKDOWN_EXT:
        raise UnsupportedDocument(
            f"files ending in {ext} are not supported; upload a PDF, Markdown or LaTeX document"
        )
    return "markdown"


class _Clock:
    def __init__(self, budget_s: float) -> None:
        self.start = time.perf_counter()
        self.deadline = self.start + budget_s
        self.budget_s = budget_s
        self.timings: dict[str, float] = {}
        self._last = self.start

    def check(self) -> None:
        if time.perf_counter() > self.deadline:
            raise UnreadableDocument(f"the scan took longer than its {self.budget_s:g} s budget")

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + (now - self._last) * 1000, 3)
        self._last = now


@contextmanager
def _pdfium_document(data: bytes) -> Iterator[pdfium.PdfDocument]:
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        message = str(error).lower()
        if "password" in message:
            raise UnreadableDocument(
                "the PDF is encrypted with a password; upload an unencrypted file"
            ) from None
        raise UnreadableDocument(f"the PDF cannot be opened ({' '.join(str(error).split())[:120]})") from None
    try:
        yield doc
    finally:
        doc.close()


# Glyph-remap issues by `id()`, with the text the page shows and the text extraction reads.
RemappedText = dict[int, tuple[str, str]]


def _pdf_view(data: bytes, settings: IntegritySettings, clock: _Clock) -> DocumentView:
    """Stages 1 and 2 on a PDF: the file's structure (pikepdf), then each page's text and what of
    it is visible (pdfium), then the text that lives outside the pages."""
    checks = CheckFailures()
    structure, pages, remaps = _read_structure(data, settings, checks)
    clock.lap("structure")
    view = DocumentView(kind="pdf", page_count=pages, visible_pages=[], full_pages=[])
    _read_pages(data, view, structure, settings=settings, clock=clock, checks=checks)
    _add_metadata_and_annotations(view, structure)
    _add_attachments_and_scripts(view, structure)
    _add_font_issues(view, structure, remaps)
    view.structural += [incomplete_finding(check, page, reason) for check, page, reason in checks.failures]
    return view


def _read_structure(
    data: bytes, settings: IntegritySettings, checks: CheckFailures
) -> tuple[PdfStructure, int, RemappedText]:
    """The document's structure, its page count (refused when empty or over the limit) and, for
    each glyph-remap font issue, the text drawn and the text extracted."""
    pdf = open_pdf(data)
    try:
        pages = len(pdf.pages)
        if pages == 0:
            raise UnreadableDocument("the PDF has no pages")
        if pages > settings.max_pages:
            raise UnreadableDocument(f"the PDF has {pages} pages; the limit is {settings.max_pages}")
        check_inflation(pdf, settings.max_decompressed_bytes)
        structure = read_structure(pdf, checks)
        remaps: RemappedText = {}
        for issue in structure.font_issues:
            if issue.kind == "glyph_remap":
                with checks.guard("font maps", issue.page):
                    remaps[id(issue)] = remapped_text(pdf, issue)
    finally:
        pdf.close()
    return structure, pages, remaps


def _read_pages(
    data: bytes,
    view: DocumentView,
    structure: PdfStructure,
    *,
    settings: IntegritySettings,
    clock: _Clock,
    checks: CheckFailures,
) -> None:
    """Each page's full and visible text into `view`, and its hidden text as segments. A page whose
    text cannot be read counts as empty (the failure is reported as an incomplete check)."""
    with _pdfium_document(data) as doc:
        reader = _Reader()
        contents: list[tuple[pdfium.PdfPage | None, PageContent | None]] = []
        for i in range(len(doc)):
            clock.check()
            page, content = None, None
            with checks.guard("page text", i + 1):
                page = doc[i]
                content = read_page(page, i + 1, reader)
            contents.append((page, content))
        clock.lap("extract")
        # The body font size is the document's, so every page is judged against the same size.
        body = body_size([c for _, c in contents if c is not None])
        for number, (page, content) in enumerate(contents, start=1):
            clock.check()
            if page is None or content is None:
                view.visible_pages.append("")
                view.full_pages.append("")
                if page is not None:
                    page.close()
                continue
            _read_visibility(
                view, page, content, number, structure, settings=settings, body=body, checks=checks
            )
            close_page(content)
            page.close()
        clock.lap("layout_rules")


def _read_visibility(
    view: DocumentView,
    page: pdfium.PdfPage,
    content: PageContent,
    number: int,
    structure: PdfStructure,
    *,
    settings: IntegritySettings,
    body: float,
    checks: CheckFailures,
) -> None:
    with checks.guard("visibility", number):
        classify_page(
            content,
            settings=settings,
            hidden_layers=structure.hidden_layers,
            body=body,
            renderer=PageRenderer(page),
        )
    for t in content.texts:
        if t.hidden:
            reasons = [(Category(c), e) for c, e in t.hidden]
            view.hidden.append(Segment(t.text, content.number, [round(v, 2) for v in t.box], "body", reasons))
    visible = content.full_text
    with checks.guard("visible text", number):
        visible = visible_text_of(content)
    view.visible_pages.append(strip_invisible(visible))
    view.full_pages.append(content.full_text)


def _add_metadata_and_annotations(view: DocumentView, structure: PdfStructure) -> None:
    """Text no reader sees on a page (Info, XMP, image metadata, annotations), as hidden segments."""
    for key, value in structure.info.items():
        view.document_level.append(
            Segment(
                value,
                location=f"metadata:{key}",
                hidden=[(Category.METADATA, f"document information field /{key}")],
            )
        )
    if structure.xmp_text:
        view.document_level.append(
            Segment(
                structure.xmp_text,
                location="metadata:xmp",
                hidden=[(Category.METADATA, "XMP metadata packet")],
            )
        )
    for text in structure.image_texts:
        view.document_level.append(
            Segment(
                text, location="image-metadata", hidden=[(Category.METADATA, "text inside an image file")]
            )
        )
    for annot in structure.annotations:
        state = "hidden " if annot.hidden else ""
        view.document_level.append(
            Segment(
                annot.text,
                page=annot.page,
                box=annot.rect or None,
                location="annotation",
                hidden=[(Category.ANNOTATION, f"{state}{annot.subtype} annotation text")],
            )
        )


def _add_attachments_and_scripts(view: DocumentView, structure: PdfStructure) -> None:
    """Embedded files and JavaScript: a structural finding each, and their text as hidden text."""
    for name, payload in structure.attachments:
        view.structural.append(
            Finding(
                category=Category.ATTACHMENT_SCRIPT,
                score=0.1,
                location=f"attachment:{name}",
                text=name,
                evidence=f"embedded file {name!r}",
            )
        )
        text = _attachment_text(payload)
        if text:
            view.document_level.append(
                Segment(
                    text,
                    location=f"attachment:{name}",
                    hidden=[(Category.ATTACHMENT_SCRIPT, f"text of the embedded file {name!r}")],
                )
            )
    for script in structure.javascript:
        view.structural.append(
            Finding(
                category=Category.ATTACHMENT_SCRIPT,
                score=0.3,
                location="javascript",
                text=script[:500],
                evidence="the PDF carries JavaScript, which a submission never needs",
            )
        )
        view.document_level.append(
            Segment(script, location="javascript", hidden=[(Category.ATTACHMENT_SCRIPT, "JavaScript source")])
        )


def _add_font_issues(view: DocumentView, structure: PdfStructure, remaps: RemappedText) -> None:
    """Fonts whose map lies about the glyphs drawn, and invisible characters in font maps."""
    for issue in structure.font_issues:
        if issue.kind != "glyph_remap":
            view.structural.append(
                Finding(
                    category=Category.INVISIBLE_CHARS, score=0.3, page=issue.page, evidence=issue.evidence
                )
            )
            continue
        shown, extracted = remaps.get(id(issue), ("", ""))
        if len(_letters_that_disagree(shown, extracted)) < 3:
            continue  # the codes the page draws agree: a stale map for unused codes is harmless
        if issue.page <= len(view.visible_pages):
            view.drawn.append((issue.page, shown))
        view.structural.append(
            Finding(
                category=Category.GLYPH_REMAP,
                score=0.35,
                page=issue.page,
                text=extracted[:500],
                evidence=f"{issue.evidence}; the page shows {shown[:80]!r}",
            )
        )
        if extracted:
            view.hidden.append(
                Segment(
                    extracted,
                    issue.page,
                    None,
                    "body",
                    [(Category.GLYPH_REMAP, "text extracted through a lying font map")],
                )
            )


def _letters_that_disagree(shown: str, extracted: str) -> set[tuple[str, str]]:
    """Pairs (drawn letter, mapped letter) that differ, over the codes the page really draws."""
    return {
        (a, b)
        for a, b in zip(shown, extracted, strict=False)
        if a.isascii() and b.isascii() and a.isalpha() and b.isalpha() and a.lower() != b.lower()
    }


def _attachment_text(payload: bytes) -> str:
    if not payload or b"\x00" in payload[:4096]:
        return ""
    try:
        return payload[:200000].decode("utf-8")
    except UnicodeDecodeError:
        return ""


def _source_view(text: str, kind: str) -> DocumentView:
    visible, regions = visible_and_hidden(text, kind)
    view = DocumentView(kind=kind, page_count=1, visible_pages=[strip_invisible(visible)], full_pages=[text])
    for region in regions:
        seg = Segment(
            region.text,
            None,
            None,
            f"source:line {region.line}",
            [(region.category, f"{region.evidence} (line {region.line})")],
        )
        if region.category in (Category.METADATA, Category.ANNOTATION):
            view.document_level.append(seg)
        else:
            view.hidden.append(seg)
    return view


def build_view(
    data: bytes,
    *,
    filename: str | None = None,
    settings: IntegritySettings | None = None,
    clock: _Clock | None = None,
) -> DocumentView:
    settings = settings or IntegritySettings()
    clock = clock or _Clock(settings.time_budget_s)
    if len(data) > settings.max_bytes:
        raise UnreadableDocument(
            f"the file is {len(data) // (1024 * 1024)} MiB; the limit is {settings.max_bytes // (1024 * 1024)} MiB"
        )
    kind = detect_kind(data, filename)
    if kind == "pdf":
        return _pdf_view(data, settings, clock)
    view = _source_view(data.decode("utf-8"), kind)
    clock.lap("extract")
    return view


def scan_document(
    data: bytes,
    *,
    filename: str | None = None,
    settings: IntegritySettings | None = None,
    judge: Judge | None = None,
    classifier: InjectionClassifier | None = None,
) -> IntegrityReport:
    """Scan a PDF, Markdown or LaTeX document for prompt injection.

    Raises `UnsupportedDocument` / `UnreadableDocument` (one-line messages) for anything else.
    `judge`, when given and enabled in settings, is asked about uncertain candidates (stage 3).
    """
    settings = settings or IntegritySettings()
    clock = _Clock(settings.time_budget_s)
    view = build_view(data, filename=filename, settings=settings, clock=clock)
    return report_for_view(view, data, settings=settings, judge=judge, classifier=classifier, clock=clock)


def report_for_view(
    view: DocumentView,
    data: bytes,
    *,
    settings: IntegritySettings,
    judge: Judge | None = None,
    classifier: InjectionClassifier | None = None,
    clock: _Clock | None = None,
) -> IntegrityReport:
    clock = clock or _Clock(settings.time_budget_s)
    findings = Analyzer(settings, classifier).run(view)
    clock.lap("semantic")
    judged = False
    if judge is not None and settings.judge_enabled:
        judged = apply_judge(findings, judge, settings)
        clock.lap("judge")
    findings.sort(key=lambda f: (-f.score, f.page or 0))
    action = decide(findings, settings)
    report = IntegrityReport(
        document_type=view.kind,
        sha256=hashlib.sha256(data).hexdigest(),
        flagged=action == Action.HOLD,
        action=action,
        risk_score=risk(findings),
        threshold=settings.flag_threshold,
        categories=categories(findings),
        findings=findings,
        visible_text="\n\f".join(view.visible_pages) if view.kind == "pdf" else view.visible_pages[0],
        page_count=view.page_count,
        char_count=sum(len(p) for p in view.full_pages),
        judge_used=judged,
    )
    clock.lap("scoring")
    report.timings = dict(clock.timings, total=round((time.perf_counter() - clock.start) * 1000, 3))
    return report


def scan_text(
    text: str, *, settings: IntegritySettings | None = None, judge: Judge | None = None
) -> IntegrityReport:
    """Scan plain text (a proposal's fields) as visible text."""
    settings = settings or IntegritySettings()
    view = DocumentView(kind="text", page_count=1, visible_pages=[strip_invisible(text)], full_pages=[text])
    return report_for_view(view, text.encode("utf-8"), settings=settings, judge=judge)


def visible_text(data: bytes, filename: str | None = None, settings: IntegritySettings | None = None) -> str:
    """The text reviewers may see: visible characters only (PDF), or the source without hidden parts."""
    view = build_view(data, filename=filename, settings=settings)
    return "\n\f".join(view.visible_pages) if view.kind == "pdf" else view.visible_pages[0]
