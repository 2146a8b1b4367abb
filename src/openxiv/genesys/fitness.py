"""Fitness from verification results, parent selection, and rank correlation (no torch).

A rung's score for one seed is the mean over tasks of (accuracy − random baseline); a design's
fitness is the mean of its rung scores (each averaged over seeds) over the rungs it was verified
on, and its uncertainty the standard deviation over seeds carried through that mean.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    rung: str
    seed: int
    task: str
    score: float
    baseline: float


@dataclass(frozen=True)
class RungScore:
    rung: str
    mean: float
    std: float
    seeds: int
    per_task: dict[str, float]


@dataclass(frozen=True)
class Fitness:
    value: float
    std: float
    rungs: tuple[RungScore, ...]


def rung_scores(results: Iterable[Result], tasks: Sequence[str]) -> list[RungScore]:
    """Per rung, only seeds with a result for every task count (a half-finished seed would skew
    the mean towards the tasks that happen to be done)."""
    by_rung: dict[str, dict[int, dict[str, Result]]] = defaultdict(lambda: defaultdict(dict))
    for r in results:
        by_rung[r.rung][r.seed][r.task] = r
    out = []
    for rung, seeds in by_rung.items():
        complete = {seed: found for seed, found in seeds.items() if all(t in found for t in tasks)}
        if not complete:
            continue
        per_seed = [
            statistics.fmean(found[t].score - found[t].baseline for t in tasks) for found in complete.values()
        ]
        per_task = {t: statistics.fmean(f[t].score - f[t].baseline for f in complete.values()) for t in tasks}
        std = statistics.stdev(per_seed) if len(per_seed) > 1 else 0.0
        out.append(RungScore(rung, statistics.fmean(per_seed), std, len(per_seed), per_task))
    return out


def fitness(results: Iterable[Result], tasks: Sequence[str]) -> Fitness | None:
    scores = rung_scores(results, tasks)
    if not scores:
        return None
    value = statistics.fmean(s.mean for s in scores)
    std = math.sqrt(sum(s.std**2 for s in scores)) / len(scores)
    return Fitness(value, std, tuple(scores))


def select_parents(
    ranked: Sequence[tuple[int, float]], count: int, rng: random.Random, explore: float
) -> list[int]:
    """`count` distinct design ids. With probability 1 − `explore` a pick exploits: designs are
    weighted by 1/(rank+1), so the best is likeliest but not certain; otherwise it explores:
    any design, uniformly."""
    pool = sorted(ranked, key=lambda item: item[1], reverse=True)
    chosen: list[int] = []
    while pool and len(chosen) < count:
        if rng.random() < explore:
            index = rng.randrange(len(pool))
        else:
            weights = [1.0 / (rank + 1) for rank in range(len(pool))]
            index = rng.choices(range(len(pool)), weights=weights)[0]
        chosen.append(pool.pop(index)[0])
    return chosen


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (ties get average ranks); None when it is undefined."""
    if len(x) != len(y) or len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks
