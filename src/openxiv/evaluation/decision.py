"""Accept/reject agreement of a reviewer with venue decisions, and rating correlation with humans."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openxiv.evaluation import metrics as m
from openxiv.evaluation.datasets import Dataset, ReviewerRun
from openxiv.evaluation.protocols import Cost, ReviewerUnderTest
from openxiv.evaluation.runlog import FailureStreak, RunLog

DEFAULT_THRESHOLD = 6.0
# The NeurIPS form's Overall runs 1..10; ICLR 2022 ratings use 1,3,5,6,8,10. Sweep every step.
SWEEP_THRESHOLDS = tuple(float(t) for t in range(2, 11))


@dataclass(frozen=True)
class Predictions:
    """One reviewer's outputs on the papers it reviewed (aligned arrays)."""

    name: str
    source: str  # "stored" or "model:<alias>"
    paper_ids: tuple[str, ...]
    overall: np.ndarray
    accept: np.ndarray
    missing: tuple[str, ...] = ()
    cost: Cost = field(default_factory=Cost)


def predictions_from_run(run: ReviewerRun, dataset: Dataset) -> Predictions:
    ids = tuple(pid for pid in dataset.papers if pid in run.reviews)
    missing = tuple(pid for pid in dataset.papers if pid not in run.reviews)
    return Predictions(
        name=run.name,
        source="stored",
        paper_ids=ids,
        overall=np.array([run.reviews[i].overall for i in ids], dtype=float),
        accept=np.array([run.reviews[i].accept for i in ids], dtype=float),
        missing=missing,
    )


def _estimates(block: dict[str, m.Estimate]) -> dict[str, Any]:
    return {k: v.as_dict() for k, v in block.items()}


def evaluate_predictions(
    dataset: Dataset,
    preds: Predictions,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    resamples: int = m.DEFAULT_RESAMPLES,
    seed: int = m.DEFAULT_SEED,
) -> dict[str, Any]:
    """Every decision and correlation figure for one reviewer, as a JSON-able dict."""
    if not preds.paper_ids:
        raise ValueError(f"reviewer {preds.name!r} has no reviews of papers in {dataset.name}")
    papers = [dataset.papers[pid] for pid in preds.paper_ids]
    y = np.array([p.accepted for p in papers], dtype=float)
    mean_human = np.array([p.mean_rating for p in papers], dtype=float)
    ratings = m.padded_ratings([p.ratings for p in papers])
    at_threshold = (preds.overall >= threshold).astype(float)
    sweep = m.threshold_sweep(y, preds.overall, SWEEP_THRESHOLDS)
    best = m.best_threshold(sweep)
    has_human = np.isfinite(mean_human)
    correlations: dict[str, Any] = {}
    if has_human.sum() >= 3:
        correlations["with_mean_human_rating"] = _estimates(
            m.correlation_report(
                preds.overall[has_human], mean_human[has_human], resamples=resamples, seed=seed
            )
        )
        correlations["with_single_reviewer"] = _estimates(
            m.model_vs_single_reviewer(preds.overall, ratings, resamples=resamples, seed=seed)
        )
    auc = m.bootstrap(
        lambda yy, ss: {"roc_auc": m.roc_auc(yy, ss)}, [y, preds.overall], resamples=resamples, seed=seed
    )["roc_auc"]
    # Credit for ranking a random accepted paper above a random rejected one (ties half): the
    # pointwise-derived pairwise accuracy over all accepted x rejected pairs. Equals ROC-AUC.
    return {
        "name": preds.name,
        "source": preds.source,
        "n_papers": len(preds.paper_ids),
        "n_accepted": int(y.sum()),
        "missing": len(preds.missing),
        "own_decision": _estimates(m.decision_report(y, preds.accept, resamples=resamples, seed=seed)),
        "overall_threshold": {
            "threshold": threshold,
            **_estimates(m.decision_report(y, at_threshold, resamples=resamples, seed=seed)),
        },
        "roc_auc_overall": auc.as_dict(),
        "best_threshold": {"threshold": best, **next(r for r in sweep if r["threshold"] == best)},
        "sweep": sweep,
        "correlation": correlations,
        "cost": preds.cost.as_dict(),
    }


