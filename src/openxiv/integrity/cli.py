"""Command-line commands of the integrity domain, added to the main `openxiv` app by cli.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from openxiv.integrity.schemas import IntegrityReport
    from openxiv.integrity.settings import IntegritySettings


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this domain's commands to the main app and its benchmarks to `openxiv bench`."""

    @app.command("scan")
    def scan(
        file: Path = typer.Argument(..., help="PDF, Markdown or LaTeX file to scan"),
        as_json: bool = typer.Option(False, "--json", help="print the full report as JSON"),
        max_pages: int | None = typer.Option(None, "--max-pages", help="refuse PDFs with more pages"),
    ) -> None:
        """Scan a document for prompt injection. Exit 0: clean, 3: flagged, 2: unreadable/unsupported."""
        from openxiv.integrity.errors import DocumentError
        from openxiv.integrity.scanner import scan_document
        from openxiv.integrity.settings import IntegritySettings

        settings = _settings()
        if max_pages is not None:
            settings = settings.model_copy(update={"max_pages": max_pages})
        try:
            data = file.read_bytes()
        except OSError as error:
            typer.echo(f"error: cannot read {file}: {error.strerror or error}", err=True)
            raise typer.Exit(2) from None
        try:
            report = scan_document(data, filename=file.name, settings=settings or IntegritySettings())
        except DocumentError as error:
            typer.echo(f"error: {file.name}: {error}", err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2))
        else:
            _print_report(file.name, report)
        raise typer.Exit(3 if report.flagged else 0)

    @bench.command("integrity")
    def bench_integrity(
        out: Path = typer.Option(..., "--out", help="directory for the corpus and results.json"),
        seed: int = typer.Option(0, "--seed", help="corpus seed (synthetic corpus only)"),
        quick: bool = typer.Option(
            False, "--quick", help="a small corpus, about 140 documents (synthetic corpus only)"
        ),
        real: Path | None = typer.Option(
            None,
            "--real",
            help="scan real documents in DIR/clean and DIR/attacked (tags from DIR/manifest.json) "
            "instead of generating the synthetic corpus",
        ),
        jobs: int = typer.Option(1, "--jobs", min=1, help="with --real: files scanned at once"),
        timeout: float | None = typer.Option(
            None,
            "--timeout",
            min=1,
            help="with --real: seconds one file may take before it counts as a crash "
            "(default: the scanner's time budget + 60)",
        ),
    ) -> None:
        """Scan the labelled injection corpus (generated, or real with --real) and report quality and speed."""
        from rich.progress import Progress, TaskID

        if real is not None:
            if quick or seed != 0:
                typer.echo("error: --seed and --quick apply to the synthetic corpus, not to --real", err=True)
                raise typer.Exit(2)
            _bench_real(real, out, jobs=jobs, timeout=timeout)
            return

        from openxiv.tooling.integrity.bench import run_benchmark

        with Progress(transient=True) as progress:
            tasks: dict[str, TaskID] = {}

            def step(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=total)
                progress.update(tasks[phase], completed=done)

            results = run_benchmark(out, seed=seed, quick=quick, settings=_settings(), progress=step)
        _print_results(results)
        typer.echo(f"results: {out / 'results.json'}")


def _bench_real(root: Path, out: Path, *, jobs: int, timeout: float | None) -> None:
    """`bench integrity --real`: exit 1 when any file crashed the scanner, 2 when ROOT is not a set."""
    from rich.progress import Progress

    from openxiv.tooling.integrity.bench_real import DatasetError, Outcome, discover, run_real_benchmark

    try:
        total = len(discover(root))
    except DatasetError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    with Progress(transient=True) as progress:
        task = progress.add_task("scan", total=total)

        def step(outcome: Outcome) -> None:
            progress.update(task, advance=1, description=outcome.file[:40])

        results = run_real_benchmark(
            root, out, settings=_settings(), jobs=jobs, timeout_s=timeout, progress=step
        )
    _print_real_results(results)
    typer.echo(f"results: {out / 'results.json'}, per file: {out / 'files.md'}")
    if results["crashes"]:
        raise typer.Exit(1)


def _settings() -> IntegritySettings:
    """The instance's integrity settings (openxiv.toml / env), defaults when none are configured."""
    from openxiv.config import load_settings

    try:
        return load_settings().integrity
    except Exception:
        from openxiv.integrity.settings import IntegritySettings

        return IntegritySettings()


