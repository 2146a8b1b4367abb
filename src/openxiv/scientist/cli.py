"""`openxiv agent run`: the reference AI scientist from the command line (docs/agents.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from openxiv.scientist.trajectory import AgentRun


def _fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit code 2 (as every `openxiv` command)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _default_out(topic: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", topic.casefold()).strip("-")[:40] or "run"
    return Path("var/agent-runs") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{slug}"


def print_run(console: Console, run: AgentRun) -> None:
    table = Table(
        "round",
        "version",
        "status",
        "meta rating",
        "panel",
        "score",
        "vs previous",
        "points",
        "letter",
        "tokens in/out",
    )
    for r in run.rounds:
        review = r.review or {}
        meta = review.get("meta_review") or {}
        panel = review.get("panel") or {}
        pairwise = review.get("pairwise") or {}
        letter = r.response_letter
        answered = (
            f"{sum(p.decision == 'addressed' for p in letter.responses)} addressed / {len(letter.responses)}"
            if letter
            else "-"
        )
        table.add_row(
            str(r.round),
            r.identifier,
            r.status or "-",
            f"{meta.get('rating')}/10 {meta.get('decision')}" if meta else "-",
            f"{panel.get('accept_count')}/{panel.get('n')} accept -> {panel.get('decision')}"
            if panel
            else "-",
            f"{panel.get('score_mean'):.3f}" if panel.get("score_mean") is not None else "-",
            str(pairwise.get("winner") or "-"),
            str(r.points),
            answered,
            f"{r.tokens.input}/{r.tokens.output}",
        )
    console.print(table)
    console.print(
        f"[bold]{run.submission or '(not submitted)'}[/]: {run.outcome} -- {run.stop_reason} "
        f"({run.tokens.input} input + {run.tokens.output} output tokens, ${run.tokens.cost_usd:.4f})"
    )


def register(agent_app: typer.Typer) -> None:
    @agent_app.command("run")
    def agent_run(
        topic: Annotated[str, typer.Option(help="what the work is about (a sentence or a paragraph)")],
        kind: Annotated[str, typer.Option(help="paper (Markdown) or proposal")] = "paper",
        rounds: Annotated[int, typer.Option(min=1, max=20, help="versions to submit at most")] = 3,
        server: Annotated[
            str, typer.Option(envvar="OPENXIV_SERVER", help="URL of a running `openxiv serve`")
        ] = ("http://127.0.0.1:8000"),
        api_key: Annotated[
            str | None, typer.Option(envvar="OPENXIV_API_KEY", help="API key with read and submit")
        ] = None,
        model: Annotated[
            str, typer.Option(help="model alias configured under llm.models (default: the embedded model)")
        ] = ("embedded"),
        max_tokens: Annotated[
            int | None, typer.Option(min=16, help="output tokens per model call (default: the alias's)")
        ] = None,
        category: Annotated[str, typer.Option(help="subject category of the submission")] = "cs.AI",
        review_timeout: Annotated[
            float, typer.Option(min=1, help="seconds to wait for each decision")
        ] = 1800.0,
        replay: Annotated[
            Path | None,
            typer.Option(help="answer every model call from this llm-calls.jsonl of an earlier run"),
        ] = None,
        out: Annotated[
            Path | None, typer.Option(help="folder for trajectory.json, versions and letters")
        ] = None,
    ) -> None:
        """Write a paper or proposal with the agent's own model, submit it, answer the reviews
        point by point, resubmit, and stop at acceptance, rejection, a hold or after ROUNDS;
        prints and saves the trajectory. Needs a running server (`openxiv serve --with-worker`)."""
        from openxiv.client import OpenXivClient, RetryPolicy
        from openxiv.llm.client import LLMClient
        from openxiv.llm.recording import JsonlRecorder
        from openxiv.scientist.loop import AgentConfig, AgentError, Scientist, check_topic
        from openxiv.scientist.writer import Writer

        console = Console()
        if kind not in ("paper", "proposal"):
            _fail("--kind must be paper or proposal")
        if not api_key:
            _fail("an API key is needed (--api-key or OPENXIV_API_KEY) with the read and submit scopes")
        try:
            check_topic(topic)
        except AgentError as error:
            _fail(str(error))
        from openxiv.config import load_settings

        try:
            settings = load_settings()
        except Exception as error:  # pydantic's and tomllib's errors alike: say what is wrong
            _fail(f"invalid configuration: {error}".replace("\n", " "))
        if model not in settings.llm.models:
            _fail(f"unknown model alias {model!r}; configured: {', '.join(sorted(settings.llm.models))}")
        if replay is not None and not replay.is_file():
            _fail(f"{replay} is not a file")
        out_dir = out or _default_out(topic)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            _fail(f"cannot create {out_dir}: {error}")
        alias = settings.llm.alias(model)
        if alias.provider == "test":
            console.print(
                "[yellow]note:[/] the `test` provider fills the schemas with placeholder text: "
                "it shows the loop's mechanics, not research"
            )
        llm = LLMClient(
            settings.llm,
            recorder=JsonlRecorder(out_dir / "llm-calls.jsonl"),
            replay=JsonlRecorder(replay) if replay else None,
        )
        run = AgentRun(
            topic=" ".join(topic.split()),
            kind=kind,
            server=server,
            model_alias=model,
            model=alias.model,
            max_rounds=rounds,
        )
        config = AgentConfig(
            topic=topic,
            kind=kind,  # type: ignore[arg-type]
            rounds=rounds,
            category=category,
            review_timeout_s=review_timeout,
            out_dir=out_dir,
        )
        with OpenXivClient(
            server, api_key, retry=RetryPolicy(max_attempts=4, max_retry_after=30.0)
        ) as client:
            scientist = Scientist(
                client,
                Writer(llm, model, max_output_tokens=max_tokens),
                config,
                run,
                report=lambda line: console.print(
                    f"[dim]{datetime.now(UTC):%H:%M:%S}[/] {line}", highlight=False
                ),
            )
            try:
                result = scientist.execute()
            except AgentError as error:
                print_run(console, run)
                console.print(f"trajectory: {out_dir / 'trajectory.json'}", markup=False, soft_wrap=True)
                _fail(str(error))
        print_run(console, result)
        console.print(f"trajectory: {out_dir / 'trajectory.json'}", markup=False, soft_wrap=True)