def human_baseline(
    dataset: Dataset,
    paper_ids: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    resamples: int = m.DEFAULT_RESAMPLES,
    seed: int = m.DEFAULT_SEED,
) -> dict[str, Any]:
    papers = [dataset.papers[pid] for pid in paper_ids if dataset.papers[pid].ratings]
    if not papers:
        return {"available": False, "reason": "no individual reviewer ratings in this data set"}
    y = np.array([p.accepted for p in papers], dtype=float)
    ratings = m.padded_ratings([p.ratings for p in papers])
    multi = ratings[np.isfinite(ratings).sum(1) >= 2]
    return {
        "available": True,
        "n_papers": len(papers),
        "mean_reviewers_per_paper": round(float(np.isfinite(ratings).sum(1).mean()), 3),
        "single_reviewer_decision": {
            "threshold": threshold,
            **_estimates(m.human_decision_baseline(y, ratings, threshold, resamples=resamples, seed=seed)),
        },
        "correlation": {
            k: _estimates(v)
            for k, v in m.human_correlation_baseline(multi, resamples=resamples, seed=seed).items()
        }
        if len(multi) >= 3
        else {},
    }


def decision_section(
    dataset: Dataset,
    predictions: Sequence[Predictions],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    resamples: int = m.DEFAULT_RESAMPLES,
    seed: int = m.DEFAULT_SEED,
    on_reviewer: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    reviewers = []
    for preds in predictions:
        reviewers.append(
            evaluate_predictions(dataset, preds, threshold=threshold, resamples=resamples, seed=seed)
        )
        if on_reviewer:
            on_reviewer(preds.name)
    covered = sorted({pid for p in predictions for pid in p.paper_ids})
    return {
        "dataset": {
            "name": dataset.name,
            "source": dataset.source,
            "papers": len(dataset.papers),
            "accepted": sum(p.accepted for p in dataset.papers.values()),
        },
        "settings": {
            "threshold": threshold,
            "resamples": resamples,
            "seed": seed,
            "interval": "percentile 95%",
        },
        "human_baseline": human_baseline(
            dataset, covered, threshold=threshold, resamples=resamples, seed=seed
        ),
        "reviewers": reviewers,
    }


def run_engine_reviews(
    dataset: Dataset,
    engine: ReviewerUnderTest,
    log: RunLog,
    *,
    limit: int | None = None,
    on_item: Callable[[str], None] | None = None,
) -> Predictions:
    """Review every paper that has text (skipping those already in `log`) and collect predictions."""
    papers = dataset.with_text[:limit] if limit else dataset.with_text
    if not papers:
        raise ValueError(f"{dataset.name}: no paper texts to review")
    streak = FailureStreak(log)
    for paper in papers:
        if not (log.get(paper.paper_id) or {}).get("ok"):  # new, or failed last time: (re)try
            try:
                verdict = engine.review(paper.model_input())
            except Exception as error:
                log_error = f"{type(error).__name__}: {error}"
                log.add(paper.paper_id, {"ok": False, "error": log_error[:500]})
                streak.failed(log_error)
            else:
                streak.ok()
                log.add(
                    paper.paper_id,
                    {
                        "ok": True,
                        "overall": verdict.overall,
                        "accept": verdict.accept,
                        "cost": verdict.cost.as_dict(),
                    },
                )
        if on_item:
            on_item(paper.paper_id)
    done = {p.paper_id: log.get(p.paper_id) or {} for p in papers}
    good = [
        pid
        for pid, d in done.items()
        if d.get("ok") and isinstance(d.get("overall"), int | float) and math.isfinite(d["overall"])
    ]
    cost = Cost()
    for item in done.values():
        cost = cost.plus(Cost.from_dict(item.get("cost")))
    return Predictions(
        name=engine.name,
        source=f"model:{engine.name}",
        paper_ids=tuple(good),
        overall=np.array([float(done[pid]["overall"]) for pid in good], dtype=float),
        accept=np.array([bool(done[pid]["accept"]) for pid in good], dtype=float),
        missing=tuple(pid for pid in done if pid not in set(good)),
        cost=cost,
    )
