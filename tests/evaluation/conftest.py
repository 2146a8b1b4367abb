"""Fixtures for the evaluation harness tests: the ICLR bench location and a small JSONL data set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from openxiv.evaluation.cli import default_data_dir, register
from tests.conftest import missing


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    path = default_data_dir()
    if not (path / "ratings_subset.tsv").is_file():
        missing(f"ICLR 2022 bench not found at {path} (set OPENXIV_EVAL_DATA)")
    return path


@pytest.fixture
def eval_app() -> typer.Typer:
    app = typer.Typer()
    bench = typer.Typer()
    app.add_typer(bench, name="bench")
    register(app, bench)
    return app


SECRET_META = "META-REVIEW-MARKER: the committee accepts this paper"


@pytest.fixture
def small_jsonl(tmp_path: Path) -> Path:
    """Eight papers (4 accepted); each text names its own quality so a test engine can score it."""
    path = tmp_path / "papers.jsonl"
    lines = []
    for i in range(8):
        accepted = i % 2 == 0
        lines.append(
            json.dumps(
                {
                    "id": f"p{i}",
                    "title": f"Paper {i}",
                    "abstract": f"We study problem {i}.",
                    "paper_context": f"QUALITY={'high' if accepted else 'low'}\nBody of paper {i}.\n"
                    "Published as a conference paper at ICLR 2024",
                    "decision": "Accept (Poster)" if accepted else "Reject",
                    "rates": [8, 6, 6] if accepted else [3, 5, 3],
                    "meta_review": SECRET_META,
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
