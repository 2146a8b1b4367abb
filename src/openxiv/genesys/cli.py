"""`openxiv genesys run | report | worker` (docs/genesys.md). Added to the main app by cli.py.

Nothing here imports torch at module level: `openxiv --help` and the server never load it.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

genesys_app = typer.Typer(
    help="Genesys-lite: evolve language-model block designs, reviewed on OpenXiv.", no_args_is_help=True
)
_out = Console()
_err = Console(stderr=True)
DEFAULT_DB = "sqlite:///var/genesys/genesys.db"
DEFAULT_QUEUE = "sqlite:///var/genesys/queue.db"


def _configured_queue() -> str:
    """The platform's queue (`[queue] url` of openxiv.toml or OPENXIV_QUEUE__URL): verification
    jobs go on it under their own queue name, so the site's workers' setup serves both. An
    `immediate` or unreadable configuration falls back to a SQLite queue of genesys's own."""
    from openxiv.config import load_settings

    try:
        url = load_settings().queue.url
    except Exception:
        return DEFAULT_QUEUE
    return DEFAULT_QUEUE if url == "immediate" else url


def _fail(message: str) -> NoReturn:
    _err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _progress_table(progress: object) -> Table:
    from openxiv.genesys.loop import Progress

    assert isinstance(progress, Progress)
    table = Table(
        "generation", "phase", "designs", "checked", "accepted", "verified", "jobs", "best", "elapsed"
    )
    best = "-" if progress.best_fitness is None else f"{progress.best} {progress.best_fitness:+.4f}"
    table.add_row(
        f"{progress.generation}/{progress.generations}",
        progress.phase,
        str(progress.designs),
        str(progress.checked),
        str(progress.accepted),
        str(progress.verified),
        f"{progress.jobs_done}/{progress.jobs_total}",
        best,
        f"{progress.elapsed_s / 60:.1f} min",
    )
    return table


def register(app: typer.Typer) -> None:
    app.add_typer(genesys_app, name="genesys")


