"""`openxiv eval` driving the real review engine (PlatformEngine) through a configured alias of
the deterministic `test` provider: the whole path from data set to report, no test double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner


def test_decision_and_pairwise_with_a_configured_alias(
    eval_app: typer.Typer, small_jsonl: Path, tmp_path: Path
) -> None:
    config = tmp_path / "openxiv.toml"
    config.write_text('[llm.models.det]\nprovider = "test"\nmodel = "det-1"\n')
    out = tmp_path / "out"
    env = {"OPENXIV_CONFIG": str(config)}
    runner = CliRunner()
    decided = runner.invoke(
        eval_app,
        [
            "eval",
            "decision",
            "--data",
            str(small_jsonl),
            "--model",
            "det",
            "--out",
            str(out),
            "--resamples",
            "200",
        ],
        env=env,
    )
    assert decided.exit_code == 0, decided.output
    report = json.loads((out / "report.json").read_text())
    section = json.dumps(report)
    assert "det" in section
    # The report says what produced the reviews: model, sampling, prompt and rubric versions.
    from openxiv.review.prompts import PROMPT_VERSION

    (engine,) = report["sections"]["decision"]["engines"]
    assert (engine["provider"], engine["model"], engine["prompt_version"]) == (
        "test",
        "det-1",
        PROMPT_VERSION,
    )
    assert engine["rubric"].startswith("openxiv-paper ")
    assert f"prompts {PROMPT_VERSION}" in (out / "report.md").read_text()
    calls = (out / "runs" / "llm-calls.jsonl").read_text().splitlines()
    assert len(calls) >= 8  # one review per paper at least, every call recorded
    again = runner.invoke(
        eval_app,
        [
            "eval",
            "decision",
            "--data",
            str(small_jsonl),
            "--model",
            "det",
            "--out",
            str(out),
            "--resamples",
            "200",
        ],
        env=env,
    )
    assert again.exit_code == 0, again.output
    assert len((out / "runs" / "llm-calls.jsonl").read_text().splitlines()) == len(
        calls
    )  # resumed, no new calls
    # Same alias, another model behind it: resuming would mix two configurations in one report.
    config.write_text('[llm.models.det]\nprovider = "test"\nmodel = "det-2"\n')
    changed = runner.invoke(
        eval_app,
        ["eval", "decision", "--data", str(small_jsonl), "--model", "det", "--out", str(out)],
        env=env,
    )
    assert changed.exit_code == 2 and "another engine configuration" in changed.output
    config.write_text('[llm.models.det]\nprovider = "test"\nmodel = "det-1"\n')
    paired = runner.invoke(
        eval_app,
        ["eval", "pairwise", "--data", str(small_jsonl), "--model", "det", "--out", str(out), "--limit", "2"],
        env=env,
    )
    assert paired.exit_code == 0, paired.output
    assert "pairwise" in json.loads((out / "report.json").read_text())["sections"]


def test_a_rewrite_replaces_the_opening_but_a_fragment_is_added_to_it() -> None:
    from openxiv.evaluation.adapters import merge_rewrite

    opening = "Title\n\nAbstract. We study routing.\n\nIntroduction. " + "Context. " * 40
    full = "Title\n\nAbstract. We study routing, and state its limits.\n\n" + "Clearer context. " * 20
    assert merge_rewrite(opening, full) == full
    merged = merge_rewrite(opening, "We now state the limits.")
    assert merged.startswith(opening.rstrip()) and merged.endswith("Revision note: We now state the limits.")


def test_revision_through_the_engine_keeps_the_paper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openxiv.evaluation.adapters import REVISED_CHARS, PlatformEngine

    config = tmp_path / "openxiv.toml"
    config.write_text('[llm.models.det]\nprovider = "test"\nmodel = "det-1"\n')
    monkeypatch.setenv("OPENXIV_CONFIG", str(config))
    paper = "Routing experts\n\nAbstract. " + "We route tokens to experts. " * 400 + "Conclusion. It works."
    revision = PlatformEngine("det").revise(paper, "Unclear method.", with_response=True)
    # Whatever the model wrote, the revised paper still holds everything after the opening...
    assert revision.text.endswith(paper[REVISED_CHARS:].strip())
    # ...and, since the test model's answer is a short fragment, the original opening too.
    assert revision.text.startswith(paper[:REVISED_CHARS].rstrip()) and "Revision note: " in revision.text
    assert revision.cost.calls == 1
