"""Speed of the integrity scan on dense two-column pages (about 5,000 characters each), against
plain pypdfium2 per-character extraction of the same file, measured in one process.

    .venv/bin/python bench/integrity_dense.py [--pages 20]
"""

from __future__ import annotations

import argparse
import random
import time

from openxiv.integrity.scanner import scan_document
from openxiv.tooling.integrity import corpus_text as T
from openxiv.tooling.integrity.bench import baseline_extract
from openxiv.tooling.pdfwriter import PdfDocument


def dense_pdf(pages: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    doc = PdfDocument()
    ctx = T.topic(rng)
    for _ in range(pages):
        page = doc.new_page()
        for col in (0, 1):
            y = 740.0
            while y > 60:
                line = " ".join(T.academic_sentence(rng, ctx).split()[:9])
                page.text(54 + col * 264, y, line[:58], size=9, font="F3")
                y -= 11
    return doc.to_bytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = dense_pdf(args.pages)
    scan_document(data)  # warm up: classifier load, imports
    chars = baseline_extract(data)
    best_scan = best_base = float("inf")
    stage12 = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        report = scan_document(data)
        best_scan = min(best_scan, time.perf_counter() - t0)
        stage12 = min(
            stage12, sum(report.timings[k] for k in ("structure", "extract", "layout_rules")) / 1000
        )
        t0 = time.perf_counter()
        baseline_extract(data)
        best_base = min(best_base, time.perf_counter() - t0)
    pages = args.pages
    print(f"{pages} pages, {chars / pages:.0f} chars/page, flagged={report.flagged}")
    print(f"stages 1-2: {pages / stage12:.1f} pages/s; full scan: {pages / best_scan:.1f} pages/s")
    print(
        f"pypdfium2 per-char: {pages / best_base:.1f} pages/s; full scan / pypdfium2 = {best_scan / best_base:.2f}"
    )


if __name__ == "__main__":
    main()
