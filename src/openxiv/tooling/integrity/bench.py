"""`openxiv bench integrity`: generate the labelled corpus, scan it, and report detection quality
and speed, with the plain pypdfium2 per-character extraction timed on the same files."""

from __future__ import annotations

import ctypes
import json
import math
import platform
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from openxiv.integrity.errors import DocumentError
from openxiv.integrity.scanner import scan_document
from openxiv.integrity.schemas import Action, IntegrityReport
from openxiv.integrity.settings import IntegritySettings
from openxiv.tooling.integrity.corpus import (
    EXPECTED_CATEGORY,
    EXTRA_TYPES,
    MAIN_TYPES,
    QUICK_PLAN,
    CorpusPlan,
    Label,
    generate_corpus,
)


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(successes: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(successes, n)
    return {
        "value": round(successes / n, 4) if n else None,
        "k": successes,
        "n": n,
        "ci95": [round(lo, 4), round(hi, 4)],
    }


def baseline_extract(data: bytes) -> int:
    """What pypdfium2 alone costs: every character's code point, box, size, colours, render mode, angle."""
    doc = pdfium.PdfDocument(data)
    total = 0
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    try:
        for page in doc:
            textpage = page.get_textpage()
            tp = textpage.raw
            for i in range(pdfium_c.FPDFText_CountChars(tp)):
                pdfium_c.FPDFText_GetUnicode(tp, i)
                pdfium_c.FPDFText_GetCharBox(tp, i, left, right, bottom, top)
                pdfium_c.FPDFText_GetFontSize(tp, i)
                pdfium_c.FPDFText_GetFillColor(tp, i, r, g, b, a)
                pdfium_c.FPDFText_GetStrokeColor(tp, i, r, g, b, a)
                obj = pdfium_c.FPDFText_GetTextObject(tp, i)
                if obj:
                    pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
                pdfium_c.FPDFText_GetCharAngle(tp, i)
                total += 1
            textpage.close()
            page.close()
    finally:
        doc.close()
    return total


def _overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] <= b[2] + 2 and b[0] <= a[2] + 2 and a[1] <= b[3] + 2 and b[1] <= a[3] + 2


def _words(text: str) -> set[str]:
    return {w for w in "".join(ch.lower() if ch.isalnum() else " " for ch in text).split() if len(w) > 2}


def localised(label: Label, report: IntegrityReport) -> bool:
    """Does a finding (score >= 0.3) point at one of the ground-truth spans?"""
    strong = [f for f in report.findings if f.score >= 0.3]
    for span in label.spans:
        for f in strong:
            if span.location != "body" and (
                f.location == span.location or (span.location == "source" and f.location.startswith("source"))
            ):
                return True
            if span.box and f.box and f.page == span.page and _overlaps(span.box, f.box):
                return True
            gold = _words(span.text)
            if gold and f.text and len(gold & _words(f.text)) >= 0.5 * len(gold):
                return True
            if (
                span.page
                and f.page == span.page
                and span.location == "body"
                and not f.box
                and f.category in ("invisible_chars", "glyph_remap", "encoded")
            ):
                return True
    return False


