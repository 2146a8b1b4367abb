"""Geometry of the quality-trajectory chart: where each version's rating and panel score sit in
an SVG drawing. Both series are put on one 0-10 axis (the panel's 0-1 score times ten), so a
reader compares them without a second axis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openxiv.review.schemas import TrajectoryPoint

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 40


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    value: float
    version: int


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str
    marks: list[Mark]

    @property
    def path(self) -> str:
        return " ".join(f"{m.x:.1f},{m.y:.1f}" for m in self.marks)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    plot: tuple[float, float, float, float]  # left, top, right, bottom


def _y(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / 10)


def trajectory_chart(points: Sequence[TrajectoryPoint]) -> Chart | None:
    """None when no version has a rating or a panel score yet (nothing to draw)."""
    if not any(p.rating is not None or p.score_mean is not None for p in points):
        return None
    span = WIDTH - LEFT - RIGHT
    step = span / max(len(points) - 1, 1)
    xs = {p.version_number: LEFT + (step * i if len(points) > 1 else span / 2) for i, p in enumerate(points)}
    rating = [
        Mark(xs[p.version_number], _y(p.rating), p.rating, p.version_number)
        for p in points
        if p.rating is not None
    ]
    score = [
        Mark(xs[p.version_number], _y(p.score_mean * 10), round(p.score_mean * 10, 1), p.version_number)
        for p in points
        if p.score_mean is not None
    ]
    series = [
        s
        for s in (
            Series("Review rating (1-10)", "rating", rating),
            Series("Panel score (x10)", "score", score),
        )
        if s.marks
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        x_ticks=[(xs[p.version_number], f"v{p.version_number}") for p in points],
        y_ticks=[(_y(v), str(v)) for v in (0, 2, 4, 6, 8, 10)],
        plot=(LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM),
    )
