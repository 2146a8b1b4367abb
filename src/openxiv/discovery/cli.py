"""Command-line commands of the discovery domain: `openxiv digest send` and `openxiv discovery
reindex`, added to the main app by cli.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

digest_app = typer.Typer(help="E-mail digests of new items in followed categories.", no_args_is_help=True)
discovery_app = typer.Typer(help="Feeds, OAI-PMH and search: the public read model.", no_args_is_help=True)
_out = Console()
_err = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    _err.print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(2)


@contextmanager
def _runtime() -> Iterator[object]:
    from openxiv.config import load_settings
    from openxiv.migrations import upgrade
    from openxiv.runtime import Runtime

    try:
        settings = load_settings()
    except Exception as error:
        _fail(f"invalid configuration: {error}".replace("\n", " "))
    upgrade(settings.database_url)
    runtime = Runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


@digest_app.command("send")
def digest_send() -> None:
    """Write a digest for every subscriber with new items to the outbox (and send it by SMTP when
    [discovery.digests.smtp] host is set)."""
    from openxiv.db import transaction
    from openxiv.discovery import digests
    from openxiv.runtime import Runtime

    with _runtime() as runtime:
        assert isinstance(runtime, Runtime)
        settings = runtime.settings
        site = digests.DigestSite(base_url=settings.base_url.rstrip("/"), name=settings.instance_name)
        with transaction(runtime.write_sessions) as session:
            written = digests.send_digests(session, site, settings.discovery.digests)
            report = [
                (m.recipient, m.item_count, m.eml_path, m.sent_at is not None, m.error) for m in written
            ]
    for recipient, count, path, sent, error in report:
        state = "sent" if sent else (f"not sent ({error})" if error else "outbox only")
        _out.print(f"{recipient}: {count} item(s), {path}, {state}", markup=False, highlight=False)
    _out.print(f"{len(report)} digest(s) written", markup=False, highlight=False)


@discovery_app.command("reindex")
def discovery_reindex() -> None:
    """Rebuild the public read model (feeds, OAI-PMH, search) from every submission."""
    from openxiv.discovery.jobs import reindex_all
    from openxiv.runtime import Runtime

    with _runtime() as runtime:
        assert isinstance(runtime, Runtime)
        kept = reindex_all(runtime.write_sessions, body_chars=runtime.settings.discovery.body_chars)
    _out.print(f"{kept} public item(s) indexed", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(digest_app, name="digest")
    app.add_typer(discovery_app, name="discovery")