def _print_report(name: str, report: IntegrityReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    verdict = "[bold red]FLAGGED[/]" if report.flagged else "[green]not flagged[/]"
    console.print(
        f"{name}: {verdict}  risk {report.risk_score:.2f} (threshold {report.threshold:.2f}), {report.page_count} page(s)"
    )
    if report.categories:
        console.print("categories: " + ", ".join(c.value for c in report.categories))
    if report.findings:
        table = Table("score", "category", "page", "evidence", "text")
        for f in report.findings[:20]:
            table.add_row(
                f"{f.score:.2f}", f.category.value, str(f.page or "-"), f.evidence[:80], f.text[:60]
            )
        console.print(table)
    console.print(f"timings (ms): {report.timings}")


def _percent_with_ci(rate: dict[str, Any]) -> str:
    low, high = rate["ci95"]
    return f"{rate['value'] * 100:.1f}% [{low * 100:.1f}, {high * 100:.1f}]"


def _print_results(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()

    def pct(r: dict[str, Any]) -> str:
        return "-" if r["value"] is None else f"{_percent_with_ci(r)} (n={r['n']})"

    console.print(
        f"documents {results['documents']}: {results['attacks']} attacks, {results['clean']} clean, {results['hard_negatives']} hard negatives"
    )
    console.print(
        f"accuracy {pct(results['accuracy'])}; precision {results['precision']:.4f}; recall {pct(results['recall'])}; macro-F1 (6 main types) {results['macro_f1_main_types']:.4f}"
    )
    console.print(
        f"FPR clean {pct(results['fpr_clean'])}; FPR hard negatives {pct(results['fpr_hard_negatives'])}; localisation {pct(results['localisation'])}"
    )
    table = Table("type", "recall", "category recall", "cat. precision", "F1", "localisation")
    for kind, row in results["per_type"].items():
        table.add_row(
            kind,
            pct(row["recall"]),
            pct(row["category_recall"]),
            f"{row['category_precision']:.3f}",
            f"{row['f1']:.3f}",
            pct(row["localisation"]),
        )
    console.print(table)
    console.print(f"speed: {results['speed']}")
    if results["errors"]:
        console.print(f"[red]errors:[/] {results['errors'][:10]}")


def _print_real_results(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from openxiv.tooling.integrity.bench_real import Outcome

    console = Console()
    table = Table("file", "label", "tag", "verdict", "risk", "top finding", "s", "pages")
    colour = {
        "hold": "red",
        "note": "yellow",
        "pass": "green",
        "unreadable": "magenta",
        "crash": "bold magenta",
    }
    for row in results["files"]:
        top = Outcome(**row).top_finding
        table.add_row(
            escape(row["file"]),
            row["label"],
            escape(row["tag"]),
            f"[{colour[row['verdict']]}]{row['verdict']}[/]",
            "" if row["risk"] is None else f"{row['risk']:.2f}",
            escape(top if row["verdict"] not in ("crash", "unreadable") else (row["reason"] or "")[:60]),
            f"{row['seconds']:.2f}",
            str(row["pages"] or ""),
        )
    console.print(table)

    def pct(r: dict[str, Any]) -> str:
        return "-" if r["value"] is None else f"{r['k']}/{r['n']} = {_percent_with_ci(r)}"

    console.print(
        f"documents {results['documents']}: {results['clean']} clean ({results['hard_negatives']} hard negatives), "
        f"{results['attacked']} attacked; verdicts {results['verdicts']}",
        markup=False,
    )
    console.print(f"held, clean: {pct(results['fpr_clean'])}", markup=False)
    console.print(f"held, hard negatives: {pct(results['fpr_hard_negatives'])}", markup=False)
    console.print(f"held, other clean: {pct(results['fpr_ordinary_clean'])}", markup=False)
    console.print(f"noted, clean: {pct(results['noted_clean'])}", markup=False)
    console.print(
        f"recall (held), attacked: {pct(results['recall'])}; held or noted: {pct(results['recall_held_or_noted'])}",
        markup=False,
    )
    channels = Table("attack channel (tag)", "held")
    for tag, r in results["recall_by_channel"].items():
        channels.add_row(escape(tag), pct(r))
    console.print(channels)
    speed = results["speed"]
    console.print(
        f"speed: {speed['pdf_pages']} PDF pages; full scan {speed['full_scan_pages_per_s']} pages/s "
        f"({speed['full_scan_pages_per_cpu_s']} per CPU second); "
        f"stages 1-2 ({'+'.join(speed['stages_1_2_keys']) or 'no stage timings'}) {speed['stages_1_2_pages_per_s']} pages/s "
        f"({speed['stages_1_2_pages_per_cpu_s']} per CPU second, estimated)",
        markup=False,
    )
    for kind in ("unreadable", "crashes"):
        console.print(f"{kind}: {len(results[kind])}", markup=False)
        for row in results[kind]:
            console.print(f"  {row['file']} ({row['label']}): {row['reason']}", markup=False)
