"""Command-line commands of the literature domain, added to the main `openxiv` app by cli.py."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from openxiv.errors import DomainError

literature_app = typer.Typer(help="The local literature index: import, search, ground.", no_args_is_help=True)
_out = Console()
_err = Console(stderr=True)
T = TypeVar("T")


def _fail(message: str) -> NoReturn:
    _err.print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(2)


@contextmanager
def _database() -> Iterator[tuple[sessionmaker[Session], object]]:
    from openxiv.config import load_settings
    from openxiv.db import make_engine, make_session_factory

    try:
        settings = load_settings()
    except Exception as error:
        _fail(f"invalid configuration: {error}".replace("\n", " "))
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        yield make_session_factory(engine), settings
    except (OperationalError, ProgrammingError) as error:
        if "literature_" in str(error) or "no such table" in str(error):
            _fail("the database has no literature tables yet; run `openxiv db upgrade` first")
        raise
    except DomainError as error:
        _fail(error.detail)
    finally:
        engine.dispose()


def _guard(action: Callable[[], T]) -> T:
    try:
        return action()
    except DomainError as error:
        _fail(error.detail)


@literature_app.command("import")
def import_command(
    source: Annotated[str, typer.Argument(help="a file (JSONL, Atom/OAI-PMH XML, S2 JSON, BibTeX) or a URL")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl | xml | s2 | bibtex (default: detect)")
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="start over instead of resuming an interrupted import")
    ] = False,
    show: Annotated[int, typer.Option(help="list at most this many rejected/duplicate items")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import records; run it again on the same file to resume where it stopped."""
    from openxiv.literature.formats import FORMATS, UnknownFormat
    from openxiv.literature.importer import estimate_items, import_file
    from openxiv.literature.service import get_index
    from openxiv.literature.sources import download, is_url

    if fmt is not None and fmt not in FORMATS:
        _fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    with _database() as (factory, settings), tempfile.TemporaryDirectory() as scratch:
        lit = settings.literature  # type: ignore[attr-defined]
        if is_url(source):
            path = _guard(lambda: download(source, lit, Path(scratch) / "download"))
        else:
            path = Path(source)
            if not path.is_file():
                _fail(f"no such file: {source}")
        try:
            from openxiv.literature.formats import detect_format

            chosen = fmt or detect_format(path)
        except UnknownFormat as error:
            _fail(str(error))
        total = estimate_items(path, chosen)
        columns = [TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=_err, transient=True, disable=as_json) as bar:
            task = bar.add_task("import", total=total)
            report = import_file(
                factory,
                path,
                fmt=chosen,
                source_name=source,
                batch_size=lit.import_batch_size,
                progress=lambda done: bar.update(task, completed=done),
                restart=restart,
            )
        with factory() as session:
            # Fold the new records into the index now rather than at the first search; a rebuild
            # started for a large import must finish before this process exits.
            get_index(session, lit).wait_for_rebuild()
    if as_json:
        _out.print_json(report.model_dump_json())
        return
    if report.already_imported:
        _out.print(f"{source} was imported before (use --restart to import it again)")
    elif report.resumed_from:
        _out.print(f"resumed after {report.resumed_from:,} items handled by an earlier run")
    _out.print(
        f"accepted {report.accepted:,}  duplicate {report.duplicate:,}  rejected {report.rejected:,}"
        f"  ({report.seconds:.1f} s)"
    )
    for issue in [i for i in report.issues if i.kind != "note"][:show]:
        _out.print(f"  {issue.kind:9} {issue.position}: {issue.reason}", markup=False, highlight=False)
    if report.notes:
        _out.print(f"  {report.notes} records were not valid UTF-8 and were read as Windows-1252")


