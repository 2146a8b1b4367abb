"""Pairwise accuracy: can a reviewer tell the accepted paper of a balanced pair from the rejected one?

Each pair is judged twice, once in each order, so a judge that always picks the first (or second)
paper scores exactly 0.5. The pointwise variant compares two independent Overall ratings instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from openxiv.evaluation import metrics as m
from openxiv.evaluation.datasets import Dataset
from openxiv.evaluation.decision import Predictions
from openxiv.evaluation.protocols import Cost, ReviewerUnderTest
from openxiv.evaluation.runlog import FailureStreak, RunLog

Pair = tuple[str, str]  # (accepted paper id, rejected paper id)


def build_pairs(
    dataset: Dataset,
    *,
    seed: int = m.DEFAULT_SEED,
    require_text: bool = True,
    exclude_borderline: tuple[float, float] | None = None,
    limit: int | None = None,
) -> list[Pair]:
    """Balanced accepted-vs-rejected pairs, each paper used at most once, drawn with a fixed seed.

    `exclude_borderline=(5, 6)` drops papers whose mean human rating lies in that closed range,
    as the seed paper did to keep pairs whose outcome was not a coin toss.
    """
    pool = [p for p in dataset.papers.values() if p.has_text or not require_text]
    if exclude_borderline is not None:
        low, high = exclude_borderline
        pool = [p for p in pool if not (p.ratings and low <= p.mean_rating <= high)]
    accepted = sorted(p.paper_id for p in pool if p.accepted)
    rejected = sorted(p.paper_id for p in pool if not p.accepted)
    rng = random.Random(seed)
    rng.shuffle(accepted)
    rng.shuffle(rejected)
    pairs = list(zip(accepted, rejected, strict=False))
    return pairs[:limit] if limit else pairs


def _credit(pick: str) -> float:
    """Credit for a judgement in which the accepted paper is document `a`."""
    return 0.5 if pick == "tie" else float(pick == "a")


def score_judgements(records: Sequence[dict[str, Any]], *, resamples: int, seed: int) -> dict[str, Any]:
    """Metrics from records holding the picks `forward` (accepted shown first) and `backward`.

    Picks name documents: "a" is the accepted paper, "b" the rejected one, or "tie".
    """
    if not records:
        raise ValueError("no judged pairs to score")
    forward = np.array([_credit(r["forward"]) for r in records])
    backward = np.array([_credit(r["backward"]) for r in records])
    # The same paper picked in both orders (or a tie both times) is consistent.
    consistent = np.array([r["forward"] == r["backward"] for r in records], dtype=float)
    first_chosen = np.array([(r["forward"] == "a") + (r["backward"] == "b") for r in records], dtype=float)
    ties = np.array([(r["forward"] == "tie") + (r["backward"] == "tie") for r in records], dtype=float)

    def stat(f: np.ndarray, b: np.ndarray, c: np.ndarray, fc: np.ndarray, t: np.ndarray) -> dict:
        return {
            "accuracy_ties_half": (f.mean(-1) + b.mean(-1)) / 2,
            "strict_accuracy": ((f == 1) & (b == 1)).mean(-1),
            "order_consistency": c.mean(-1),
            "first_position_rate": fc.mean(-1) / 2,
            "tie_rate": t.mean(-1) / 2,
            "accuracy_accepted_first": f.mean(-1),
            "accuracy_accepted_second": b.mean(-1),
        }

    estimates = m.bootstrap(
        stat, [forward, backward, consistent, first_chosen, ties], resamples=resamples, seed=seed
    )
    return {k: v.as_dict() for k, v in estimates.items()}


def pointwise_pairwise(
    preds: Predictions, pairs: Sequence[Pair], dataset: Dataset, *, resamples: int, seed: int
) -> dict[str, Any]:
    """Pairs scored from two Overall ratings (predicted ties = 0.5), plus the all-pairs value (= ROC-AUC)."""
    score = dict(zip(preds.paper_ids, preds.overall, strict=True))
    usable = [(a, r) for a, r in pairs if a in score and r in score]
    result: dict[str, Any] = {"name": preds.name, "source": preds.source, "pairs": len(usable)}
    if usable:
        credit = m.pairwise_from_scores([score[a] for a, _ in usable], [score[r] for _, r in usable])
        est = m.bootstrap(
            lambda c: {"accuracy_ties_half": c.mean(-1), "tie_rate": (c == 0.5).mean(-1)},
            [credit],
            resamples=resamples,
            seed=seed,
        )
        result.update({k: v.as_dict() for k, v in est.items()})
    y = np.array([dataset.papers[pid].accepted for pid in preds.paper_ids], dtype=float)
    result["all_pairs_accuracy_ties_half"] = m.Estimate(float(m.roc_auc(y, preds.overall))).as_dict()["value"]
    return result


def run_judgements(
    dataset: Dataset,
    pairs: Sequence[Pair],
    engine: ReviewerUnderTest,
    log: RunLog,
    *,
    on_item: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], Cost, int]:
    """Judge every pair in both orders; returns finished records, their cost and the failure count."""
    streak = FailureStreak(log)
    for accepted_id, rejected_id in pairs:
        key = f"{accepted_id}|{rejected_id}"
        if not (log.get(key) or {}).get("ok"):
            a = dataset.papers[accepted_id].model_input()
            r = dataset.papers[rejected_id].model_input()
            try:
                verdict = engine.compare(a, r)
            except Exception as error:  # one failed pair must not lose the others
                message = f"{type(error).__name__}: {error}"[:500]
                log.add(key, {"ok": False, "error": message})
                streak.failed(message)
            else:
                streak.ok()
                log.add(
                    key,
                    {
                        "ok": True,
                        "accepted": accepted_id,
                        "rejected": rejected_id,
                        "forward": verdict.a_first,
                        "backward": verdict.b_first,
                        "cost": verdict.cost.as_dict(),
                    },
                )
        if on_item:
            on_item(key)
    keys = {f"{a}|{r}" for a, r in pairs}
    records = [item for item in log.items() if item["key"] in keys]
    cost = Cost()
    for item in records:
        cost = cost.plus(Cost.from_dict(item.get("cost")))
    good = [item for item in records if item.get("ok")]
    return good, cost, len(records) - len(good)


def pairwise_section(
    *,
    pairs: Sequence[Pair],
    judged: Sequence[tuple[str, list[dict[str, Any]], Cost, int]],
    pointwise: Sequence[dict[str, Any]],
    seed: int,
    resamples: int,
    exclude_borderline: tuple[float, float] | None,
) -> dict[str, Any]:
    judges = []
    for name, records, cost, failed in judged:
        entry: dict[str, Any] = {
            "name": name,
            "pairs": len(records),
            "failed": failed,
            "cost": cost.as_dict(),
        }
        if records:
            entry.update(score_judgements(records, resamples=resamples, seed=seed))
        judges.append(entry)
    return {
        "settings": {
            "pairs": len(pairs),
            "seed": seed,
            "resamples": resamples,
            "exclude_borderline": list(exclude_borderline) if exclude_borderline else None,
        },
        "judges": judges,
        "pointwise": list(pointwise),
    }
