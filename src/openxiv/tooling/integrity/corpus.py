"""The labelled benchmark corpus: clean papers (with hard negatives) and attacked papers.

`generate_corpus(out, seed)` writes `docs/<id>.(pdf|md|tex)` and `labels.jsonl`, one record per
document with the attack type, the concealment and payload difficulty, and ground-truth spans
(page, box, text, location) of every injected payload.
"""

from __future__ import annotations

import base64
import json
import random
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from openxiv.tooling.integrity import corpus_text as T
from openxiv.tooling.integrity.layout import PaperWriter, Placed, text_width, wrap
from openxiv.tooling.pdfwriter import BLANK_FONT, REMAP_FONT, PdfDocument

MAIN_TYPES = ["white_text", "metadata", "invisible_chars", "mixed_language", "encoded", "contextual"]
EXTRA_TYPES = [
    "small_text",
    "invisible_render",
    "off_page",
    "hidden_layer",
    "annotation",
    "attachment_script",
    "homoglyph_bidi",
    "glyph_remap",
]
LEVELS = ["easy", "medium", "hard"]
# The category a correct report must contain for each attack type.
EXPECTED_CATEGORY = {
    "white_text": "white_text",
    "metadata": "metadata",
    "invisible_chars": "invisible_chars",
    "mixed_language": "mixed_language",
    "encoded": "encoded",
    "contextual": "contextual_persuasion",
    "small_text": "small_text",
    "invisible_render": "invisible_render",
    "off_page": "off_page",
    "hidden_layer": "hidden_layer",
    "annotation": "annotation",
    "attachment_script": "attachment_script",
    "homoglyph_bidi": "homoglyph_bidi",
    "glyph_remap": "glyph_remap",
}
HARD_NEGATIVES = [
    "injection_discussion",
    "prompt_templates",
    "white_on_dark",
    "tiny_labels",
    "ocr_scan",
    "bilingual",
    "base64_listing",
    "reviewer_response",
    "watermark",
    "source_comments",
]
FOREIGN = ["zh", "ja", "ko", "ru", "de", "fr", "es"]


@dataclass
class Span:
    text: str
    page: int | None = None
    box: list[float] | None = None
    location: str = "body"


@dataclass
class Label:
    id: str
    filename: str
    format: str
    label: str  # clean | attack
    subset: str  # clean | hard_negative | attack
    type: str  # attack type, hard-negative kind or layout
    concealment: str = ""
    payload_level: str = ""
    payload_language: str = "en"
    heldout_template: bool = False
    pages: int = 1
    spans: list[Span] = field(default_factory=list)


def _spans(placed: list[Placed]) -> list[Span]:
    return [Span(p.text, p.page, [round(v, 2) for v in p.box]) for p in placed]


# -- clean papers -----------------------------------------------------------------------------------


def _paper(
    rng: random.Random, *, columns: int | None = None, cjk: bool = False, pages: int | None = None
) -> tuple[PdfDocument, PaperWriter, dict[str, str]]:
    doc = PdfDocument()
    ctx = T.topic(rng)
    columns = columns or rng.choice([1, 1, 2])
    w = PaperWriter(
        doc,
        rng,
        columns=columns,
        size=rng.choice([9.0, 9.5, 10.0, 10.5]) if columns == 1 else 9.0,
        font=rng.choice(["F3", "F3", "F1"]),
    )
    w.title_block(
        T.title(rng, ctx),
        rng.choice(["A. Researcher, B. Scientist", "C. Author and D. Writer", "Agent-7 (AI) and E. Human"]),
    )
    target_pages = pages or rng.choice([1, 2, 2, 3, 4])
    sections = ["Abstract", "Introduction", "Related Work", "Method", "Experiments", "Results", "Conclusion"]
    doc.info = {
        "Title": T.title(rng, ctx),
        "Author": "A. Researcher",
        "Producer": rng.choice(["pdfTeX-1.40.25", "LibreOffice 7.5", "Microsoft Word"]),
        "Keywords": f"{ctx['field']}, {ctx['task']}",
    }
    i = 0
    while len(doc.pages) < target_pages or i < 3:
        section = sections[i % len(sections)]
        w.heading(f"{i + 1 if i else ''} {section}".strip())
        for _ in range(rng.randint(1, 3)):
            if cjk:
                w.paragraph("".join(T.foreign_benign(rng, "zh") for _ in range(rng.randint(2, 4))))
            else:
                w.paragraph(T.paragraph(rng, ctx))
            roll = rng.random()
            if roll < 0.12:
                w.figure(image=rng.random() < 0.4)
            elif roll < 0.22:
                w.table(rows=rng.randint(3, 5))
            elif roll < 0.3:
                w.math()
        if rng.random() < 0.25:
            w.footnote(T.academic_sentence(rng, ctx))
        i += 1
        if i > 30:
            break
    return doc, w, ctx


