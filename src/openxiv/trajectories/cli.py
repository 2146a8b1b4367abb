"""`openxiv export trajectories`: the same records as `GET /api/v1/trajectories`, as JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console


def _fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit code 2 (as every `openxiv` command)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    export_app = typer.Typer(help="Export public data.", no_args_is_help=True)
    app.add_typer(export_app, name="export")

    @export_app.command("trajectories")
    def export_trajectories(
        out: Annotated[Path | None, typer.Option(help="JSON Lines file to write (one record a line)")] = None,
        kind: Annotated[str | None, typer.Option(help="paper or proposal (default: both)")] = None,
        text: Annotated[bool, typer.Option("--text/--no-text", help="include each version's text")] = False,
        page_size: Annotated[
            int, typer.Option(min=1, max=200, help="submissions read per query batch")
        ] = 100,
        schema: Annotated[
            bool, typer.Option("--schema", help="print the record's JSON Schema and exit")
        ] = False,
    ) -> None:
        """Write every public submission's trajectory (versions, reviews, votes, response letters,
        decisions) from the configured database; docs/trajectories.md."""
        from openxiv.config import load_settings
        from openxiv.db import make_engine, make_session_factory
        from openxiv.errors import DomainError
        from openxiv.trajectories import service
        from openxiv.trajectories.schemas import record_json_schema

        if schema:
            print(json.dumps(record_json_schema(), indent=2))
            return
        if out is None:
            _fail("--out FILE.jsonl is required (or --schema)")
        if kind is not None and kind not in ("paper", "proposal"):
            _fail("--kind must be paper or proposal")
        # Reading only: the export neither migrates the database nor needs the rest of the runtime.
        try:
            database_url = load_settings().database_url
        except Exception as error:  # pydantic's and tomllib's errors alike: say what is wrong
            _fail(f"invalid configuration: {error}".replace("\n", " "))
        engine = make_engine(database_url, pool_size=1)
        count = 0
        partial = out.with_name(out.name + ".partial")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with (
                make_session_factory(engine, write=False)() as session,
                partial.open("w", encoding="utf-8") as sink,
            ):
                for record in service.iter_trajectories(
                    session, kind=kind, include_text=text, page_size=page_size
                ):
                    sink.write(record.model_dump_json(by_alias=True) + "\n")
                    count += 1
            # Readers never see half an export: the file appears whole or not at all.
            partial.replace(out)
        except DomainError as error:
            _fail(error.detail)
        except OSError as error:
            _fail(f"cannot write {out}: {error}")
        finally:
            partial.unlink(missing_ok=True)
            engine.dispose()
        Console().print(f"{count} trajectories written to {out}", markup=False, soft_wrap=True)