@genesys_app.command("run")
def run(
    generations: Annotated[
        int, typer.Option(min=1, help="generations after the seeds (resumes up to this)")
    ] = 3,
    budget: Annotated[float, typer.Option(min=0.1, help="minutes; no new design starts after this")] = 30.0,
    workers: Annotated[int, typer.Option(min=0, help="local verification worker processes (0: inline)")] = 0,
    per_generation: Annotated[int, typer.Option(min=1, help="new designs per generation")] = 4,
    ladder: Annotated[
        str, typer.Option(help="rungs: smoke, lite or full (openxiv/genesys/ladder.py)")
    ] = "lite",
    db: Annotated[str, typer.Option(help="SQLAlchemy URL of the evolution tree")] = DEFAULT_DB,
    queue: Annotated[
        str | None,
        typer.Option(
            help="queue URL for verification jobs (default: immediate; with --workers, the platform's "
            f"configured [queue] url, or {DEFAULT_QUEUE} when that is immediate)"
        ),
    ] = None,
    server: Annotated[str, typer.Option(envvar="OPENXIV_SERVER", help="URL of a running `openxiv serve`")] = (
        "http://127.0.0.1:8000"
    ),
    api_key: Annotated[
        str | None, typer.Option(envvar="OPENXIV_API_KEY", help="API key (read, submit)")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="LLM alias (llm.models) for the coder; none: mutator only")
    ] = None,
    corpus: Annotated[
        str, typer.Option(help="folder of .txt files for byte-level LM (synthetic if absent)")
    ] = "../shared/seeds",
    seed: Annotated[int, typer.Option(help="seed of every random choice")] = 0,
    warmup: Annotated[int, typer.Option(min=0, help="designs drawn from scratch first")] = 2,
    review_tries: Annotated[int, typer.Option(min=1, help="versions of a proposal at most")] = 2,
    final_seeds: Annotated[
        int, typer.Option(min=1, help="seeds of the final comparison on the top rung")
    ] = 3,
    explore: Annotated[float, typer.Option(min=0, max=1, help="chance a parent is picked uniformly")] = 0.2,
    rejected_sample: Annotated[
        float, typer.Option(min=0, max=1, help="share of not-accepted designs verified anyway (review study)")
    ] = 0.5,
    review_timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for each decision")] = 900.0,
    efficiency_factor: Annotated[
        float, typer.Option(min=1, help="cost limit relative to the GPT seed")
    ] = 4.0,
    report_dir: Annotated[
        Path, typer.Option("--report", help="where the report is written at the end")
    ] = Path("var/genesys/report"),
) -> None:
    """Evolve designs: propose, check, have each proposal reviewed on OpenXiv, verify on the
    ladder, publish papers. Stop it any time; the same command resumes."""
    from rich.live import Live

    from openxiv.client import OpenXivClient, OpenXivError, RetryPolicy
    from openxiv.genesys.ladder import ladder as ladder_rungs
    from openxiv.genesys.torchcheck import GenesysUnavailable, require_torch

    try:
        require_torch()
        ladder_rungs(ladder)
    except (GenesysUnavailable, ValueError) as error:
        _fail(str(error))
    if not api_key:
        _fail("an API key is needed (--api-key or OPENXIV_API_KEY) with the read and submit scopes")
    from openxiv.genesys.loop import Evolution, GenesysConfig, Progress
    from openxiv.genesys.report import write_report
    from openxiv.genesys.store import Store

    queue_url = queue or (_configured_queue() if workers else "immediate")
    config = GenesysConfig(
        generations=generations,
        per_generation=per_generation,
        budget_minutes=budget,
        ladder=ladder,
        warmup=warmup,
        review_tries=review_tries,
        final_seeds=final_seeds,
        explore=explore,
        rejected_sample=rejected_sample,
        efficiency_factor=efficiency_factor,
        seed=seed,
        corpus=corpus,
        db_url=db,
        queue_url=queue_url,
        review_timeout_s=review_timeout,
    )
    coder = None
    if model:
        from openxiv.config import load_settings
        from openxiv.genesys.coder import LLMCoder
        from openxiv.llm.client import LLMClient

        settings = load_settings()
        if model not in settings.llm.models:
            _fail(f"unknown model alias {model!r}; configured: {', '.join(sorted(settings.llm.models))}")
        coder = LLMCoder(LLMClient(settings.llm), model)
    worker = _start_worker(queue_url, workers) if workers and queue_url != "immediate" else None
    store = Store(db)
    try:
        with (
            OpenXivClient(server, api_key, retry=RetryPolicy(max_attempts=4, max_retry_after=30.0)) as client,
            Live(
                _progress_table(Progress(generations=generations)), console=_out, refresh_per_second=4
            ) as live,
        ):
            try:
                author = client.me().account.display_name
            except OpenXivError as error:
                _fail(f"cannot use the server at {server}: {error}")

            def log(line: str) -> None:
                live.console.print(
                    f"[dim]{datetime.now(UTC):%H:%M:%S}[/] {line}", highlight=False, markup=True
                )

            evolution = Evolution(
                config,
                store,
                client,
                author=author,
                coder=coder,
                on_progress=lambda p: live.update(_progress_table(p)),
                log=log,
            )
            outcome = evolution.run()
        path = write_report(store, report_dir)
    finally:
        store.close()
        if worker is not None:
            worker.terminate()
            worker.wait(30)
    _out.print(f"{outcome['designs']} designs in the tree; report: {path}", markup=False)


def _start_worker(queue_url: str, processes: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openxiv.cli",
            "genesys",
            "worker",
            "--queue",
            queue_url,
            "--processes",
            str(processes),
        ]
    )


@genesys_app.command("worker")
def worker(
    queue: Annotated[
        str | None,
        typer.Option(help="queue URL shared with `genesys run` (default: the platform's [queue] url)"),
    ] = None,
    processes: Annotated[int, typer.Option(min=1, help="worker processes (one core each)")] = 1,
) -> None:
    """Verify designs from the queue (run more of these, here or on other machines with Redis)."""
    from openxiv.genesys.jobs import VerificationQueue
    from openxiv.genesys.torchcheck import GenesysUnavailable, require_torch
    from openxiv.worker import configure_logging

    try:
        require_torch()
    except GenesysUnavailable as error:
        _fail(str(error))
    url = queue or _configured_queue()
    if url == "immediate":
        _fail("an immediate queue runs jobs inline; a worker needs sqlite:///PATH or redis://...")
    configure_logging()
    VerificationQueue(url).consumer(processes).run()


@genesys_app.command("report")
def report(
    db: Annotated[str, typer.Option(help="SQLAlchemy URL of the evolution tree")] = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="folder for report.md, lineage and fitness plots")] = Path(
        "var/genesys/report"
    ),
) -> None:
    """Leaderboard, lineage plot (PNG/SVG), fitness over generations and review vs fitness."""
    from openxiv.genesys.report import write_report
    from openxiv.genesys.store import Store

    store = Store(db)
    try:
        if not store.designs():
            _fail(f"no designs in {db}; run `openxiv genesys run` first")
        path = write_report(store, out)
    finally:
        store.close()
    _out.print(path.read_text("utf-8"), markup=False)
    _out.print(f"written to {out}", markup=False)