LAYOUTS = ["one_column", "two_column", "figures", "tables", "cjk", "long"]


def clean_pdf(rng: random.Random) -> tuple[PdfDocument, str]:
    layout = rng.choice(LAYOUTS)
    if layout == "cjk":
        doc, w, ctx = _paper(rng, cjk=True)
    elif layout == "long":
        doc, w, ctx = _paper(rng, pages=rng.randint(5, 7))
    else:
        doc, w, ctx = _paper(rng, columns=2 if layout == "two_column" else None)
        if layout == "figures":
            w.figure(image=True)
            w.figure(image=False)
        elif layout == "tables":
            w.table(5)
            w.paragraph(T.paragraph(rng, ctx))
    return doc, layout


def hard_negative_pdf(rng: random.Random, kind: str) -> PdfDocument:
    doc, w, ctx = _paper(rng)
    if kind == "injection_discussion":
        w.heading("Threat Model")
        for _ in range(rng.randint(2, 4)):
            w.paragraph(
                " ".join(
                    [T.discussion_sentence(rng), T.academic_sentence(rng, ctx), T.discussion_sentence(rng)]
                )
            )
    elif kind == "prompt_templates":
        w.heading("Appendix A: Prompts")
        for _ in range(rng.randint(1, 3)):
            w.paragraph(T.prompt_template(rng), font="F4", size=w.size * 0.85)
    elif kind == "white_on_dark":
        w.figure(image=False, dark_box=True)
        w.ensure(40)
        w.page.rect(w.x, w.y - 30, w.col_width, 26, fill=(0.1, 0.1, 0.12))
        w.page.text(
            w.x + 6,
            w.y - 20,
            "Takeaway: " + T.academic_sentence(rng, ctx)[:60],
            size=8,
            font="F2",
            color=(1, 1, 1),
        )
        w.y -= 36
    elif kind == "tiny_labels":
        for _ in range(2):
            w.figure(image=False, label_size=rng.choice([3.6, 4.0, 4.5]))
    elif kind == "ocr_scan":
        page = doc.new_page()
        page.image(0, 0, page.width, page.height)
        y = page.height - 80
        for _ in range(rng.randint(15, 30)):
            page.text(72, y, T.academic_sentence(rng, ctx)[:90], size=10, render_mode=3)
            y -= 14
    elif kind == "bilingual":
        lang = rng.choice(FOREIGN)
        w.heading(
            {
                "zh": "摘要",
                "ja": "概要",
                "ko": "초록",
                "ru": "Аннотация",
                "de": "Zusammenfassung",
                "fr": "Résumé",
                "es": "Resumen",
            }[lang]
        )
        w.paragraph(" ".join(T.foreign_benign(rng, lang) for _ in range(3)))
    elif kind == "base64_listing":
        w.heading("Listing 1: Serialized model configuration")
        for _ in range(rng.randint(3, 6)):
            blob = base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(30, 45)))).decode()
            w.line(blob, font="F4", size=7.5)
        config = base64.b64encode(
            f"{{'lr': {rng.choice([1e-3, 3e-4])}, 'layers': {rng.randint(2, 12)}}}".encode()
        ).decode()
        w.line("cfg = " + config, font="F4", size=7.5)
    elif kind == "reviewer_response":
        w.heading("Response to Reviewers")
        for k in range(1, 4):
            w.paragraph(
                f"Reviewer {k}: {T.academic_sentence(rng, ctx)} Response: We thank the reviewer for this comment. "
                f"{T.academic_sentence(rng, ctx)} We hope the reviewer finds the revised version clearer."
            )
    elif kind == "watermark":
        for page in doc.pages:
            page.text(
                150,
                300,
                rng.choice(
                    ["PREPRINT - NOT PEER REVIEWED", "DRAFT - UNDER REVIEW", "Preprint. Under review."]
                ),
                size=36,
                color=(0.8, 0.8, 0.8),
                angle=45,
                font="F2",
            )
    return doc


# -- attacks on PDFs --------------------------------------------------------------------------------


def _blank_area(w: PaperWriter) -> tuple[float, float]:
    """A position inside the current column where an extra line can go."""
    w.ensure(30)
    x, y = w.x, w.y - 12
    w.y -= 14
    return x, y


