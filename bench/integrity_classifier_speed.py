"""Scoring speed of the integrity classifier (sentences per second, one process, one core): the
sentences of the first ICLR 2022 paper texts in ../shared/data, as the scanner sends them.

    taskset -c 0 .venv/bin/python bench/integrity_classifier_speed.py [--weights PATH] [--sentences 5000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from openxiv.integrity.classifier import InjectionClassifier
from openxiv.integrity.textscan import split_sentences
from openxiv.tooling.integrity.training import DEFAULT_DATA_DIR


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--weights", type=Path, default=None, help="classifier.npz (default: the shipped one)"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sentences: list[str] = []
    for path in sorted((args.data_dir / "iclr2022-bench" / "papers").glob("*.txt")):
        sentences += split_sentences(path.read_text(encoding="utf-8"))
        if len(sentences) >= args.sentences:
            break
    sentences = sentences[: args.sentences]
    classifier = InjectionClassifier.load(args.weights)
    classifier.predict(sentences[:100])  # warm-up
    best = min(_timed(classifier, sentences) for _ in range(args.repeats))
    mean_chars = sum(map(len, sentences)) / len(sentences)
    print(
        f"{len(sentences)} sentences (mean {mean_chars:.0f} characters): {len(sentences) / best:,.0f} sentences/s "
        f"(best of {args.repeats}), version {classifier.version}"
    )


def _timed(classifier: InjectionClassifier, sentences: list[str]) -> float:
    started = time.perf_counter()
    classifier.predict(sentences)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