def evaluate(
    corpus: Path,
    labels: list[Label],
    settings: IntegritySettings,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    rows = []
    scan_s = stage12_s = base_s = 0.0
    pdf_pages = 0
    for n, label in enumerate(labels, start=1):
        data = (corpus / "docs" / label.filename).read_bytes()
        t0 = time.perf_counter()
        try:
            report = scan_document(data, filename=label.filename, settings=settings)
            error = None
        except DocumentError as exc:
            report, error = None, str(exc)
        elapsed = time.perf_counter() - t0
        if label.format == "pdf":
            t1 = time.perf_counter()
            baseline_extract(data)
            base_s += time.perf_counter() - t1
            scan_s += elapsed
            pdf_pages += label.pages
            if report:
                stage12_s += (
                    sum(report.timings.get(k, 0.0) for k in ("structure", "extract", "layout_rules")) / 1000
                )
        rows.append((label, report, error))
        if progress:
            progress(n, len(labels))
    with (corpus / "reports.jsonl").open("w", encoding="utf-8") as fh:
        for label, report, error in rows:
            fh.write(
                json.dumps(
                    {
                        "id": label.id,
                        "label": label.label,
                        "subset": label.subset,
                        "type": label.type,
                        "risk_score": report.risk_score if report else None,
                        "flagged": bool(report and report.flagged),
                        "action": report.action.value if report else None,
                        "categories": [c.value for c in report.categories] if report else [],
                        "error": error,
                    }
                )
                + "\n"
            )
    return summarise(rows, scan_s=scan_s, stage12_s=stage12_s, base_s=base_s, pdf_pages=pdf_pages)


def summarise(
    rows: list[tuple[Label, IntegrityReport | None, str | None]],
    *,
    scan_s: float,
    stage12_s: float,
    base_s: float,
    pdf_pages: int,
) -> dict[str, Any]:
    flagged = {label.id: bool(report and report.flagged) for label, report, _ in rows}
    # Visible-only findings go on to review with a note by design; "noticed" counts them too.
    noticed = {label.id: bool(report and report.action != Action.PASS) for label, report, _ in rows}
    attacks = [r for r in rows if r[0].label == "attack"]
    cleans = [r for r in rows if r[0].label == "clean"]
    tp = sum(flagged[label.id] for label, _, _ in attacks)
    fp = sum(flagged[label.id] for label, _, _ in cleans)
    fn, tn = len(attacks) - tp, len(cleans) - fp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(attacks) if attacks else 0.0
    per_type: dict[str, Any] = {}
    for kind in MAIN_TYPES + EXTRA_TYPES:
        members = [r for r in attacks if r[0].type == kind]
        if not members:
            continue
        hits = sum(flagged[label.id] for label, _, _ in members)
        expected = EXPECTED_CATEGORY[kind]
        cat_hits = sum(1 for label, report, _ in members if report and expected in report.categories)
        # Precision of the category: reports that carry it and are flagged, that are this type.
        claimed = [
            label for label, report, _ in rows if report and report.flagged and expected in report.categories
        ]
        correct = sum(1 for label in claimed if label.type == kind)
        prec = correct / len(claimed) if claimed else 0.0
        rec = cat_hits / len(members)
        located = [label for label, report, _ in members if report and report.flagged]
        loc_hits = sum(
            1 for label, report, _ in members if report and report.flagged and localised(label, report)
        )
        by_level: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for label, _, _ in members:
            for key in (f"concealment_{label.concealment}", f"payload_{label.payload_level}"):
                by_level[key][0] += flagged[label.id]
                by_level[key][1] += 1
        heldout = [label for label, _, _ in members if label.heldout_template]
        per_type[kind] = {
            "recall": rate(hits, len(members)),
            "recall_held_or_noted": rate(sum(noticed[label.id] for label, _, _ in members), len(members)),
            "category_recall": rate(cat_hits, len(members)),
            "category_precision": round(prec, 4),
            "f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
            "localisation": rate(loc_hits, len(located)),
            "by_level": {k: rate(v[0], v[1]) for k, v in sorted(by_level.items())},
            "heldout_template_recall": rate(sum(flagged[lb.id] for lb in heldout), len(heldout)),
        }
    hard = [r for r in cleans if r[0].subset == "hard_negative"]
    plain = [r for r in cleans if r[0].subset == "clean"]
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label, _, _ in hard:
        by_kind[label.type][0] += flagged[label.id]
        by_kind[label.type][1] += 1
    all_loc = [(label, report) for label, report, _ in attacks if report and report.flagged]
    return {
        "documents": len(rows),
        "attacks": len(attacks),
        "clean": len(plain),
        "hard_negatives": len(hard),
        "errors": [f"{label.id}: {err}" for label, _, err in rows if err],
        "accuracy": rate(tp + tn, len(rows)),
        "precision": round(precision, 4),
        "recall": rate(tp, len(attacks)),
        "recall_held_or_noted": rate(sum(noticed[label.id] for label, _, _ in attacks), len(attacks)),
        "noted_clean": rate(
            sum(noticed[label.id] and not flagged[label.id] for label, _, _ in cleans), len(cleans)
        ),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "macro_f1_main_types": round(
            sum(per_type[k]["f1"] for k in MAIN_TYPES if k in per_type)
            / max(1, sum(k in per_type for k in MAIN_TYPES)),
            4,
        ),
        "fpr_clean": rate(sum(flagged[label.id] for label, _, _ in plain), len(plain)),
        "fpr_hard_negatives": rate(sum(flagged[label.id] for label, _, _ in hard), len(hard)),
        "fpr_hard_by_kind": {k: rate(v[0], v[1]) for k, v in sorted(by_kind.items())},
        "localisation": rate(sum(localised(label, report) for label, report in all_loc), len(all_loc)),
        "per_type": per_type,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "speed": {
            "pdf_pages": pdf_pages,
            "stages_1_2_pages_per_s": round(pdf_pages / stage12_s, 1) if stage12_s else None,
            "full_scan_pages_per_s": round(pdf_pages / scan_s, 1) if scan_s else None,
            "pypdfium2_per_char_pages_per_s": round(pdf_pages / base_s, 1) if base_s else None,
            "full_scan_over_pypdfium2": round(scan_s / base_s, 3) if base_s else None,
        },
        "missed": sorted(label.id for label, _, _ in attacks if not flagged[label.id]),
        "false_positives": sorted(label.id for label, _, _ in cleans if flagged[label.id]),
    }


def run_benchmark(
    out: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    settings: IntegritySettings | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    plan: CorpusPlan = QUICK_PLAN if quick else CorpusPlan()
    settings = settings or IntegritySettings()
    t0 = time.perf_counter()
    labels = generate_corpus(
        out, seed, plan, progress=(lambda i, n: progress("generate", i, n)) if progress else None
    )
    generated_s = time.perf_counter() - t0
    results = evaluate(
        out, labels, settings, progress=(lambda i, n: progress("scan", i, n)) if progress else None
    )
    results["seed"] = seed
    results["quick"] = quick
    results["plan"] = asdict(plan)
    results["generation_s"] = round(generated_s, 1)
    results["machine"] = (
        f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    )
    results["threshold"] = settings.flag_threshold
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), "utf-8")
    return results
