"""The whole loop against a real `openxiv serve` (SQLite, immediate queue, the deterministic `test`
model as every reviewer): designs are proposed, checked, reviewed on the platform, verified on the
smoke ladder, published; the run resumes after an interruption; the CLI runs it on a Huey queue
with a worker process and writes the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from typer.testing import CliRunner

from openxiv.client import OpenXivClient, PollSchedule
from openxiv.genesys.cli import genesys_app
from openxiv.genesys.design import Node, gpt_seed
from openxiv.genesys.jobs import VerificationQueue
from openxiv.genesys.loop import Evolution, GenesysConfig
from openxiv.genesys.report import write_report
from openxiv.genesys.store import CHECK_FAILED, CHECKED, VERIFIED, Store
from tests.core.processes import Instance, serve


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    instance = Instance(tmp_path_factory.mktemp("genesys") / "site", queue_url="immediate")
    try:
        url = serve(instance, with_worker=False)
        with OpenXivClient(url) as anonymous:
            token = anonymous.register("genesys@example.org", "correct horse battery", "Gene Sys").key.token
        yield url, token
    finally:
        instance.stop()


def smoke_config(db: Path, **overrides: Any) -> GenesysConfig:
    values: dict[str, Any] = {
        "generations": 2,
        "per_generation": 2,
        "ladder": "smoke",
        "warmup": 1,
        "final_seeds": 2,
        "efficiency_factor": 1e6,  # step timings on a shared CI machine are too noisy to gate on
        "db_url": f"sqlite:///{db}",
        "review_timeout_s": 120,
        "corpus": "",  # the synthetic corpus: CI needs no data files
        "seed": 7,
    }
    values.update(overrides)
    return GenesysConfig(**values)


def evolve(site: tuple[str, str], config: GenesysConfig) -> tuple[Store, dict[str, Any]]:
    url, token = site
    store = Store(config.db_url)
    with OpenXivClient(url, token) as client:
        evolution = Evolution(config, store, client, author="Gene Sys")
        evolution.publisher.poll = PollSchedule(initial=0.1, factor=1.5, ceiling=0.5)
        outcome = evolution.run()
    return store, outcome


def test_smoke_run_reviews_verifies_publishes_and_reports(site: tuple[str, str], tmp_path: Path) -> None:
    store, outcome = evolve(site, smoke_config(tmp_path / "g.db"))
    rows = store.designs()
    new = [r for r in rows if r.mode != "seed" and r.status != CHECK_FAILED]
    assert len(new) == 4 and {r.generation for r in new} == {1, 2}
    assert {r.mode for r in new} & {"mutation", "crossover"}
    assert all(r.parents for r in new if r.mode in ("mutation", "crossover"))

    url, token = site
    with OpenXivClient(url, token) as client:
        for row in rows:
            if row.status == CHECK_FAILED:
                continue
            assert row.proposal_id, row.name
            item = client.get(row.proposal_id)
            assert item.kind == "proposal" and row.name in item.title
            assert item.status == row.proposal_status  # the gate recorded the platform's decision
            assert row.accepted == (item.status in ("provisionally_accepted", "accepted"))
            assert (
                row.name in item.version.proposal.proposed_method
                or "```" in item.version.proposal.proposed_method
            )
        papers = [r for r in store.designs(VERIFIED) if r.paper_id]
        assert papers, "no verified design got a paper"
        child = next((r for r in papers if r.parents), papers[0])
        text = client.text(child.paper_id)
        assert "Results" in text and "smoke-a" in text and "Checker report" in text
        if child.parents:
            parent = store.get(child.parents[0])
            assert (parent.paper_id or parent.proposal_id) in text  # the lineage links by identifier

    verified = store.designs(VERIFIED)
    assert all(r.fitness is not None for r in verified)
    assert all(len(store.results(r.id)) >= 3 for r in verified)  # three tasks, at least one seed
    showdown = outcome["showdown"]
    assert showdown["rung"] == "smoke-b" and showdown["gpt"]["seeds"] == 2 and showdown["best"]["seeds"] == 2
    assert showdown["best"]["name"] != "gpt"

    report = write_report(store, tmp_path / "report")
    text = report.read_text()
    assert "## Leaderboard" in text and "Spearman rank correlation" in text and "Final comparison" in text
    for name in ("lineage.png", "lineage.svg", "fitness.png", "fitness.svg", "report.json"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    curve = json.loads((tmp_path / "report" / "report.json").read_text())["curve"]
    assert [c["generation"] for c in curve] == [1, 2]  # the seeds are reference lines, not the curve
    store.close()


def test_a_slot_whose_crossovers_only_give_back_a_parent_still_gets_a_new_design(tmp_path: Path) -> None:
    """Two verified parents that differ in the mixer alone: every crossover of them is one of
    them again. The slot must not stay empty after its attempts; it turns to mutation."""
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    narrow = gpt_seed().copy(name="narrow")
    narrow.root.children["mixer"] = Node("CausalSelfAttention", {"heads": 2})
    for design, fit in ((gpt_seed(), 0.1), (narrow, 0.2)):
        row = store.add_design(design, generation=0, mode="seed", parents=[], operation="", coder="library")
        assert row is not None
        store.update(row.id, status=VERIFIED, fitness=fit)
    config = smoke_config(tmp_path / "x.db", mix={"crossover": 1.0}, warmup=0)
    evolution = Evolution(config, store, cast(OpenXivClient, None), author="Gene Sys")

    made = evolution._design_one(1, 0, evolution._rng("design", 1, 0), warming_up=False)

    assert made is not None and made.status == CHECKED and made.mode in ("mutation", "scratch")
    assert len(store.designs()) == 3  # the repeats were never stored
    store.close()


def test_an_interrupted_run_resumes_without_repeating_work(
    site: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = smoke_config(tmp_path / "r.db", generations=1, final_seeds=1)
    original = VerificationQueue.collect
    seen: list[int] = []

    def collect_then_stop(
        self: VerificationQueue, pending: list[Any], *, on_result: Any, poll_s: float = 0.25
    ) -> None:
        def record(job: Any, result: dict[str, Any]) -> None:
            on_result(job, result)
            seen.append(1)
            if len(seen) == 4:
                raise KeyboardInterrupt  # the operator pressed Ctrl-C in the middle of verification

        original(self, pending, on_result=record, poll_s=poll_s)

    monkeypatch.setattr(VerificationQueue, "collect", collect_then_stop)
    with pytest.raises(KeyboardInterrupt):
        evolve(site, config)
    monkeypatch.setattr(VerificationQueue, "collect", original)

    store = Store(config.db_url)
    before = {(e.design_id, e.rung, e.seed, e.task): e.id for e in store.results()}
    proposals_before = {r.id: r.proposal_id for r in store.designs() if r.proposal_id}
    assert len(before) == 4 and proposals_before
    store.close()

    store, outcome = evolve(site, config)
    after = {(e.design_id, e.rung, e.seed, e.task): e.id for e in store.results()}
    assert all(after[key] == value for key, value in before.items())  # nothing trained twice
    assert len(after) > len(before)
    for row in store.designs():
        if row.id in proposals_before:
            assert row.proposal_id == proposals_before[row.id]  # nothing submitted twice
    assert store.get_state("generation_done") == 1
    assert outcome["showdown"] is not None

    # Asking for more generations carries on from the last finished one.
    store.close()
    store, _ = evolve(site, smoke_config(tmp_path / "r.db", generations=2, final_seeds=1))
    assert {r.generation for r in store.designs()} == {0, 1, 2}
    assert store.get_state("generation_done") == 2
    store.close()


def test_cli_runs_on_a_queue_with_a_worker_process_and_reports(site: tuple[str, str], tmp_path: Path) -> None:
    url, token = site
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENXIV_")}
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    args = [
        sys.executable, "-m", "openxiv.cli", "genesys", "run",
        "--generations", "1", "--per-generation", "1", "--budget", "5", "--workers", "1",
        "--queue", f"sqlite:///{tmp_path / 'queue.db'}", "--ladder", "smoke", "--db", db,
        "--server", url, "--api-key", token, "--corpus", "", "--final-seeds", "1",
        "--efficiency-factor", "1000000", "--report", str(tmp_path / "report"),
    ]  # fmt: skip
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "designs in the tree; report:" in done.stdout
    store = Store(db)
    verified = store.designs(VERIFIED)
    assert verified and all(r.fitness is not None for r in verified)
    store.close()
    assert (tmp_path / "report" / "lineage.png").exists()

    result = CliRunner().invoke(genesys_app, ["report", "--db", db, "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert "## Review vs fitness" in result.output and (tmp_path / "again" / "fitness.svg").exists()
    missing = CliRunner().invoke(genesys_app, ["report", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code == 2
