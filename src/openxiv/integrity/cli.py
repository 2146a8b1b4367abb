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
        seed: int = typer.Option(0, "--seed", help="corpus seed"),
        quick: bool = typer.Option(False, "--quick", help="a small corpus (about 140 documents)"),
    ) -> None:
        """Generate the labelled injection corpus, scan it and report quality and speed."""
        from rich.progress import Progress, TaskID

        from openxiv.integrity.bench import run_benchmark

        with Progress(transient=True) as progress:
            tasks: dict[str, TaskID] = {}

            def step(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=total)
                progress.update(tasks[phase], completed=done)

            results = run_benchmark(out, seed=seed, quick=quick, settings=_settings(), progress=step)
        _print_results(results)
        typer.echo(f"results: {out / 'results.json'}")


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


def _print_results(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()

    def pct(r: dict[str, Any]) -> str:
        if r["value"] is None:
            return "-"
        return f"{r['value'] * 100:.1f}% [{r['ci95'][0] * 100:.1f}, {r['ci95'][1] * 100:.1f}] (n={r['n']})"

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
