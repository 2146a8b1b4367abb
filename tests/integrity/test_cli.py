from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from openxiv.integrity import cli as integrity_cli
from tests.integrity.helpers import attacked_pdf, clean_pdf


def _app() -> typer.Typer:
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    integrity_cli.register(app, bench)
    return app


def test_scan_exit_codes_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    clean = tmp_path / "clean.pdf"
    clean.write_bytes(clean_pdf())
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(attacked_pdf("white"))
    result = runner.invoke(_app(), ["scan", str(clean), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["flagged"] is False and "findings" in body and "timings" in body
    result = runner.invoke(_app(), ["scan", str(bad), "--json"])
    assert result.exit_code == 3
    body = json.loads(result.stdout)
    assert body["flagged"] is True and "white_text" in body["categories"]
    assert body["findings"][0]["page"] == 1 and len(body["findings"][0]["box"]) == 4
    human = runner.invoke(_app(), ["scan", str(bad)])
    assert human.exit_code == 3 and "FLAGGED" in human.stdout


def test_scan_unreadable_prints_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    result = runner.invoke(_app(), ["scan", str(empty)])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "empty" in result.stderr
    image = tmp_path / "x.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nxxxx")
    result = runner.invoke(_app(), ["scan", str(image)])
    assert result.exit_code == 2 and "PNG" in result.stderr
    result = runner.invoke(_app(), ["scan", str(tmp_path / "missing.pdf")])
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_bench_command_on_a_tiny_corpus(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from openxiv.tooling.integrity import bench, corpus

    monkeypatch.setattr(bench, "QUICK_PLAN", corpus.CorpusPlan(clean=6, per_main_type=3, per_extra_type=0))
    result = CliRunner().invoke(
        _app(), ["bench", "integrity", "--out", str(tmp_path), "--seed", "5", "--quick"]
    )
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["documents"] == 6 + 6 * 3
    assert set(results["per_type"]) == set(corpus.MAIN_TYPES)
    # Visible reviewer-directed text may go on to review with a note instead of being held.
    assert results["recall_held_or_noted"]["value"] >= 0.8
    assert results["recall"]["value"] >= 0.6
    lo, hi = results["fpr_clean"]["ci95"]
    assert 0 <= lo <= hi <= 1
    assert results["speed"]["full_scan_over_pypdfium2"] > 0
    labels = corpus.load_labels(tmp_path / "labels.jsonl")
    assert all(label.spans for label in labels if label.label == "attack")
