from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

from openxiv.evaluation import metrics as m

labels = st.lists(st.booleans(), min_size=4, max_size=60).filter(lambda v: 0 < sum(v) < len(v))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), y=labels)
def test_decision_metrics_agree_with_sklearn(data: st.DataObject, y: list[bool]) -> None:
    p = data.draw(st.lists(st.booleans(), min_size=len(y), max_size=len(y)))
    score = data.draw(st.lists(st.integers(1, 10), min_size=len(y), max_size=len(y)))
    out = m.decision_metrics(y, p)
    assert out["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert out["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, p))
    assert out["f1"] == pytest.approx(f1_score(y, p, zero_division=0.0))
    assert float(m.roc_auc(y, score)) == pytest.approx(roc_auc_score(y, score))
    yy, pp = np.array(y), np.array(p)
    assert out["fpr"] == pytest.approx((pp & ~yy).sum() / (~yy).sum())
    assert out["fnr"] == pytest.approx((~pp & yy).sum() / yy.sum())
    assert out["accept_rate"] == pytest.approx(pp.mean())


def test_correlations_agree_with_scipy() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(1, 10, 80).astype(float)
    z = x + rng.normal(0, 3, 80)
    assert float(m.pearson(x, z)) == pytest.approx(pearsonr(x, z)[0])
    assert float(m.spearman(x, z)) == pytest.approx(spearmanr(x, z)[0])


def test_undefined_metrics_are_nan_not_errors() -> None:
    out = m.decision_metrics([1, 1, 1], [1, 1, 0])
    assert np.isnan(out["fpr"]) and np.isnan(out["balanced_accuracy"])
    assert np.isnan(m.pearson([1, 1, 1], [1, 2, 3]))


def test_bootstrap_is_seeded_and_equals_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    y = rng.random(50) < 0.4
    p = rng.random(50) < 0.5
    a = m.decision_report(y, p, resamples=300, seed=11)
    b = m.decision_report(y, p, resamples=300, seed=11)
    c = m.decision_report(y, p, resamples=300, seed=12)
    assert a == b and a != c
    # Same draws one resample at a time: the vectorised result must match exactly.
    draws = np.random.default_rng(11).integers(0, 50, size=(300, 50))
    loop = [balanced_accuracy_score(y[i], p[i]) for i in draws]
    low, high = np.percentile(loop, [2.5, 97.5])
    assert a["balanced_accuracy"].low == pytest.approx(low)
    assert a["balanced_accuracy"].high == pytest.approx(high)
    assert a["balanced_accuracy"].low <= a["balanced_accuracy"].value <= a["balanced_accuracy"].high


def test_threshold_sweep_and_best_threshold() -> None:
    y = [1, 1, 0, 0]
    score = [7, 6, 6, 3]
    sweep = m.threshold_sweep(y, score, [4, 6, 7])
    assert [row["balanced_accuracy"] for row in sweep] == [0.75, 0.75, 0.75]
    assert [row["accept_rate"] for row in sweep] == [0.75, 0.75, 0.25]
    assert m.best_threshold(sweep) == 4.0
    assert m.best_threshold(m.threshold_sweep([1, 0], [8, 2], [1, 5, 9])) == 5.0


def test_human_decision_baseline_by_hand() -> None:
    # Paper 1 (accepted): 2 of 3 reviewers >= 6; paper 2 (rejected): 1 of 2.
    ratings = m.padded_ratings([[8, 6, 3], [6, 3]])
    out = m.human_decision_baseline([1, 0], ratings, 6, resamples=0)
    assert out["tpr"].value == pytest.approx(2 / 3)
    assert out["fpr"].value == pytest.approx(1 / 2)
    assert out["accuracy"].value == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_reviewer_pair_correlation_equals_pooled_pearson() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(1, 10, 40).astype(float)
    b = np.clip(a + rng.integers(-3, 4, 40), 1, 10)
    ratings = np.stack([a, b], axis=1)
    out = m.human_correlation_baseline(ratings, resamples=50)
    pooled = pearsonr(np.concatenate([a, b]), np.concatenate([b, a]))[0]
    assert out["reviewer_vs_reviewer"]["pearson"].value == pytest.approx(pooled)
    # With two reviewers, "the mean of the others" is the other reviewer.
    assert out["reviewer_vs_mean_of_others"]["pearson"].value == pytest.approx(pooled)


def test_pointwise_pairs_average_is_roc_auc() -> None:
    rng = np.random.default_rng(5)
    score = rng.integers(1, 10, 30).astype(float)
    y = np.arange(30) < 12
    pos, neg = score[y], score[~y]
    credit = m.pairwise_from_scores(np.repeat(pos, len(neg)), np.tile(neg, len(pos)))
    assert credit.mean() == pytest.approx(float(m.roc_auc(y, score)))
