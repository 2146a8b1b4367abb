"""The engine-driven commands, run against a scripted test double of the review-engine protocol.

`ScriptedEngine` is a deterministic stand-in used only to test the harness plumbing (sampling,
both-order judging, resuming, scoring, report writing); it is not a reviewer. The real engine is
bound in `openxiv.evaluation.adapters`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
import typer
from typer.testing import CliRunner

from openxiv.evaluation import adapters
from openxiv.evaluation.datasets import load_deepreview_jsonl
from openxiv.evaluation.pairwise import build_pairs, run_judgements, score_judgements
from openxiv.evaluation.protocols import (
    Cost,
    PairVerdict,
    PanelVote,
    PointwiseVerdict,
    ReviewerUnderTest,
    RevisedPaper,
)
from openxiv.evaluation.runlog import ConfigurationChanged, RunLog
from tests.evaluation.conftest import SECRET_META

CALL = Cost(input_tokens=100, output_tokens=20, cost_usd=0.001, calls=1)


def quality(text: str) -> int:
    return (8 if "QUALITY=high" in text else 3) + (1 if "REVISED" in text else 0)


class ScriptedEngine:
    def __init__(self, *, bias: str | None = None, fail_after: int | None = None) -> None:
        self.name = "scripted"
        self.bias = bias
        self.fail_after = fail_after
        self.calls = 0
        self.seen: list[str] = []

    def _tick(self, *texts: str) -> None:
        self.calls += 1
        self.seen.extend(texts)
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("provider went away")

    def review(self, text: str, *, mode: Literal["single", "meta"] = "single") -> PointwiseVerdict:
        self._tick(text)
        q = quality(text)
        return PointwiseVerdict(overall=q, accept=q >= 6, review_text=f"[{mode}] improve clarity", cost=CALL)

    def compare(self, a: str, b: str) -> PairVerdict:
        self._tick(a, b)
        if self.bias == "first":  # always the document shown first
            return PairVerdict("a", "b", cost=CALL)
        if self.bias == "tie":
            return PairVerdict("tie", "tie", cost=CALL)
        qa, qb = quality(a), quality(b)
        pick = "a" if qa > qb else "b" if qb > qa else "tie"
        return PairVerdict(pick, pick, cost=CALL)  # type: ignore[arg-type]

    def revise(self, text: str, review_text: str, *, with_response: bool) -> RevisedPaper:
        self._tick(text, review_text)
        return RevisedPaper(text + "\nREVISED", "We improved clarity." if with_response else "", cost=CALL)

    def vote(self, text: str) -> PanelVote:
        self._tick(text)
        votes = {"m1": "REVISED" in text, "m2": True, "m3": "REVISED" in text and "Response" in text}
        return PanelVote(votes, sum(votes.values()) >= 2, cost=CALL)


def test_scripted_engine_satisfies_the_protocol() -> None:
    assert isinstance(ScriptedEngine(), ReviewerUnderTest)


def _run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _use(monkeypatch: pytest.MonkeyPatch, engine: ScriptedEngine) -> None:
    monkeypatch.setattr(adapters, "make_engine", lambda alias, **_: engine)


def test_decision_with_model_scores_and_never_shows_labels(
    eval_app: typer.Typer, small_jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = ScriptedEngine()
    _use(monkeypatch, engine)
    out = tmp_path / "out"
    code, output = _run(
        eval_app,
        "eval",
        "decision",
        "--data",
        str(small_jsonl),
        "--model",
        "x",
        "--resamples",
        "200",
        "--out",
        str(out),
    )
    assert code == 0, output
    report = json.loads((out / "report.json").read_text())
    (reviewer,) = report["sections"]["decision"]["reviewers"]
    assert reviewer["source"] == "model:scripted" and reviewer["n_papers"] == 8
    assert reviewer["own_decision"]["balanced_accuracy"]["value"] == 1.0
    assert reviewer["roc_auc_overall"]["value"] == 1.0
    assert reviewer["cost"]["calls"] == 8 and reviewer["cost"]["cost_usd"] == pytest.approx(0.008)
    assert report["sections"]["decision"]["human_baseline"]["available"]
    assert all(SECRET_META not in t and "Accept" not in t and "Published as" not in t for t in engine.seen)
    assert (out / "plots" / "decision_balanced_accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| scripted | own decision | 8 |" in (out / "report.md").read_text()


def test_interrupted_run_resumes_without_redoing_finished_papers(
    eval_app: typer.Typer, small_jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    args = (
        "eval",
        "decision",
        "--data",
        str(small_jsonl),
        "--model",
        "x",
        "--resamples",
        "0",
        "--out",
        str(out),
    )
    flaky = ScriptedEngine(fail_after=3)  # the provider goes away after three reviews
    _use(monkeypatch, flaky)
    code, output = _run(eval_app, *args)
    assert code == 2 and "3 failures in a row" in output and "resume" in output
    assert not (out / "report.json").exists()

    steady = ScriptedEngine()
    _use(monkeypatch, steady)
    code, output = _run(eval_app, *args)
    assert code == 0, output
    assert steady.calls == 5  # the three finished papers are not reviewed again
    second = json.loads((out / "report.json").read_text())["sections"]["decision"]["reviewers"][0]
    assert second["n_papers"] == 8 and second["missing"] == 0
    assert second["own_decision"]["accuracy"]["value"] == 1.0


def test_torn_last_line_of_the_run_log_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = RunLog(path)
    log.add("a", {"ok": True})
    with path.open("a") as handle:
        handle.write('{"key": "b", "ok": tr')
    again = RunLog(path)
    assert "a" in again and "b" not in again
    again.add("b", {"ok": True})
    assert {"a", "b"} <= {item["key"] for item in RunLog(path).items()}


def test_a_run_log_does_not_resume_under_another_configuration(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"key": "old", "ok": true}\n')  # from before logs were stamped: accepted
    log = RunLog(path, config={"model": "m-1", "prompt_version": "1"})
    log.add("a", {"ok": True})
    assert "old" in log and "a" in RunLog(path, config={"model": "m-1", "prompt_version": "1"})
    with pytest.raises(ConfigurationChanged, match="another engine configuration"):
        RunLog(path, config={"model": "m-1", "prompt_version": "2"})
    assert len(path.read_text().splitlines()) == 2  # nothing was touched


def test_pairwise_judge_scored_in_both_orders(small_jsonl: Path, tmp_path: Path) -> None:
    ds = load_deepreview_jsonl(small_jsonl)
    pairs = build_pairs(ds, seed=1)
    assert len(pairs) == 4 and all(ds.papers[a].accepted and not ds.papers[r].accepted for a, r in pairs)
    assert build_pairs(ds, seed=1) == pairs  # same seed, same pairs

    oracle, _, failed = run_judgements(ds, pairs, ScriptedEngine(), RunLog(tmp_path / "a.jsonl"))
    scores = score_judgements(oracle, resamples=100, seed=0)
    assert failed == 0
    assert scores["accuracy_ties_half"]["value"] == 1.0 and scores["strict_accuracy"]["value"] == 1.0
    assert scores["order_consistency"]["value"] == 1.0 and scores["first_position_rate"]["value"] == 0.5

    biased, _, _ = run_judgements(ds, pairs, ScriptedEngine(bias="first"), RunLog(tmp_path / "b.jsonl"))
    scores = score_judgements(biased, resamples=100, seed=0)
    assert scores["accuracy_ties_half"]["value"] == 0.5 and scores["strict_accuracy"]["value"] == 0.0
    assert scores["order_consistency"]["value"] == 0.0 and scores["first_position_rate"]["value"] == 1.0

    ties, _, _ = run_judgements(ds, pairs, ScriptedEngine(bias="tie"), RunLog(tmp_path / "c.jsonl"))
    scores = score_judgements(ties, resamples=0, seed=0)
    assert scores["accuracy_ties_half"]["value"] == 0.5 and scores["tie_rate"]["value"] == 1.0
    assert scores["order_consistency"]["value"] == 1.0


def test_borderline_papers_can_be_left_out(small_jsonl: Path) -> None:
    ds = load_deepreview_jsonl(small_jsonl)
    # Accepted papers average 6.67 and rejected 3.67: nothing is borderline in [5, 6]...
    assert len(build_pairs(ds, exclude_borderline=(5.0, 6.0))) == 4
    # ...but everything accepted is in [6, 7].
    assert build_pairs(ds, exclude_borderline=(6.0, 7.0)) == []


def test_pairwise_command_with_model(
    eval_app: typer.Typer, small_jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, ScriptedEngine())
    out = tmp_path / "out"
    code, output = _run(
        eval_app,
        "eval",
        "pairwise",
        "--data",
        str(small_jsonl),
        "--model",
        "x",
        "--resamples",
        "100",
        "--out",
        str(out),
    )
    assert code == 0, output
    section = json.loads((out / "report.json").read_text())["sections"]["pairwise"]
    (judge,) = section["judges"]
    assert judge["pairs"] == 4 and judge["accuracy_ties_half"]["value"] == 1.0
    (pointwise,) = section["pointwise"]
    assert (
        pointwise["accuracy_ties_half"]["value"] == 1.0 and pointwise["all_pairs_accuracy_ties_half"] == 1.0
    )
    assert "Pairwise accuracy" in (out / "report.md").read_text()


def test_revision_study_tables(
    eval_app: typer.Typer, small_jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = ScriptedEngine()
    _use(monkeypatch, engine)
    out = tmp_path / "out"
    code, output = _run(
        eval_app,
        "eval",
        "revision",
        "--data",
        str(small_jsonl),
        "--model",
        "x",
        "--limit",
        "4",
        "--meta",
        "--resamples",
        "100",
        "--out",
        str(out),
    )
    assert code == 0, output
    section = json.loads((out / "report.json").read_text())["sections"]["revision"]
    assert section["papers_completed"] == 4
    assert [p["variant"] for p in section["preference"]] == ["SR-w/o-rp", "SR-w-rp", "MR-w/o-rp", "MR-w-rp"]
    assert all(
        p["average"]["value"] == 1.0 and p["old_new_order"]["value"] == 1.0 for p in section["preference"]
    )
    rows = {r["version"]: r for r in section["votes"]["rows"]}
    assert section["votes"]["seats"] == ["m1", "m2", "m3"]
    assert rows["old"]["panel_accept_rate"] == 0.0 and rows["old"]["seat_accept_rate"]["m2"] == 1.0
    assert rows["new (SR-w-rp)"]["seat_accept_rate"]["m3"] == 1.0
    assert rows["new (SR-w/o-rp)"]["seat_accept_rate"]["m3"] == 0.0
    assert all(rows[k]["panel_accept_rate"] == 1.0 for k in rows if k != "old")
    # 4 papers x (1 old vote + 2 modes x (review + 2 x (revise + compare + vote))) model calls
    assert section["cost"]["calls"] == engine.calls == 4 * (1 + 2 * (1 + 2 * 3))
    calls = engine.calls
    code, _ = _run(
        eval_app,
        "eval",
        "revision",
        "--data",
        str(small_jsonl),
        "--model",
        "x",
        "--limit",
        "4",
        "--meta",
        "--resamples",
        "100",
        "--out",
        str(out),
    )
    assert code == 0 and engine.calls == calls  # everything came from the run log


def test_commands_refuse_bad_input_with_one_line(
    eval_app: typer.Typer, small_jsonl: Path, tmp_path: Path
) -> None:
    code, output = _run(
        eval_app, "eval", "decision", "--data", str(small_jsonl), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "--stored" in output and "--model" in output
    code, output = _run(
        eval_app,
        "eval",
        "decision",
        "--data",
        str(tmp_path / "missing"),
        "--stored",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "does not exist" in output
    code, output = _run(
        eval_app, "eval", "decision", "--data", str(small_jsonl), "--stored", "--out", str(tmp_path / "o")
    )
    assert code == 2 and "needs stored reviews" in output
    assert not (tmp_path / "o" / "report.json").exists()


def test_sections_accumulate_in_one_report(eval_app: typer.Typer, bench_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = (
        "--data",
        str(bench_dir),
        "--stored",
        "--reviewer",
        "fewshot",
        "--resamples",
        "50",
        "--out",
        str(out),
    )
    assert _run(eval_app, "eval", "decision", *base)[0] == 0
    assert _run(eval_app, "eval", "pairwise", *base)[0] == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["sections"]) == {"decision", "pairwise"}
    assert len(report["sections"]["pairwise"]["pointwise"]) == 2  # gpt-4o and gpt-4o-mini few-shot runs
    text = (out / "report.md").read_text()
    assert "Accept/reject agreement" in text and "Pointwise-derived" in text
    assert (out / "plots" / "pairwise_accuracy.png").is_file()


def test_integrity_summary_table_lists_headline_figures() -> None:
    from openxiv.evaluation.adapters import integrity_markdown

    text = integrity_markdown(
        {
            "documents": 10,
            "recall": {"value": 0.9, "k": 9, "n": 10, "ci95": [0.6, 0.98]},
            "per_type": {"white_text": {}},
            "missed": ["x"],
        }
    )
    assert "| documents | 10 |" in text and "| recall | 0.900 [0.600, 0.980] (n=10) |" in text
    assert "per_type" not in text and "missed" not in text


def test_all_with_stored_reviews(eval_app: typer.Typer, bench_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = _run(
        eval_app,
        "eval",
        "all",
        "--data",
        str(bench_dir),
        "--stored",
        "--reviewer",
        "fewshot",
        "--resamples",
        "50",
        "--skip-integrity",
        "--out",
        str(out),
    )
    assert code == 0, output
    report = json.loads((out / "report.json").read_text())
    assert set(report["sections"]) == {"decision", "pairwise"}
    assert report["plots"]["decision"] == [
        "plots/decision_balanced_accuracy.png",
        "plots/decision_threshold_sweep.png",
    ]
