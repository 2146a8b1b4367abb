"""Command-line commands of the review domain, added to the main `openxiv` app by cli.py."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

EMBEDDED_NOTE = (
    "Note: the embedded SmolLM2-135M model is tiny; its reviews show the mechanics, not expert judgement. "
    "Configure a hosted model in openxiv.toml ([llm.models.<alias>], see docs/llm.md)."
)


class Kind(StrEnum):
    paper = "paper"
    proposal = "proposal"


class Mode(StrEnum):
    single = "single"
    meta = "meta"
    pairwise = "pairwise"
    vote = "vote"


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this domain's commands to the main app and its benchmarks to `openxiv bench`."""
    app.command("review")(review_command)
    bench.command("review")(bench_review_command)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def review_command(
    file: Annotated[Path, typer.Argument(help="PDF, Markdown, LaTeX or text file; a proposal as JSON/YAML")],
    type: Annotated[
        Kind | None, typer.Option("--type", help="paper or proposal (default: from the file)")
    ] = None,
    mode: Annotated[Mode, typer.Option(help="single, meta, pairwise or vote")] = Mode.single,
    against: Annotated[Path | None, typer.Option(help="the other document, for --mode pairwise")] = None,
    model: Annotated[
        str | None, typer.Option(help="model alias for every role (default: [review] settings)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    record: Annotated[
        Path | None, typer.Option(help="JSONL file to record calls in (default: [llm] record_path)")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option(help="answer from the calls recorded in this JSONL file")
    ] = None,
) -> None:
    """Review a document offline (embedded model by default); every model call is recorded."""
    from openxiv.config import load_settings
    from openxiv.llm.client import LLMClient
    from openxiv.llm.port import LLMError
    from openxiv.llm.recording import JsonlRecorder
    from openxiv.review.documents import load_document
    from openxiv.review.engine import ReviewEngine, ReviewFailedError, ReviewInputError

    try:
        settings = load_settings()
    except Exception as error:  # a broken openxiv.toml is an operator error, shown in one line
        _fail(f"invalid settings: {error}".splitlines()[0])
    review_settings = settings.review
    if model:
        if model not in settings.llm.models:
            _fail(f"unknown model alias {model!r} (configured: {', '.join(sorted(settings.llm.models))})")
        review_settings = review_settings.model_copy(
            update={
                "single_model": model,
                "area_chair_model": model,
                "reviewer_models": [model],
                "pairwise_model": model,
                "panel": [model] * len(review_settings.panel),
            }
        )
    if mode is Mode.pairwise and against is None:
        _fail("--mode pairwise needs --against FILE2")
    if against is not None and mode is not Mode.pairwise:
        _fail("--against is only used with --mode pairwise")
    kind = type.value if type else None
    try:
        document = load_document(file, kind)
        other = load_document(against, document.kind) if against else None
    except ReviewInputError as error:
        _fail(str(error))
        return
    if replay is not None and not replay.is_file():
        _fail(f"{replay}: no such recording")
    recorder = JsonlRecorder(record or settings.llm.record_path)
    llm = LLMClient(settings.llm, recorder, replay=JsonlRecorder(replay) if replay else None)
    engine = ReviewEngine(llm, review_settings)
    try:
        if mode is Mode.single:
            result: Any = engine.single(document)
        elif mode is Mode.meta:
            result = engine.meta(document)
        elif mode is Mode.pairwise:
            assert other is not None
            result = engine.pairwise(document, other)
        else:
            result = engine.vote(document)
    except ReviewInputError as error:
        _fail(str(error))
    except ReviewFailedError as error:
        _fail(error.reason, code=1)
    except LLMError as error:
        _fail(str(error), code=1)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    _print(result)
    aliases = {review_settings.single_model, review_settings.area_chair_model, *review_settings.panel}
    if any(settings.llm.models[a].provider == "embedded" for a in aliases if a in settings.llm.models):
        typer.echo(EMBEDDED_NOTE, err=True)
    typer.echo(f"calls recorded in {recorder.path}", err=True)


def _print(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    usage = result.usage
    console.print(
        f"[bold]{result.mode} review[/bold]  rubric {result.provenance.rubric_id} {result.provenance.rubric_version}, "
        f"prompts {result.provenance.prompt_version}"
    )
    if result.mode in ("single", "meta"):
        if result.truncation.truncated:
            console.print(
                f"(document truncated: {result.truncation.kept_tokens} of {result.truncation.original_tokens} tokens)"
            )
        console.print(
            f"grounding: {'used' if result.grounding.used else 'none'} {result.grounding.note}".rstrip()
        )
    if result.mode == "single":
        _print_report(console, result.report)
    elif result.mode == "meta":
        console.print("sub-fields: " + ", ".join(result.plan.get("subfields", [])))
        for sub in result.sub_reviews:
            state = "ok" if sub.status == "completed" else f"FAILED: {sub.error}"
            console.print(
                f"  reviewer {sub.position + 1}: {sub.spec.get('name')} ({sub.spec.get('expertise')}) {state}"
            )
        synthesis = result.synthesis
        table = Table("criterion", "score 0-4")
        for key, score in synthesis.get("criteria_scores", {}).items():
            table.add_row(key, str(score))
        console.print(table)
        console.print(
            f"rating {synthesis.get('rating')}/10, decision: [bold]{synthesis.get('decision')}[/bold]"
        )
        console.print(f"summary: {synthesis.get('summary')}", markup=False)
        console.print(f"justification: {synthesis.get('justification')}", markup=False)
    elif result.mode == "pairwise":
        for verdict in result.verdicts:
            console.print(
                f"order {verdict.order}: {verdict.winner} is better -- {'; '.join(verdict.reasons)}",
                markup=False,
            )
        console.print(
            f"winner: [bold]{result.winner}[/bold] ({result.label_a} vs {result.label_b}), "
            f"{'consistent' if result.consistent else 'inconsistent across orders: tie'}"
        )
    else:
        table = Table("seat", "alias", "model", "decision", "confidence", "score")
        for vote in result.votes:
            table.add_row(
                str(vote.position + 1),
                vote.model_alias,
                vote.model,
                vote.decision or f"failed: {vote.error}",
                f"{vote.confidence:.2f}" if vote.confidence is not None else "",
                f"{vote.score:.2f}" if vote.score is not None else "",
            )
        console.print(table)
        console.print(
            f"votes: {result.accept_count}/{result.n} accept (K={result.k}) -> [bold]{result.vote_decision}[/bold]; "
            f"scores: mean {result.score_mean:.2f} vs threshold {result.score_threshold:.2f} -> {result.score_decision}"
        )
        if not result.independent:
            console.print(
                f"votes are NOT independent: repeated models {result.repeated_models}", markup=False
            )
    console.print(
        f"tokens in/out {usage.input_tokens}/{usage.output_tokens}, cost ${usage.cost_usd:.4f}, "
        f"{usage.latency_ms / 1000:.1f} s, {usage.calls} calls"
    )


def _print_report(console: Any, report: dict[str, Any]) -> None:
    for key, block in report.get("criteria", {}).items():
        console.print(f"[bold]{key}[/bold] (score {block.get('score')}/4)")
        for heading in ("strengths", "weaknesses", "suggestions"):
            for item in block.get(heading, []):
                console.print(f"  {heading[:-1]}: {item}", markup=False)
    console.print(f"summary: {report.get('summary')}", markup=False)
    for heading in ("major_concerns", "minor_issues", "questions_for_authors", "improvement_recommendations"):
        items = report.get(heading) or []
        if items:
            console.print(f"{heading.replace('_', ' ')}:", markup=False)
            for item in items:
                console.print(f"  - {item}", markup=False)


def bench_review_command(
    delay: Annotated[float, typer.Option(help="fixed answer delay of the fake server, seconds")] = 0.3,
    reviewers: Annotated[int, typer.Option(help="reviewers in the meta review")] = 5,
    seats: Annotated[int, typer.Option(help="seats in the vote")] = 5,
    repeats: Annotated[int, typer.Option(help="measurements per case (the median is reported)")] = 3,
    embedded: Annotated[bool, typer.Option(help="also measure the embedded model (slow)")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Wall time of concurrent meta review and vote against a fake provider; embedded tokens/s."""
    from openxiv.tooling.review_bench import run_review_bench

    report = run_review_bench(
        delay_s=delay, reviewers=reviewers, seats=seats, repeats=repeats, embedded=embedded
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        typer.echo(f"{key}: {value}")
