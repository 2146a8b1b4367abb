"""`openxiv eval decision --stored` on the ICLR 2022 bench reproduces the figures published for it.

Sources of the expected numbers (The AI Scientist, Lu et al. 2024, whose repository the bench comes
from, see the bench's NOTICE.md):
* the bench's analysis notebook (`review_iclr_bench/paper_figures.ipynb`) prints the accuracy of the
  LLM's own Accept/Reject decision: GPT-4o 0.66, + 5 reflections 0.68, + 5-review ensemble 0.68,
  + 1-shot 0.70; and for the 1-shot ensemble F1 0.37, AUC 0.60, FPR 0.0411, FNR 0.7554;
* the paper's Table 1 for "GPT-4o (1-shot, Ens/Reflect)" accepting at Overall >= 6: balanced
  accuracy 0.65, accuracy 0.66, F1 0.57, AUC 0.65, FPR 0.31, FNR 0.39.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

FEWSHOT = "gpt-4o-2024-05-13_temp_0_1_fewshot_1_reflect_5_ensemble_5_pages_all"
OWN_DECISION_ACCURACY = {
    "gpt-4o-2024-05-13_temp_0_1_pages_all": 0.66,
    "gpt-4o-2024-05-13_temp_0_1_reflect_5_pages_all": 0.68,
    "gpt-4o-2024-05-13_temp_0_1_reflect_5_ensemble_5_pages_all": 0.68,
    FEWSHOT: 0.70,
}


@pytest.fixture(scope="module")
def report(bench_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from openxiv.evaluation.cli import register

    app, bench = typer.Typer(), typer.Typer()
    app.add_typer(bench, name="bench")
    register(app, bench)
    out = tmp_path_factory.mktemp("published")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "decision",
            "--data",
            str(bench_dir),
            "--stored",
            "--reviewer",
            "gpt-4o-2024",
            "--resamples",
            "1000",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return {
        r["name"]: r
        for r in json.loads((out / "report.json").read_text())["sections"]["decision"]["reviewers"]
    }


def test_own_decision_accuracy_of_the_gpt4o_configurations(report: dict) -> None:
    for name, published in OWN_DECISION_ACCURACY.items():
        assert round(report[name]["own_decision"]["accuracy"]["value"], 2) == published, name


def test_fewshot_ensemble_own_decision_figures(report: dict) -> None:
    own = report[FEWSHOT]["own_decision"]
    assert round(own["f1"]["value"], 2) == 0.37
    # With hard decisions ROC-AUC equals balanced accuracy, which the notebook printed as AUC.
    assert round(own["balanced_accuracy"]["value"], 2) == 0.60
    assert own["fpr"]["value"] == pytest.approx(0.0411392, abs=1e-6)
    assert own["fnr"]["value"] == pytest.approx(0.7554348, abs=1e-6)


def test_fewshot_ensemble_at_overall_6_matches_table_1(report: dict) -> None:
    at6 = report[FEWSHOT]["overall_threshold"]
    assert at6["threshold"] == 6
    expected = {"balanced_accuracy": 0.65, "accuracy": 0.66, "f1": 0.57, "fpr": 0.31, "fnr": 0.39}
    for metric, published in expected.items():
        assert round(at6[metric]["value"], 2) == published, metric
        assert at6[metric]["ci_low"] < at6[metric]["value"] < at6[metric]["ci_high"]
    assert report[FEWSHOT]["best_threshold"]["threshold"] == 6


def test_ratings_carry_more_signal_than_chance(report: dict) -> None:
    fewshot = report[FEWSHOT]
    assert fewshot["roc_auc_overall"]["ci_low"] > 0.5
    assert fewshot["correlation"]["with_mean_human_rating"]["pearson"]["ci_low"] > 0
