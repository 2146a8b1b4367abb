"""Calibrating the score threshold of the panel's score-derived decision on labelled data."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from pydantic import BaseModel


class Calibration(BaseModel):
    threshold: float
    accuracy: float
    n: int
    positives: int


def calibrate_threshold(scores: Sequence[float], accepted: Sequence[bool]) -> Calibration:
    """The threshold on panel scores (0..1) that best reproduces the labels ("accept when >= t").

    Candidates are midpoints between neighbouring distinct scores (plus both ends); ties in
    accuracy go to the threshold nearest 0.5, so that small label sets do not push it to an edge.
    """
    if len(scores) != len(accepted):
        raise ValueError("scores and labels differ in length")
    if not scores:
        raise ValueError("no labelled scores to calibrate on")
    distinct = sorted(set(float(s) for s in scores))
    candidates = [
        0.0,
        *((a + b) / 2 for a, b in itertools.pairwise(distinct)),
        distinct[-1] + 1e-9,
    ]
    best: tuple[float, float, float] | None = None  # (accuracy, -distance to 0.5, threshold)
    for threshold in candidates:
        correct = sum((score >= threshold) == label for score, label in zip(scores, accepted, strict=True))
        key = (correct / len(scores), -abs(threshold - 0.5), threshold)
        if best is None or key > best:
            best = key
    assert best is not None
    return Calibration(
        threshold=round(min(1.0, best[2]), 6),
        accuracy=round(best[0], 4),
        n=len(scores),
        positives=sum(accepted),
    )