def _draw(
    w: PaperWriter,
    text: str,
    *,
    size: float,
    color: tuple[float, float, float] = (0, 0, 0),
    font: str | None = None,
    **style: object,
) -> list[Placed]:
    placed = []
    width = w.col_width if size >= 4 else w.col_width * 3
    for chunk in wrap(text, width, size):
        x, y = _blank_area(w) if size >= 4 else (w.x, w.y - 3)
        if size < 4:
            w.y -= size * 1.3 + 1
        w.page.text(x, y, chunk, size=size, color=color, font=font, **style)  # type: ignore[arg-type]
        placed.append(
            Placed(w.page_number, [x, y - size * 0.3, x + text_width(chunk, size), y + size], chunk)
        )
    return placed


def _split(text: str, parts: int) -> list[str]:
    words = text.split()
    step = max(1, len(words) // parts)
    return [" ".join(words[i : i + step]) for i in range(0, len(words), step)]


def attack_pdf(
    rng: random.Random, kind: str, concealment: str, payload: T.Payload
) -> tuple[PdfDocument, list[Span]]:
    bilingual = kind == "mixed_language" and concealment == "hard"
    doc, w, ctx = _paper(rng)
    if bilingual:
        w.heading("Abstract (translated)")
        w.paragraph(" ".join(T.foreign_benign(rng, payload.language) for _ in range(2)))
    # Put the payload somewhere in the middle of the paper, then continue writing.
    text = payload.text
    spans: list[Span] = []
    if kind == "white_text":
        if concealment == "easy":
            spans = _spans(_draw(w, text, size=w.size, color=(1, 1, 1)))
        elif concealment == "medium":
            shade = rng.uniform(0.93, 0.98)
            spans = _spans(_draw(w, text, size=rng.choice([4.0, 5.0, 6.0]), color=(shade, shade, shade)))
        else:
            tint = rng.choice([(0.86, 0.91, 1.0), (1.0, 0.95, 0.8), (0.9, 0.97, 0.9)])
            for piece in _split(text, 3):
                w.ensure(30)
                width = min(text_width(piece, 8) + 8, w.col_width)
                w.page.rect(w.x, w.y - 14, width, 12, fill=tint)
                near = tuple(min(1.0, c + rng.uniform(-0.01, 0.01)) for c in tint)
                spans += _spans(_draw(w, piece, size=8, color=near))  # type: ignore[arg-type]
                w.paragraph(T.academic_sentence(rng, ctx))
    elif kind == "metadata":
        if concealment == "easy":
            doc.info["Subject"] = text
            spans = [Span(text, location="metadata:Subject")]
        elif concealment == "medium":
            doc.xmp_description = text
            spans = [Span(text, location="metadata:xmp")]
        else:
            key = rng.choice(["Comments", "Notes", "Description", "Trapped2"])
            doc.info[key] = f"{ctx['field']}; {ctx['task']}; {text}"
            spans = [Span(text, location=f"metadata:{key}")]
    elif kind == "invisible_chars":
        anchor = _draw(w, T.academic_sentence(rng, ctx), size=w.size)[0]
        ascii_text = text.encode("ascii", "ignore").decode()
        if concealment == "easy":
            hidden = "".join(chr(0xE0000 + ord(c)) for c in ascii_text if 0x20 <= ord(c) < 0x7F)
            w.page.text(anchor.box[2] + 2, anchor.box[1] + 2, hidden, size=w.size, font=BLANK_FONT)
        else:
            bits = "".join(f"{b:08b}" for b in ascii_text.encode())
            hidden = bits.replace("0", "\u200b").replace("1", "\u200c")
            if concealment == "hard":
                hidden = "\u2060" + hidden + "\u2060"
            w.page.text(anchor.box[2] + 2, anchor.box[1] + 2, hidden, size=w.size, font=BLANK_FONT)
        spans = [Span(text, anchor.page, anchor.box)]
    elif kind == "mixed_language":
        if concealment == "easy":
            spans = _spans(_draw(w, text, size=w.size))
        elif concealment == "medium":
            spans = _spans(w.footnote(text, size=6.0, color=(0.55, 0.55, 0.55)))
        else:
            spans = _spans(_draw(w, text, size=w.size))
    elif kind == "encoded":
        if concealment == "easy":
            encoded = base64.b64encode(text.encode()).decode()
            spans = _spans(_draw(w, f"Reviewer note (base64): {encoded}", size=7, font="F4"))
        elif concealment == "medium":
            encoded = urllib.parse.quote(text) if rng.random() < 0.5 else text.encode().hex()
            spans = _spans(_draw(w, encoded, size=7, font="F4"))
        else:
            w.heading("Listing 2: Configuration")
            for _ in range(2):
                w.line(
                    base64.b64encode(bytes(rng.randrange(256) for _ in range(36))).decode(),
                    font="F4",
                    size=7.5,
                )
            inner = urllib.parse.quote(text) if rng.random() < 0.5 else text
            encoded = base64.b64encode(inner.encode()).decode()
            spans = _spans(_draw(w, "meta = " + encoded, size=7.5, font="F4"))
    elif kind == "contextual":
        if concealment == "easy":
            spans = _spans(
                w.paragraph(
                    "Note to reviewers: " + text
                    if not text.lower().startswith(("note", "dear", "for", "to "))
                    else text
                )
            )
        elif concealment == "medium":
            w.heading("Conclusion")
            sentences = [T.academic_sentence(rng, ctx), text, T.academic_sentence(rng, ctx)]
            placed = w.paragraph(" ".join(sentences))
            spans = [Span(text, placed[0].page, _merge([p.box for p in placed]))]
        else:
            spans = _spans(w.footnote(text, size=7.0))
    elif kind == "small_text":
        size = {"easy": 1.0, "medium": 2.0, "hard": 0.5}[concealment]
        spans = _spans(_draw(w, text, size=size))
    elif kind == "invisible_render":
        if concealment == "easy":
            spans = _spans(_draw(w, text, size=w.size, render_mode=3))
        elif concealment == "medium":
            spans = _spans(_draw(w, text, size=w.size, alpha=0.0))
        else:
            spans = _spans(_draw(w, text, size=w.size, render_mode=7))
    elif kind == "off_page":
        if concealment == "easy":
            w.page.text(w.page.width + 40, 400, text, size=9)
            spans = [
                Span(
                    text,
                    w.page_number,
                    [w.page.width + 40, 398, w.page.width + 40 + text_width(text, 9), 409],
                )
            ]
        elif concealment == "medium":
            w.page.begin_clip(0, 0, 1, 1)
            placed = _draw(w, text, size=w.size)
            w.page.end_clip()
            spans = _spans(placed)
        else:
            placed = _draw(w, text, size=w.size)
            for p in placed:
                w.page.rect(
                    p.box[0] - 2,
                    p.box[1] - 2,
                    p.box[2] - p.box[0] + 4,
                    p.box[3] - p.box[1] + 4,
                    fill=(1, 1, 1),
                )
            spans = _spans(placed)
    elif kind == "hidden_layer":
        doc.hidden_layers.add("Reviewer")
        if concealment == "easy":
            spans = _spans(_draw(w, text, size=w.size, layer="Reviewer"))
        elif concealment == "medium":
            spans = _spans(_draw(w, text, size=w.size * 0.8, color=(0.6, 0.6, 0.6), layer="Reviewer"))
        else:
            for piece in _split(text, 3):
                spans += _spans(_draw(w, piece, size=w.size, layer="Reviewer"))
                w.paragraph(T.academic_sentence(rng, ctx))
    elif kind == "annotation":
        rect = (w.x, w.y - 20, w.x + 15, w.y - 5)
        w.page.annotation(rect, text, hidden=concealment != "easy")
        spans = [Span(text, w.page_number, list(rect), "annotation")]
    elif kind == "attachment_script":
        doc.attachments.append(("notes.txt", text.encode("utf-8")))
        if concealment != "easy":
            doc.javascript = "this.info.Subject; // " + ("" if concealment == "medium" else text)
        spans = [Span(text, location="attachment:notes.txt")]
    elif kind == "homoglyph_bidi":
        if concealment == "hard":
            reversed_text = "\u202e" + text[::-1] + "\u202c"
            spans = _spans(_draw(w, reversed_text, size=w.size * 0.9))
        else:
            swaps = {
                "a": "а",
                "e": "е",
                "o": "о",
                "p": "р",
                "c": "с",
                "i": "і",
                "A": "А",
                "E": "Е",
                "O": "О",
                "P": "Р",
                "C": "С",
                "I": "І",
            }
            rate = 0.5 if concealment == "easy" else 0.2
            fake = "".join(swaps[c] if c in swaps and rng.random() < rate else c for c in text)
            spans = _spans(_draw(w, fake, size=w.size))
    elif kind == "glyph_remap":
        ascii_text = text.encode("ascii", "ignore").decode()
        spans = _spans(
            _draw(w, ascii_text, size=w.size * (1 if concealment == "easy" else 0.9), font=REMAP_FONT)
        )
    else:
        raise ValueError(kind)
    w.paragraph(T.paragraph(rng, ctx))
    return doc, spans


def _merge(boxes: list[list[float]]) -> list[float]:
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


# -- Markdown and LaTeX sources ---------------------------------------------------------------------


def clean_source(rng: random.Random, fmt: str, *, hard: bool = False) -> str:
    ctx = T.topic(rng)
    paras = [T.paragraph(rng, ctx) for _ in range(rng.randint(3, 6))]
    if fmt == "markdown":
        parts = [f"# {T.title(rng, ctx)}", "", "## Abstract", "", paras[0], "", "## Method", "", *paras[1:]]
        if hard:
            parts += [
                "",
                "<!-- TODO: add the ablation table before the camera-ready version -->",
                "",
                "```python",
                'weights = "' + base64.b64encode(bytes(rng.randrange(256) for _ in range(30))).decode() + '"',
                "```",
                "",
                "> " + T.discussion_sentence(rng),
            ]
        parts += ["", '<span style="color: #1f4e79">Code: https://example.org/code</span>']
        return "\n".join(parts) + "\n"
    parts = [
        "\\documentclass{article}",
        "\\usepackage{xcolor}",
        "\\begin{document}",
        f"\\title{{{T.title(rng, ctx)}}}",
        "\\maketitle",
        "\\section{Introduction}",
        *paras[:2],
        "\\section{Method}",
        *paras[2:],
    ]
    if hard:
        parts += [
            "% TODO: tighten the related-work section",
            "% Reviewer 2 asked for more baselines; added in Table 3",
            "\\textcolor{blue}{Results are averaged over five seeds.}",
            "\\begin{verbatim}",
            "You are a reviewer. Rate the paper from 1 to 10.",
            "\\end{verbatim}",
        ]
    parts += ["\\end{document}"]
    return "\n\n".join(parts) + "\n"


def attack_source(
    rng: random.Random, fmt: str, kind: str, concealment: str, payload: T.Payload
) -> tuple[str, list[Span]]:
    base = clean_source(rng, fmt)
    text = payload.text
    if kind == "invisible_chars":
        if concealment == "easy":
            hidden = "".join(chr(0xE0000 + ord(c)) for c in text if 0x20 <= ord(c) < 0x7F)
        elif concealment == "medium":
            hidden = "".join(f"{b:08b}" for b in text.encode()).replace("0", "\u200b").replace("1", "\u200c")
        else:
            hidden = "\u200b".join(text)
        insert = "We thank our colleagues for discussions." + hidden
    elif kind == "white_text":
        insert = (
            f'<span style="color:#ffffff">{text}</span>'
            if fmt == "markdown"
            else f"\\textcolor{{white}}{{{text}}}"
        )
    elif kind == "metadata":
        insert = (
            f"---\ndescription: {text}\n---\n"
            if fmt == "markdown"
            else f"\\hypersetup{{pdfsubject={{{text}}}}}"
        )
        if fmt == "markdown":
            return insert + base, [Span(text, location="source")]
    else:
        insert = f"<!-- {text} -->" if fmt == "markdown" else f"% {text}"
    lines = base.split("\n")
    at = rng.randrange(len(lines) // 2, len(lines) - 2)
    lines.insert(at, insert)
    return "\n".join(lines), [Span(text, location="source")]


# -- the whole corpus -------------------------------------------------------------------------------


@dataclass
class CorpusPlan:
    clean: int = 320
    hard_negative_share: float = 0.36
    per_main_type: int = 54
    per_extra_type: int = 18
    source_share: float = 0.12  # of clean documents and of invisible-character attacks


QUICK_PLAN = CorpusPlan(clean=60, per_main_type=9, per_extra_type=3)


def generate_corpus(
    out: Path,
    seed: int = 0,
    plan: CorpusPlan | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Label]:
    plan = plan or CorpusPlan()
    rng = random.Random(seed)
    docs_dir = out / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    labels: list[Label] = []
    jobs: list[Callable[[], Label]] = []
    n_hard = round(plan.clean * plan.hard_negative_share)

    def write(label: Label, data: bytes) -> Label:
        (docs_dir / label.filename).write_bytes(data)
        return label

    for i in range(plan.clean):
        doc_id = f"clean-{i:04d}"
        sub_rng = random.Random(rng.random())
        if i < n_hard:
            kind = HARD_NEGATIVES[i % len(HARD_NEGATIVES)]
            if kind == "source_comments":
                jobs.append(
                    partial(
                        _source_label,
                        write,
                        doc_id,
                        "markdown" if i % 2 else "latex",
                        "hard_negative",
                        sub_rng,
                    )
                )
            else:
                jobs.append(partial(_hard_negative_label, write, doc_id, kind, sub_rng))
        elif rng.random() < plan.source_share:
            jobs.append(
                partial(_source_label, write, doc_id, rng.choice(["markdown", "latex"]), "clean", sub_rng)
            )
        else:
            jobs.append(partial(_clean_pdf_label, write, doc_id, sub_rng))
    for kind in MAIN_TYPES + EXTRA_TYPES:
        count = plan.per_main_type if kind in MAIN_TYPES else plan.per_extra_type
        for i in range(count):
            concealment = LEVELS[i % 3]
            level = LEVELS[(i // 3) % 3]
            language = FOREIGN[i % len(FOREIGN)] if kind == "mixed_language" else "en"
            as_source = kind in ("invisible_chars", "white_text") and i % 6 == 5
            doc_rng = random.Random(rng.random())
            jobs.append(
                partial(
                    _attack_label,
                    write,
                    f"{kind}-{i:03d}",
                    kind,
                    concealment,
                    level,
                    language,
                    as_source,
                    doc_rng,
                )
            )
    for n, job in enumerate(jobs, start=1):
        labels.append(job())
        if progress:
            progress(n, len(jobs))
    with (out / "labels.jsonl").open("w", encoding="utf-8") as fh:
        for label in labels:
            fh.write(json.dumps(asdict(label), ensure_ascii=False) + "\n")
    return labels


def _source_label(
    write: Callable[[Label, bytes], Label], doc_id: str, fmt: str, subset: str, rng: random.Random
) -> Label:
    ext = "md" if fmt == "markdown" else "tex"
    kind = "source_comments" if subset == "hard_negative" else fmt
    text = clean_source(rng, fmt, hard=subset == "hard_negative")
    return write(Label(doc_id, f"{doc_id}.{ext}", fmt, "clean", subset, kind), text.encode())


def _hard_negative_label(
    write: Callable[[Label, bytes], Label], doc_id: str, kind: str, rng: random.Random
) -> Label:
    return _pdf_label(write, doc_id, "hard_negative", kind, hard_negative_pdf(rng, kind))


def _pdf_label(
    write: Callable[[Label, bytes], Label], doc_id: str, subset: str, kind: str, doc: PdfDocument
) -> Label:
    return write(
        Label(doc_id, f"{doc_id}.pdf", "pdf", "clean", subset, kind, pages=len(doc.pages)), doc.to_bytes()
    )


def _clean_pdf_label(write: Callable[[Label, bytes], Label], doc_id: str, rng: random.Random) -> Label:
    doc, layout = clean_pdf(rng)
    return write(
        Label(doc_id, f"{doc_id}.pdf", "pdf", "clean", "clean", layout, pages=len(doc.pages)), doc.to_bytes()
    )


def _attack_label(
    write: Callable[[Label, bytes], Label],
    doc_id: str,
    kind: str,
    concealment: str,
    level: str,
    language: str,
    as_source: bool,
    rng: random.Random,
) -> Label:
    payload = T.payload(rng, level, language)
    common = {
        "label": "attack",
        "subset": "attack",
        "type": kind,
        "concealment": concealment,
        "payload_level": level,
        "payload_language": language,
        "heldout_template": payload.heldout,
    }
    if as_source:
        fmt = rng.choice(["markdown", "latex"])
        text, spans = attack_source(rng, fmt, kind, concealment, payload)
        return write(
            Label(doc_id, f"{doc_id}.{'md' if fmt == 'markdown' else 'tex'}", fmt, spans=spans, **common),  # type: ignore[arg-type]
            text.encode("utf-8"),
        )
    doc, spans = attack_pdf(rng, kind, concealment, payload)
    return write(
        Label(doc_id, f"{doc_id}.pdf", "pdf", pages=len(doc.pages), spans=spans, **common),  # type: ignore[arg-type]
        doc.to_bytes(),
    )


def load_labels(path: Path) -> list[Label]:
    out = []
    for line in path.read_text("utf-8").splitlines():
        raw = json.loads(line)
        raw["spans"] = [Span(**s) for s in raw["spans"]]
        out.append(Label(**raw))
    return out
