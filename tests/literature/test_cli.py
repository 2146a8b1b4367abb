"""`openxiv literature ...` and `openxiv bench literature` through Typer's runner, on a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from openxiv.db import make_engine
from openxiv.literature.cli import register
from openxiv.models import Base

from .conftest import FIXTURES, ReplayServer


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[typer.Typer, CliRunner]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url, pool_size=1)
    Base.metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("OPENXIV_DATABASE_URL", url)
    monkeypatch.setenv("OPENXIV_LITERATURE__INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("OPENXIV_LITERATURE__INDEX_REFRESH_INTERVAL_S", "0")
    monkeypatch.setenv("OPENXIV_CONFIG", str(tmp_path / "absent.toml"))
    app, bench = typer.Typer(), typer.Typer()
    register(app, bench)
    app.add_typer(bench, name="bench")
    return app, CliRunner()


def test_import_then_search_as_json(cli: tuple[typer.Typer, CliRunner], tmp_path: Path) -> None:
    app, runner = cli
    result = runner.invoke(app, ["literature", "import", str(FIXTURES / "oai_arxiv.xml")])
    assert result.exit_code == 0, result.output
    assert "accepted 2  duplicate 0  rejected 2" in result.output
    assert "marked deleted by the repository" in result.output
    again = runner.invoke(app, ["literature", "import", str(FIXTURES / "oai_arxiv.xml")])
    assert "was imported before" in again.output
    result = runner.invoke(
        app, ["literature", "search", "residual learning deep networks", "--k", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["title"] == "Deep Residual Learning for Image Recognition"
    assert hits[0]["ids"] == {"arxiv": "1512.03385"}
    assert set(hits[0]) >= {"title", "ids", "score", "passage", "authors", "year"}
    # the JSON output imports back as JSONL
    exported = tmp_path / "hits.jsonl"
    exported.write_text("\n".join(json.dumps(hit) for hit in hits))
    result = runner.invoke(app, ["literature", "import", str(exported), "--json"])
    assert json.loads(result.output)["duplicate"] == len(hits)


def test_seed_search_text_and_reindex(cli: tuple[typer.Typer, CliRunner]) -> None:
    app, runner = cli
    result = runner.invoke(app, ["literature", "seed"])
    assert result.exit_code == 0 and "accepted 342" in result.output
    result = runner.invoke(app, ["literature", "search", "generative adversarial networks"])
    assert result.exit_code == 0
    assert " 1. Generative Adversarial Networks (2014)" in result.output
    result = runner.invoke(app, ["literature", "reindex"])
    assert result.exit_code == 0 and "indexed 342 records" in result.output


def test_bad_input_exits_2_with_one_line(cli: tuple[typer.Typer, CliRunner], tmp_path: Path) -> None:
    app, runner = cli
    cases = [
        (["literature", "import", str(tmp_path / "missing.jsonl")], "no such file"),
        (["literature", "import", str(FIXTURES / "refs.bib"), "--format", "csv"], "unknown format 'csv'"),
        (["literature", "search", "   "], "the query is empty"),
        (["literature", "import", "https://example.org/feed.xml"], "external access is switched off"),
    ]
    prose = tmp_path / "prose.txt"
    prose.write_text("hello there")
    cases.append((["literature", "import", str(prose)], "cannot tell the format"))
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_import_from_an_oai_pmh_url_follows_resumption_tokens(
    cli: tuple[typer.Typer, CliRunner], replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, runner = cli
    page = (FIXTURES / "oai_arxiv.xml").read_bytes()
    first = page.replace(
        b'completeListSize="4"></resumptionToken>', b'completeListSize="5">token-2</resumptionToken>'
    )
    replay_server.route(
        "/oai",
        (200, {"Content-Type": "text/xml"}, first),
        (200, {"Content-Type": "text/xml"}, (FIXTURES / "oai_dc.xml").read_bytes()),
    )
    monkeypatch.setenv("OPENXIV_LITERATURE__ONLINE", "true")
    result = runner.invoke(
        app, ["literature", "import", f"{replay_server.url}/oai?verb=ListRecords&metadataPrefix=arXiv"]
    )
    assert result.exit_code == 0, result.output
    assert "accepted 3" in result.output
    second = replay_server.hits[1]
    assert second.query == {"verb": ["ListRecords"], "resumptionToken": ["token-2"]}


def test_ground_command(cli: tuple[typer.Typer, CliRunner], tmp_path: Path) -> None:
    app, runner = cli
    runner.invoke(app, ["literature", "seed"])
    paper = tmp_path / "paper.md"
    paper.write_text(
        "# Contrastive pre-training of image and text encoders\n\n## Abstract\n\n"
        "We train image and text encoders contrastively on captioned images for zero-shot transfer.\n"
    )
    result = runner.invoke(app, ["literature", "ground", str(paper), "--json"])
    assert result.exit_code == 0, result.output
    grounding = json.loads(result.output)
    titles = [item["title"] for item in grounding["related"]]
    assert "Learning Transferable Visual Models From Natural Language Supervision" in titles[:3]
    assert grounding["missing_citations"]


def test_bench_command_runs_small(cli: tuple[typer.Typer, CliRunner], tmp_path: Path) -> None:
    app, runner = cli
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    page = "Daily Papers\n\nAug 7\n\n" + "\n\n".join(
        f"Paper about topic{i} and item{i}\n\n" + f"We study topic{i} carefully with item{i}. " * 12
        for i in range(12)
    )
    (seeds / "003_test.txt").write_text(page)
    out = tmp_path / "bench.json"
    result = runner.invoke(
        app,
        ["bench", "literature", "--sizes", "300", "--baseline-size", "300", "--queries", "20",
         "--no-dense", "--seeds", str(seeds), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["known_item"]["papers"] == 12 and data["known_item"]["bm25_title_mrr"] == 1.0
    scale = data["scale"][0]
    assert scale["records"] == 300 and scale["bm25_query"]["p95_ms"] >= scale["bm25_query"]["p50_ms"]
    assert data["baseline"]["ratio_p50"] > 1
