"""`openxiv eval ...`: measure review quality on a data set and write a report folder.

openxiv eval decision --data DIR (--stored | --model ALIAS) --out DIR
openxiv eval pairwise --data DIR (--stored | --model ALIAS) --out DIR
openxiv eval revision --data DIR --model ALIAS --out DIR
openxiv eval integrity --out DIR
openxiv eval all      --data DIR (--stored | --model ALIAS) --out DIR
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from openxiv.config import load_settings
from openxiv.evaluation import metrics as m
from openxiv.evaluation.datasets import Dataset, DatasetError, load_dataset
from openxiv.evaluation.decision import (
    DEFAULT_THRESHOLD,
    Predictions,
    decision_section,
    predictions_from_run,
    run_engine_reviews,
)
from openxiv.evaluation.pairwise import build_pairs, pairwise_section, pointwise_pairwise, run_judgements
from openxiv.evaluation.protocols import ReviewerUnderTest
from openxiv.evaluation.report import write_report
from openxiv.evaluation.revision import Mode, revision_section, run_revision_study
from openxiv.evaluation.runlog import ConfigurationChanged, RunAborted, RunLog

BENCH_RELATIVE = Path("shared/data/iclr2022-bench")
console = Console(stderr=True)


def default_data_dir() -> Path:
    """The `eval_data` setting (`$OPENXIV_EVAL_DATA`), else `../shared/data/iclr2022-bench` next to
    the repository (or the cwd)."""
    configured = load_settings().eval_data
    if configured:
        return Path(configured)
    repo = Path(__file__).resolve().parents[3]
    for base in (repo.parent, Path.cwd().parent, Path.cwd()):
        if (base / BENCH_RELATIVE).is_dir():
            return base / BENCH_RELATIVE
    return repo.parent / BENCH_RELATIVE


def fail(message: str) -> typer.Exit:
    """Print one line saying what is wrong; the caller raises the returned exit (status 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _load(data: Path | None) -> Dataset:
    try:
        return load_dataset(data or default_data_dir())
    except DatasetError as error:
        raise fail(str(error)) from None


def _engine(model: str, out: Path) -> ReviewerUnderTest:
    # Imported here, not at the top: every `openxiv` command loads this module, and only the runs
    # with --model need the review engine, the LLM client and the integrity benchmark.
    from openxiv.evaluation import adapters

    try:
        return adapters.make_engine(model, out=out)
    except adapters.EngineUnavailable as error:
        raise fail(str(error)) from None


def describe(engine: ReviewerUnderTest) -> dict[str, Any]:
    """The engine's configuration for the report, where it can say (the protocol does not ask)."""
    method = getattr(engine, "describe", None)
    return dict(method()) if callable(method) else {"alias": engine.name}


@contextmanager
def progress(label: str, total: int) -> Iterator[Callable[[str], None]]:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda _item: bar.advance(task)


def _stored_predictions(dataset: Dataset, reviewers: list[str] | None) -> list[Predictions]:
    runs = dataset.reviewer_runs
    if not runs:
        raise fail(f"{dataset.source}: --stored needs stored reviews (llm_reviews/*.csv) and there are none")
    if reviewers:
        chosen = [r for r in runs if any(key in r.name for key in reviewers)]
        if not chosen:
            names = ", ".join(r.name for r in runs)
            raise fail(f"no stored reviewer matches {reviewers}; available: {names}")
        runs = tuple(chosen)
    return [predictions_from_run(run, dataset) for run in runs]


def _model_predictions(
    dataset: Dataset, engine: ReviewerUnderTest, out: Path, limit: int | None
) -> Predictions:
    log = _run_log(out / "runs" / f"decision-{_safe(engine.name)}.jsonl", engine)
    total = min(len(dataset.with_text), limit) if limit else len(dataset.with_text)
    if total == 0:
        raise fail(f"{dataset.source}: --model needs paper texts and this data set has none")
    try:
        with progress(f"reviewing with {engine.name}", total) as tick:
            preds = run_engine_reviews(dataset, engine, log, limit=limit, on_item=tick)
    except RunAborted as error:
        raise fail(str(error)) from None
    if not preds.paper_ids:
        raise fail(f"no paper could be reviewed with {engine.name}; the errors are in {log.path}")
    return preds


def _run_log(path: Path, engine: ReviewerUnderTest) -> RunLog:
    try:
        return RunLog(path, config=describe(engine))
    except ConfigurationChanged as error:
        raise fail(str(error)) from None


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _command_line() -> str:
    return "openxiv " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _check_source(stored: bool, model: str | None) -> None:
    if not stored and not model:
        raise fail("say which reviews to evaluate: --stored (reviews in the data set) or --model ALIAS")


def _reviews_to_evaluate(
    data: Path | None,
    *,
    stored: bool,
    model: str | None,
    out: Path,
    reviewer: list[str] | None,
    resamples: int,
    seed: int,
    limit: int | None,
) -> tuple[Dataset, dict[str, Any]]:
    """The data set, and the arguments every study builder takes about whose reviews to score."""
    _check_source(stored, model)
    common = {
        "stored": stored,
        "model": model,
        "out": out,
        "reviewers": reviewer,
        "resamples": resamples,
        "seed": seed,
        "limit": limit,
    }
    return _load(data), common


# --------------------------------------------------------------------------- section builders


def build_decision(
    dataset: Dataset,
    *,
    stored: bool,
    model: str | None,
    out: Path,
    reviewers: list[str] | None,
    threshold: float,
    resamples: int,
    seed: int,
    limit: int | None,
) -> tuple[dict[str, Any], list[Predictions]]:
    predictions = _stored_predictions(dataset, reviewers) if stored else []
    engines = []
    if model:
        engine = _engine(model, out)
        engines.append(describe(engine))
        predictions.append(_model_predictions(dataset, engine, out, limit))
    with progress("decision metrics", len(predictions)) as tick:
        section = decision_section(
            dataset, predictions, threshold=threshold, resamples=resamples, seed=seed, on_reviewer=tick
        )
    return {**section, "engines": engines}, predictions


def build_pairwise(
    dataset: Dataset,
    *,
    stored: bool,
    model: str | None,
    out: Path,
    reviewers: list[str] | None,
    resamples: int,
    seed: int,
    limit: int | None,
    exclude_borderline: bool,
    predictions: list[Predictions] | None = None,
) -> dict[str, Any]:
    borderline = (5.0, 6.0) if exclude_borderline else None
    judged = []
    pointwise = []
    engines: list[dict[str, Any]] = []
    stored_pairs: list[tuple[str, str]] = []
    if stored:
        stored_pairs = build_pairs(
            dataset, seed=seed, require_text=False, exclude_borderline=borderline, limit=limit
        )
        for preds in _stored_predictions(dataset, reviewers):
            pointwise.append(pointwise_pairwise(preds, stored_pairs, dataset, resamples=resamples, seed=seed))
    pairs = build_pairs(dataset, seed=seed, require_text=True, exclude_borderline=borderline, limit=limit)
    if model:
        if not pairs:
            raise fail(f"{dataset.source}: no accepted/rejected pairs of papers with text to judge")
        engine = _engine(model, out)
        engines.append(describe(engine))
        log = _run_log(out / "runs" / f"pairwise-{_safe(engine.name)}.jsonl", engine)
        try:
            with progress(f"judging pairs with {engine.name}", len(pairs)) as tick:
                records, cost, failed = run_judgements(dataset, pairs, engine, log, on_item=tick)
        except RunAborted as error:
            raise fail(str(error)) from None
        judged.append((engine.name, records, cost, failed))
        mine = next((p for p in predictions or [] if p.source == f"model:{engine.name}"), None)
        if mine is None:
            ids = {pid for pair in pairs for pid in pair}
            subset = Dataset(
                dataset.name, {k: v for k, v in dataset.papers.items() if k in ids}, source=dataset.source
            )
            mine = _model_predictions(subset, engine, out, None)
        pointwise.append(pointwise_pairwise(mine, pairs, dataset, resamples=resamples, seed=seed))
    section = pairwise_section(
        pairs=pairs if model else stored_pairs,
        judged=judged,
        pointwise=pointwise,
        seed=seed,
        resamples=resamples,
        exclude_borderline=borderline,
    )
    return {**section, "engines": engines}


def build_revision(
    dataset: Dataset, *, model: str, out: Path, limit: int | None, meta: bool, resamples: int, seed: int
) -> dict[str, Any]:
    engine = _engine(model, out)
    papers = dataset.with_text[:limit] if limit else dataset.with_text
    if not papers:
        raise fail(f"{dataset.source}: the revision study needs paper texts and there are none")
    modes: list[Mode] = ["single", "meta"] if meta else ["single"]
    log = _run_log(out / "runs" / f"revision-{_safe(engine.name)}.jsonl", engine)
    try:
        with progress(f"revision study with {engine.name}", len(papers)) as tick:
            results = run_revision_study(papers, engine, log, modes=modes, on_item=tick)
    except RunAborted as error:
        raise fail(str(error)) from None
    section = revision_section(results, requested=len(papers), modes=modes, resamples=resamples, seed=seed)
    return {**section, "engines": [describe(engine)]}


def build_integrity(out: Path, *, quick: bool, seed: int) -> dict[str, Any]:
    from openxiv.evaluation import adapters

    bench = adapters.make_integrity_benchmark(out, quick=quick, seed=seed)
    with console.status("running the integrity benchmark"):
        report, markdown = bench.run()
    return {"report": report, "markdown": markdown}


# --------------------------------------------------------------------------- Typer wiring

DataOpt = Annotated[
    Path | None, typer.Option("--data", help="data set: ICLR bench folder, PeerRead folder or .jsonl")
]
OutOpt = Annotated[Path, typer.Option("--out", help="report folder (created; reruns resume)")]
StoredOpt = Annotated[bool, typer.Option("--stored", help="evaluate the reviews stored in the data set")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="model alias of the review engine to run")]
ReviewerOpt = Annotated[
    list[str] | None, typer.Option("--reviewer", help="only stored reviewers whose name contains this")
]
ResamplesOpt = Annotated[int, typer.Option("--resamples", min=0, help="bootstrap resamples")]
SeedOpt = Annotated[int, typer.Option("--seed", help="seed of bootstrap and pair sampling")]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="at most this many papers / pairs")]
ThresholdOpt = Annotated[float, typer.Option("--threshold", help="accept when Overall >= this")]
BorderlineOpt = Annotated[
    bool, typer.Option("--exclude-borderline", help="drop papers with mean human rating in [5, 6]")
]


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this domain's commands to the main app and its benchmarks to `openxiv bench`."""
    group = typer.Typer(help="Evaluate review quality against human decisions; write report.md/json + plots.")
    app.add_typer(group, name="eval")

    @group.command("decision")
    def decision_cmd(
        out: OutOpt,
        data: DataOpt = None,
        stored: StoredOpt = False,
        model: ModelOpt = None,
        reviewer: ReviewerOpt = None,
        threshold: ThresholdOpt = DEFAULT_THRESHOLD,
        resamples: ResamplesOpt = m.DEFAULT_RESAMPLES,
        seed: SeedOpt = m.DEFAULT_SEED,
        limit: LimitOpt = None,
    ) -> None:
        """Accept/reject agreement, ROC-AUC, threshold sweep and correlation with human ratings."""
        dataset, common = _reviews_to_evaluate(
            data,
            stored=stored,
            model=model,
            out=out,
            reviewer=reviewer,
            resamples=resamples,
            seed=seed,
            limit=limit,
        )
        section, _ = build_decision(dataset, threshold=threshold, **common)
        write_report(out, {"decision": section}, command=_command_line())
        _done(out)

    @group.command("pairwise")
    def pairwise_cmd(
        out: OutOpt,
        data: DataOpt = None,
        stored: StoredOpt = False,
        model: ModelOpt = None,
        reviewer: ReviewerOpt = None,
        resamples: ResamplesOpt = m.DEFAULT_RESAMPLES,
        seed: SeedOpt = m.DEFAULT_SEED,
        limit: LimitOpt = None,
        exclude_borderline: BorderlineOpt = False,
    ) -> None:
        """Accepted-vs-rejected pairs judged in both orders, and the pointwise-derived variant."""
        dataset, common = _reviews_to_evaluate(
            data,
            stored=stored,
            model=model,
            out=out,
            reviewer=reviewer,
            resamples=resamples,
            seed=seed,
            limit=limit,
        )
        section = build_pairwise(dataset, exclude_borderline=exclude_borderline, **common)
        write_report(out, {"pairwise": section}, command=_command_line())
        _done(out)

    @group.command("revision")
    def revision_cmd(
        out: OutOpt,
        model: Annotated[str, typer.Option("--model", help="model alias of the review engine")],
        data: DataOpt = None,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="at most this many papers")] = 10,
        meta: Annotated[bool, typer.Option("--meta", help="also revise from a meta-review (MR)")] = False,
        resamples: ResamplesOpt = m.DEFAULT_RESAMPLES,
        seed: SeedOpt = m.DEFAULT_SEED,
    ) -> None:
        """Review -> revise (with/without response letter) -> old vs new -> panel vote before/after."""
        dataset = _load(data)
        section = build_revision(
            dataset, model=model, out=out, limit=limit, meta=meta, resamples=resamples, seed=seed
        )
        write_report(out, {"revision": section}, command=_command_line())
        _done(out)

    @group.command("integrity")
    def integrity_cmd(
        out: OutOpt,
        quick: Annotated[bool, typer.Option("--quick", help="the benchmark's small corpus")] = False,
        seed: Annotated[int, typer.Option("--seed")] = 0,
    ) -> None:
        """Run the integrity benchmark and add its report to the folder."""
        write_report(
            out, {"integrity": build_integrity(out, quick=quick, seed=seed)}, command=_command_line()
        )
        _done(out)

    @group.command("all")
    def all_cmd(
        out: OutOpt,
        data: DataOpt = None,
        stored: StoredOpt = False,
        model: ModelOpt = None,
        reviewer: ReviewerOpt = None,
        resamples: ResamplesOpt = m.DEFAULT_RESAMPLES,
        seed: SeedOpt = m.DEFAULT_SEED,
        limit: LimitOpt = None,
        revision_limit: Annotated[
            int, typer.Option("--revision-limit", min=0, help="papers in the revision study")
        ] = 10,
        skip_integrity: Annotated[bool, typer.Option("--skip-integrity")] = False,
    ) -> None:
        """Every study that applies: decision, pairwise, revision (needs --model), integrity."""
        dataset, common = _reviews_to_evaluate(
            data,
            stored=stored,
            model=model,
            out=out,
            reviewer=reviewer,
            resamples=resamples,
            seed=seed,
            limit=limit,
        )
        sections: dict[str, Any] = {}
        sections["decision"], predictions = build_decision(dataset, threshold=DEFAULT_THRESHOLD, **common)
        sections["pairwise"] = build_pairwise(
            dataset, exclude_borderline=False, predictions=predictions, **common
        )
        if model and revision_limit:
            sections["revision"] = build_revision(
                dataset,
                model=model,
                out=out,
                limit=revision_limit,
                meta=False,
                resamples=resamples,
                seed=seed,
            )
        if not skip_integrity:
            sections["integrity"] = build_integrity(out, quick=True, seed=seed)
        write_report(out, sections, command=_command_line())
        _done(out)


def _done(out: Path) -> None:
    typer.echo(f"wrote {out / 'report.md'} and {out / 'report.json'}")
