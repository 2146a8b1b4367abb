"""Agreement metrics for accept/reject predictions and ratings, with seeded bootstrap intervals.

Every function works on a leading batch axis, so a bootstrap is one call on an index matrix of
shape (resamples, n) instead of a Python loop over resamples. Predictions may be fractional
(the probability of "accept"); the human baseline uses that to average over a paper's reviewers.
Undefined values (no positives in a resample, constant ratings, ...) come out as NaN and are left
out of the percentiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


def rankdata(values: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    """Average ranks (ties share their mean rank); scipy is imported on first use because it
    adds seconds to every `openxiv` start-up."""
    from scipy.stats import rankdata as scipy_rankdata

    return np.asarray(scipy_rankdata(values, axis=axis), dtype=float)


FloatArray = NDArray[np.float64]

DECISION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "fpr",
    "fnr",
    "accept_rate",
    "tpr",
    "tnr",
)
DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 2022
_CHUNK_CELLS = 4_000_000  # elements per bootstrap chunk: bounds memory at a few tens of MB


@dataclass(frozen=True)
class Estimate:
    """A point value with its bootstrap 95% interval (NaN bounds when no bootstrap was run)."""

    value: float
    low: float = float("nan")
    high: float = float("nan")

    def as_dict(self) -> dict[str, float | None]:
        return {"value": _clean(self.value), "ci_low": _clean(self.low), "ci_high": _clean(self.high)}


def _clean(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def decision_metrics(y_true: ArrayLike, p_accept: ArrayLike) -> dict[str, FloatArray]:
    """Confusion-matrix metrics along the last axis; accept is the positive class.

    `p_accept` is 0/1 for hard decisions or a fraction for an expected decision.
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p_accept, dtype=float)
    tp = (y * p).sum(-1)
    fp = ((1 - y) * p).sum(-1)
    fn = (y * (1 - p)).sum(-1)
    tn = ((1 - y) * (1 - p)).sum(-1)
    n = tp + fp + fn + tn
    tpr = _ratio(tp, tp + fn)
    tnr = _ratio(tn, tn + fp)
    return {
        "accuracy": _ratio(tp + tn, n),
        "balanced_accuracy": (tpr + tnr) / 2,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "fpr": _ratio(fp, fp + tn),
        "fnr": _ratio(fn, fn + tp),
        "accept_rate": _ratio(tp + fp, n),
        "tpr": tpr,
        "tnr": tnr,
    }


def roc_auc(y_true: ArrayLike, score: ArrayLike) -> FloatArray:
    """ROC-AUC of a continuous score along the last axis (Mann-Whitney, ties count one half)."""
    y = np.asarray(y_true, dtype=float)
    ranks = rankdata(np.asarray(score, dtype=float), axis=-1)
    n_pos = y.sum(-1)
    n_neg = y.shape[-1] - n_pos
    rank_sum = (ranks * y).sum(-1)
    return _ratio(rank_sum - n_pos * (n_pos + 1) / 2, n_pos * n_neg)


def pearson(x: ArrayLike, z: ArrayLike, weights: ArrayLike | None = None) -> FloatArray:
    """(Weighted) Pearson correlation along the last axis; zero weights drop an element."""
    a = np.asarray(x, dtype=float)
    b = np.asarray(z, dtype=float)
    w = np.ones(np.broadcast(a, b).shape) if weights is None else np.asarray(weights, dtype=float)
    a = np.where(w > 0, a, 0.0)
    b = np.where(w > 0, b, 0.0)
    total = w.sum(-1, keepdims=True)
    mean_a = _ratio((w * a).sum(-1, keepdims=True), total)
    mean_b = _ratio((w * b).sum(-1, keepdims=True), total)
    da, db = a - mean_a, b - mean_b
    cov = (w * da * db).sum(-1)
    var = (w * da * da).sum(-1) * (w * db * db).sum(-1)
    return _ratio(cov, np.sqrt(var))


def spearman(x: ArrayLike, z: ArrayLike) -> FloatArray:
    """Spearman correlation along the last axis (Pearson of average ranks)."""
    return pearson(rankdata(np.asarray(x, float), axis=-1), rankdata(np.asarray(z, float), axis=-1))