@literature_app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="words, a title or an abstract")],
    k: Annotated[int, typer.Option("--k", help="how many results")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="a JSON list, best first")] = False,
    dense: Annotated[bool | None, typer.Option("--dense/--no-dense", help="fuse MiniLM embeddings")] = None,
) -> None:
    """Search the local literature index."""
    from openxiv.literature.service import search

    with _database() as (factory, settings), factory() as session:
        response = search(session, settings.literature, query, k, dense=dense)  # type: ignore[attr-defined]
    if as_json:
        typer.echo(json.dumps([hit.model_dump() for hit in response.hits], ensure_ascii=False, indent=2))
        return
    if response.notice:
        _err.print(f"note: {response.notice}", markup=False, highlight=False)
    if not response.hits:
        _out.print("no matching records")
    for rank, hit in enumerate(response.hits, start=1):
        ids = ", ".join(f"{name}:{value}" for name, value in hit.ids.items())
        year = f" ({hit.year})" if hit.year else ""
        _out.print(f"{rank:2}. {hit.title}{year}  [{hit.score:.2f}] {ids}", markup=False, highlight=False)
        _out.print(f"    {hit.passage}", markup=False, highlight=False, style="dim")


@literature_app.command("seed")
def seed_command() -> None:
    """Add the starter bibliography shipped with OpenXiv (well-known ML papers)."""
    from openxiv.literature.service import get_index, load_starter_corpus

    with _database() as (factory, settings):
        with factory() as session, session.begin():
            report = load_starter_corpus(session)
        with factory() as session:
            get_index(session, settings.literature)  # type: ignore[attr-defined]
    _out.print(f"starter corpus: accepted {report.accepted}, already present {report.duplicate}")


@literature_app.command("reindex")
def reindex_command() -> None:
    """Rebuild the BM25 index from every record (after very large imports)."""
    from openxiv.literature.service import rebuild_index

    with _database() as (factory, settings), factory() as session:
        stats = rebuild_index(session, settings.literature)  # type: ignore[attr-defined]
    _out.print(
        f"indexed {stats.documents:,} records in {stats.seconds:.1f} s ({stats.disk_bytes / 1e6:.1f} MB)"
    )


@literature_app.command("ground")
def ground_command(
    file: Annotated[Path, typer.Argument(help="the submission's text (Markdown, LaTeX or plain text)")],
    title: Annotated[str, typer.Option(help="title (default: the first non-empty line)")] = "",
    abstract: Annotated[str, typer.Option(help="abstract (default: the paragraph after 'Abstract')")] = "",
    k: Annotated[int, typer.Option("--k")] = 8,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show what reviewers would get: related work, likely missing citations, closest prior work."""
    from dataclasses import asdict

    from openxiv.literature.formats.decode import decode
    from openxiv.literature.grounding import LocalFirstGrounder
    from openxiv.literature.http import ScholarlyClient

    if not file.is_file():
        _fail(f"no such file: {file}")
    text, _ = decode(file.read_bytes())
    title = title or next((line.strip("# ").strip() for line in text.splitlines() if line.strip()), "")
    abstract = abstract or _abstract_of(text)
    with _database() as (factory, settings), ScholarlyClient(settings.literature) as client:  # type: ignore[attr-defined]
        grounding = LocalFirstGrounder(factory, settings.literature, client).ground(  # type: ignore[attr-defined]
            title=title, abstract=abstract, text=text, k=k
        )
    if as_json:
        typer.echo(json.dumps(asdict(grounding), ensure_ascii=False, indent=2))
        return
    if grounding.degraded:
        _err.print(f"note: {grounding.degraded}", markup=False, highlight=False)
    for heading, items in (
        ("Related work", grounding.related),
        ("Likely missing citations", grounding.missing_citations),
        ("Closest prior work", grounding.closest_prior_work),
    ):
        _out.print(f"\n{heading}:", style="bold")
        for item in items:
            flag = "cited" if item.cited else "not cited"
            _out.print(
                f"  [{item.score:.2f}] {item.title} ({item.year}) - {flag}", markup=False, highlight=False
            )
        if not items:
            _out.print("  (none)")


def _abstract_of(text: str) -> str:
    import re

    match = re.search(
        r"(?:^|\n)\s*#*\s*abstract\s*:?\s*\n+(.+?)(?:\n\s*\n|$)", text, re.IGNORECASE | re.DOTALL
    )
    return " ".join(match.group(1).split()) if match else ""


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this domain's commands to the main app and its benchmarks to `openxiv bench`."""
    from openxiv.literature.benchmark import bench_command

    app.add_typer(literature_app, name="literature")
    bench.command("literature")(bench_command)
