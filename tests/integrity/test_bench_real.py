"""The real-document benchmark's harness: labels and tags, crash and hang isolation, the summary's
arithmetic, and the `bench integrity --real` command end to end on a tiny folder."""

from __future__ import annotations

import faulthandler
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from openxiv.integrity import cli as integrity_cli
from openxiv.integrity.settings import IntegritySettings
from openxiv.tooling.integrity import bench_real
from openxiv.tooling.integrity.bench_real import (
    DatasetError,
    Outcome,
    RealDocument,
    discover,
    scan_all,
    scan_in_process,
    summarise,
)
from tests.integrity.helpers import attacked_pdf, clean_pdf


def _app() -> typer.Typer:
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    integrity_cli.register(app, bench)
    return app


def _folder(root: Path, manifest: list[dict[str, str]] | None = None) -> Path:
    (root / "clean").mkdir(parents=True)
    (root / "attacked").mkdir()
    (root / "clean" / "paper.pdf").write_bytes(clean_pdf(1))
    (root / "clean" / "about-attacks.pdf").write_bytes(clean_pdf(2))
    (root / "attacked" / "white.pdf").write_bytes(attacked_pdf("white"))
    if manifest is not None:
        (root / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return root


def test_labels_come_from_folders_and_tags_from_the_manifest(tmp_path: Path) -> None:
    manifest = [
        {"subset": "clean", "file": "about-attacks.pdf", "tag": "HN-prompt-injection"},
        {"subset": "attacked", "file": "white.pdf", "tag": "white-text"},
    ]
    documents = {d.path.name: d for d in discover(_folder(tmp_path / "tagged", manifest))}
    assert (documents["about-attacks.pdf"].tag, documents["about-attacks.pdf"].hard_negative) == (
        "HN-prompt-injection",
        True,
    )
    assert (documents["paper.pdf"].label, documents["paper.pdf"].tag) == ("clean", "clean")
    assert (documents["white.pdf"].label, documents["white.pdf"].tag) == ("attacked", "white-text")
    untagged = {d.path.name: d.tag for d in discover(_folder(tmp_path / "plain"))}
    assert untagged == {"about-attacks.pdf": "clean", "paper.pdf": "clean", "white.pdf": "unknown"}


def test_a_folder_that_is_not_a_labelled_set_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="neither a clean/ nor an attacked/"):
        discover(tmp_path)
    (tmp_path / "manifest.json").write_text('{"not": "a list"}', "utf-8")
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "a.pdf").write_bytes(clean_pdf())
    with pytest.raises(DatasetError, match=r"manifest\.json: expected a JSON list"):
        discover(tmp_path)


def _misbehave(document: RealDocument, settings: IntegritySettings) -> Outcome:
    """Dies of a segfault on crash.pdf, never returns on hang.pdf, scans anything else."""
    if document.path.name == "crash.pdf":
        faulthandler.disable()  # pytest's handler would print the child's stack: noise, not a failure
        os.kill(os.getpid(), signal.SIGSEGV)
    if document.path.name == "hang.pdf":
        time.sleep(600)
    return scan_in_process(document, settings)