def bootstrap(
    statistic: Callable[..., Mapping[str, FloatArray]],
    arrays: Sequence[NDArray[np.generic]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, Estimate]:
    """Point estimates of `statistic(*arrays)` with percentile 95% intervals over resampled rows.

    Rows (axis 0 of every array) are drawn with replacement; the statistic receives arrays with a
    leading resample axis and must reduce the row axis. Same seed and inputs, same intervals.
    """
    n = len(arrays[0])
    point = {k: float(np.asarray(v)) for k, v in statistic(*arrays).items()}
    if resamples <= 0 or n == 0:
        return {k: Estimate(v) for k, v in point.items()}
    rng = np.random.default_rng(seed)
    cells = max(n * max(int(np.prod(a.shape[1:])) for a in arrays), 1)
    chunk = max(1, min(resamples, _CHUNK_CELLS // cells))
    samples: dict[str, list[FloatArray]] = {k: [] for k in point}
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        index = rng.integers(0, n, size=(size, n))
        result = statistic(*(a[index] for a in arrays))
        for key in samples:
            samples[key].append(np.asarray(result[key], dtype=float))
        done += size
    estimates = {}
    for key, value in point.items():
        values = np.concatenate(samples[key])
        values = values[np.isfinite(values)]
        if values.size == 0:
            estimates[key] = Estimate(value)
        else:
            low, high = np.percentile(values, [2.5, 97.5])
            estimates[key] = Estimate(value, float(low), float(high))
    return estimates


# --------------------------------------------------------------------------- composite reports


def decision_report(
    y_true: ArrayLike,
    p_accept: ArrayLike,
    score: ArrayLike | None = None,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, Estimate]:
    """All decision metrics (+ ROC-AUC of `score` when given) with bootstrap intervals."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p_accept, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError("labels and predictions must be 1-D arrays of the same length")
    if score is None:
        return bootstrap(decision_metrics, [y, p], resamples=resamples, seed=seed)
    s = np.asarray(score, dtype=float)

    def stat(yy: FloatArray, pp: FloatArray, ss: FloatArray) -> dict[str, FloatArray]:
        out = decision_metrics(yy, pp)
        out["roc_auc"] = roc_auc(yy, ss)
        return out

    return bootstrap(stat, [y, p, s], resamples=resamples, seed=seed)


def correlation_report(
    x: ArrayLike, z: ArrayLike, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> dict[str, Estimate]:
    a, b = np.asarray(x, dtype=float), np.asarray(z, dtype=float)

    def stat(aa: FloatArray, bb: FloatArray) -> dict[str, FloatArray]:
        return {"pearson": pearson(aa, bb), "spearman": spearman(aa, bb)}

    return bootstrap(stat, [a, b], resamples=resamples, seed=seed)


def threshold_sweep(
    y_true: ArrayLike, score: ArrayLike, thresholds: Sequence[float]
) -> list[dict[str, float | None]]:
    """Decision metrics when accepting at `score >= t`, for every t (point values)."""
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(score, dtype=float)
    t = np.asarray(thresholds, dtype=float)[:, None]
    metrics = decision_metrics(y[None, :], (s[None, :] >= t).astype(float))
    rows = []
    for i, threshold in enumerate(thresholds):
        row: dict[str, float | None] = {"threshold": float(threshold)}
        row.update({k: _clean(float(v[i])) for k, v in metrics.items()})
        rows.append(row)
    return rows


def best_threshold(sweep: Sequence[Mapping[str, float | None]], metric: str = "balanced_accuracy") -> float:
    """The threshold with the highest `metric` (the lowest such threshold on ties)."""
    scored = [
        (row[metric] if row[metric] is not None else -1.0, -float(row["threshold"] or 0)) for row in sweep
    ]
    best = max(range(len(scored)), key=lambda i: scored[i])
    return float(sweep[best]["threshold"] or 0)


# --------------------------------------------------------------------------- human baselines


def padded_ratings(ratings: Sequence[Sequence[float]]) -> FloatArray:
    """Ragged per-paper rating lists as an (n_papers, max_reviewers) array padded with NaN."""
    width = max((len(r) for r in ratings), default=0)
    out = np.full((len(ratings), max(width, 1)), np.nan)
    for i, row in enumerate(ratings):
        out[i, : len(row)] = row
    return out


def human_decision_baseline(
    y_true: ArrayLike,
    ratings: FloatArray,
    threshold: float,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, Estimate]:
    """Agreement of one reviewer, picked at random per paper, who accepts at rating >= threshold.

    The prediction for a paper is the share of its reviewers at or above the threshold, i.e. the
    expected decision of a randomly drawn reviewer; a paper's own ratings fed its decision, so this
    is an optimistic ceiling for a single human rather than an independent second opinion.
    """
    valid = np.isfinite(ratings)
    counts = valid.sum(1)
    keep = counts > 0
    share = np.where(valid, ratings >= threshold, False).sum(1)[keep] / counts[keep]
    return decision_report(np.asarray(y_true, float)[keep], share, resamples=resamples, seed=seed)


def _pair_matrices(ratings: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Ordered reviewer pairs (i != j) per paper, weighted so every paper counts once."""
    k = ratings.shape[1]
    first, second = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    off_diagonal = first != second
    a = ratings[:, first[off_diagonal]]
    b = ratings[:, second[off_diagonal]]
    ok = np.isfinite(a) & np.isfinite(b)
    per_paper = ok.sum(1, keepdims=True)
    w = np.where(ok, 1.0 / np.maximum(per_paper, 1), 0.0)
    return np.where(ok, a, 0.0), np.where(ok, b, 0.0), w


def _loo_matrices(ratings: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each reviewer's rating against the mean of the other reviewers of the same paper."""
    valid = np.isfinite(ratings)
    counts = valid.sum(1, keepdims=True)
    total = np.where(valid, ratings, 0.0).sum(1, keepdims=True)
    ok = valid & (counts >= 2)
    others = _ratio(total - np.where(valid, ratings, 0.0), counts - 1.0)
    w = np.where(ok, 1.0 / np.maximum(counts, 1), 0.0)
    return np.where(ok, ratings, 0.0), np.where(ok, others, 0.0), w


def _moments(a: FloatArray, b: FloatArray, w: FloatArray) -> FloatArray:
    """Per-paper weighted sums (w, wa, wb, waa, wbb, wab): enough to pool papers for a Pearson."""
    return np.stack([w, w * a, w * b, w * a * a, w * b * b, w * a * b], axis=-1).sum(-2)


def _pearson_from_moments(m: FloatArray) -> FloatArray:
    total = m.sum(-2)
    sw, sa, sb, saa, sbb, sab = (total[..., i] for i in range(6))
    mean_a, mean_b = _ratio(sa, sw), _ratio(sb, sw)
    cov = _ratio(sab, sw) - mean_a * mean_b
    var = (_ratio(saa, sw) - mean_a**2) * (_ratio(sbb, sw) - mean_b**2)
    return _ratio(cov, np.sqrt(np.clip(var, 0.0, None)))


def _pooled_report(
    a: FloatArray, b: FloatArray, w: FloatArray, *, resamples: int, seed: int
) -> dict[str, Estimate]:
    """Weighted Pearson/Spearman over pooled rating pairs, bootstrapped over papers.

    Only six weighted sums per paper are resampled, which keeps 10,000 resamples cheap. Spearman
    ranks are taken once over the whole pool (ties averaged), then treated like the ratings.
    """
    used = w > 0
    ra = np.zeros(a.shape)
    rb = np.zeros(b.shape)
    ra[used] = rankdata(a[used])
    rb[used] = rankdata(b[used])
    keep = used.any(1)
    raw = _moments(a[keep], b[keep], w[keep])
    ranked = _moments(ra[keep], rb[keep], w[keep])

    def stat(m_raw: FloatArray, m_rank: FloatArray) -> dict[str, FloatArray]:
        return {"pearson": _pearson_from_moments(m_raw), "spearman": _pearson_from_moments(m_rank)}

    return bootstrap(stat, [raw, ranked], resamples=resamples, seed=seed)


def human_correlation_baseline(
    ratings: FloatArray, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> dict[str, dict[str, Estimate]]:
    """Inter-reviewer correlation: reviewer vs reviewer, and reviewer vs mean of the others."""
    return {
        "reviewer_vs_reviewer": _pooled_report(*_pair_matrices(ratings), resamples=resamples, seed=seed),
        "reviewer_vs_mean_of_others": _pooled_report(*_loo_matrices(ratings), resamples=resamples, seed=seed),
    }


def model_vs_single_reviewer(
    score: ArrayLike, ratings: FloatArray, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> dict[str, Estimate]:
    """A model's rating against each individual reviewer's rating: comparable to reviewer vs reviewer."""
    s = np.asarray(score, dtype=float)[:, None]
    valid = np.isfinite(ratings)
    w = np.where(valid, 1.0 / np.maximum(valid.sum(1, keepdims=True), 1), 0.0)
    a = np.where(valid, np.broadcast_to(s, ratings.shape), 0.0)
    return _pooled_report(a, np.where(valid, ratings, 0.0), w, resamples=resamples, seed=seed)


def pairwise_from_scores(score_a: ArrayLike, score_b: ArrayLike) -> FloatArray:
    """Per-pair credit when the higher score should win: 1 for a > b, 0.5 for a tie, 0 otherwise."""
    a = np.asarray(score_a, dtype=float)
    b = np.asarray(score_b, dtype=float)
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))
