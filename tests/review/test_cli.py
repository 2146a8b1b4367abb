"""`openxiv review` end to end through Typer, on the deterministic `test` provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from openxiv.review.cli import register
from openxiv.tooling.pdfwriter import text_pdf

runner = CliRunner()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    config = tmp_path / "openxiv.toml"
    config.write_text(
        f"""
[llm]
record_path = "{tmp_path / "calls.jsonl"}"
[llm.models.fast]
provider = "test"
model = "fill"
[review]
single_model = "fast"
area_chair_model = "fast"
reviewer_models = ["fast"]
pairwise_model = "fast"
panel = ["fast", "fast", "fast", "fast", "fast"]
"""
    )
    monkeypatch.setenv("OPENXIV_CONFIG", str(config))
    main, bench = typer.Typer(), typer.Typer()
    register(main, bench)
    main.add_typer(bench, name="bench")
    return main


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    path = tmp_path / "paper.md"
    path.write_text("# Routing\n\nWe propose a load-aware router for small MoE models.\n")
    return path


@pytest.mark.parametrize("mode", ["single", "meta", "vote"])
def test_review_modes_print_json(app: typer.Typer, paper: Path, tmp_path: Path, mode: str) -> None:
    result = runner.invoke(app, ["review", str(paper), "--mode", mode, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == mode and data["provenance"]["rubric_id"] == "openxiv-paper"
    records = (tmp_path / "calls.jsonl").read_text().splitlines()
    assert len(records) == data["usage"]["calls"]


def test_pairwise_and_replay(app: typer.Typer, paper: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.tex"
    other.write_text("\\section{Intro} A different paper.")
    first = runner.invoke(
        app, ["review", str(paper), "--mode", "pairwise", "--against", str(other), "--json"]
    )
    assert first.exit_code == 0, first.output
    replayed = runner.invoke(
        app,
        [
            "review",
            str(paper),
            "--mode",
            "pairwise",
            "--against",
            str(other),
            "--json",
            "--replay",
            str(tmp_path / "calls.jsonl"),
            "--record",
            str(tmp_path / "replay.jsonl"),
        ],
    )
    assert replayed.exit_code == 0, replayed.output
    a, b = json.loads(first.stdout), json.loads(replayed.stdout)
    a["usage"].pop("latency_ms"), b["usage"].pop("latency_ms")
    assert a == b


def test_proposal_yaml_and_pdf_inputs(app: typer.Typer, tmp_path: Path) -> None:
    proposal = tmp_path / "idea.yaml"
    proposal.write_text(
        "title: Better routers\nproblem_statement: Experts collapse.\nmotivation: Small models.\n"
    )
    result = runner.invoke(app, ["review", str(proposal), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["provenance"]["rubric_id"] == "openxiv-proposal"
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(text_pdf("Routing", ["We propose a router."]))
    result = runner.invoke(app, ["review", str(pdf), "--mode", "single"])
    assert result.exit_code == 0, result.output
    assert "single review" in result.stdout and "summary:" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "missing.md"], "no such file"),
        (["review", "{empty}"], "no text to review"),
        (["review", "{paper}", "--mode", "pairwise"], "needs --against"),
        (["review", "{paper}", "--model", "nope"], "unknown model alias 'nope'"),
        (["review", "{bad}"], "unsupported file type"),
        (["review", "{pdf}"], "broken.pdf: "),
    ],
)
def test_bad_input_exits_2_with_one_line(
    app: typer.Typer, paper: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty.md").write_text("  \n")
    (tmp_path / "bad.docx").write_bytes(b"PK")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    paths = {
        "{empty}": tmp_path / "empty.md",
        "{paper}": paper,
        "{bad}": tmp_path / "bad.docx",
        "{pdf}": tmp_path / "broken.pdf",
    }
    result = runner.invoke(app, [str(paths.get(a, a)) for a in args])
    assert result.exit_code == 2
    assert message in result.output and result.output.count("\n") <= 2