def test_a_native_crash_or_a_hang_counts_against_its_file_only(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    for name in ("crash.pdf", "hang.pdf"):
        (root / "clean" / name).write_bytes(clean_pdf())
    documents = discover(root)
    outcomes = {
        o.file: o
        for o in scan_all(
            [d for d in documents if d.path.name != "hang.pdf"],
            IntegritySettings(),
            jobs=2,
            timeout_s=300,
            scan=_misbehave,
        )
    }
    assert outcomes["crash.pdf"].verdict == "crash"
    assert outcomes["crash.pdf"].reason == f"the scanning process died (signal {signal.SIGSEGV.value})"
    assert outcomes["paper.pdf"].verdict == "pass" and outcomes["paper.pdf"].pages == 1
    assert outcomes["white.pdf"].verdict == "hold" and "white_text" in outcomes["white.pdf"].categories
    [hung] = scan_all(
        [d for d in documents if d.path.name == "hang.pdf"], IntegritySettings(), timeout_s=1, scan=_misbehave
    )
    assert (hung.verdict, hung.reason) == ("crash", "no result within 1 s (killed)")


def test_a_python_exception_is_a_crash_and_a_document_error_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    unreadable = scan_in_process(RealDocument(tmp_path / "empty.pdf", "clean", "clean"), IntegritySettings())
    assert unreadable.verdict == "unreadable" and unreadable.reason and "empty" in unreadable.reason
    crashed = scan_in_process(RealDocument(tmp_path / "missing.pdf", "clean", "clean"), IntegritySettings())
    assert (
        crashed.verdict == "crash" and crashed.reason and crashed.reason.startswith("FileNotFoundError in ")
    )


def _outcome(label: str, tag: str, verdict: str, pages: int = 10, seconds: float = 2.0) -> Outcome:
    return Outcome(
        f"{tag}-{verdict}-{pages}.pdf",
        label,
        tag,
        verdict,
        pages=pages if verdict in ("hold", "note", "pass") else None,
        seconds=seconds,
        cpu_seconds=seconds / 2,
        document_type="pdf" if verdict in ("hold", "note", "pass") else None,
        timings={"structure": 100.0, "extract": 300.0, "layout_rules": 100.0, "semantic": 1000.0}
        if verdict in ("hold", "note", "pass")
        else {},
        reason="boom" if verdict == "crash" else None,
    )


def test_summary_counts_held_noted_and_crashed_files_per_group() -> None:
    outcomes = [
        _outcome("clean", "two-col", "pass"),
        _outcome("clean", "two-col", "hold"),
        _outcome("clean", "HN-jailbreak", "note"),
        _outcome("clean", "HN-jailbreak", "hold"),
        _outcome("clean", "HN-llm-reviewer", "crash"),
        _outcome("attacked", "white-text", "hold"),
        _outcome("attacked", "white-text", "note"),
        _outcome("attacked", "metadata", "hold"),
        _outcome("attacked", "metadata", "unreadable"),
    ]
    results = summarise(outcomes)
    assert (results["fpr_clean"]["k"], results["fpr_clean"]["n"]) == (2, 5)
    assert (results["fpr_hard_negatives"]["k"], results["fpr_hard_negatives"]["n"]) == (1, 3)
    assert (results["noted_clean"]["k"], results["recall"]["k"], results["recall"]["n"]) == (1, 2, 4)
    assert results["recall_held_or_noted"]["k"] == 3
    assert {t: (r["k"], r["n"]) for t, r in results["recall_by_channel"].items()} == {
        "metadata": (1, 2),
        "white-text": (1, 2),
    }
    assert [c["file"] for c in results["crashes"]] == ["HN-llm-reviewer-crash-10.pdf"]
    assert [u["file"] for u in results["unreadable"]] == ["metadata-unreadable-10.pdf"]
    # 7 scanned files of 10 pages: 70 pages in 14 s overall (7 s of CPU), in 3.5 s of stages 1-2.
    assert results["speed"]["pdf_pages"] == 70
    assert results["speed"]["full_scan_pages_per_s"] == 5.0
    assert results["speed"]["full_scan_pages_per_cpu_s"] == 10.0
    assert results["speed"]["stages_1_2_pages_per_s"] == 20.0
    assert results["speed"]["stages_1_2_pages_per_cpu_s"] == 40.0


def test_bench_real_command_writes_results_and_the_per_file_table(tmp_path: Path) -> None:
    root = _folder(tmp_path / "set", [{"subset": "attacked", "file": "white.pdf", "tag": "white-text"}])
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["bench", "integrity", "--real", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text("utf-8"))
    assert (results["fpr_clean"]["k"], results["fpr_clean"]["n"]) == (0, 2)
    assert results["recall_by_channel"]["white-text"]["k"] == 1
    row = r"\| white\.pdf \| attacked \| white-text \| hold \| \d\.\d\d \| white_text p1 \(\d\.\d\d\) \|"
    assert re.search(row, (out / "files.md").read_text("utf-8"))
    assert "held, clean: 0/2" in result.stdout


def test_bench_real_command_exits_non_zero_after_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path / "set")
    (root / "clean" / "crash.pdf").write_bytes(clean_pdf())
    monkeypatch.setattr(bench_real, "scan_in_process", _misbehave)
    result = CliRunner().invoke(
        _app(), ["bench", "integrity", "--real", str(root), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1, result.output
    assert "crashes: 1" in result.stdout and "crash.pdf (clean): the scanning process died" in result.stdout


def test_bench_real_command_refuses_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        _app(), ["bench", "integrity", "--real", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "neither a clean/ nor an attacked/" in result.stderr
    root = _folder(tmp_path / "set")
    result = runner.invoke(
        _app(), ["bench", "integrity", "--real", str(root), "--out", str(tmp_path / "o"), "--quick"]
    )
    assert result.exit_code == 2 and "synthetic corpus" in result.stderr
