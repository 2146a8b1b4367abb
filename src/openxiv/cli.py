"""The `openxiv` command line: server, worker, database, demo, administration and API client."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from openxiv.config import Settings, load_settings
from openxiv.errors import DomainError

if TYPE_CHECKING:
    from openxiv.client import OpenXivClient
    from openxiv.runtime import Runtime

app = typer.Typer(
    help="OpenXiv: preprint server with AI peer review.", no_args_is_help=True, add_completion=False
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
user_app = typer.Typer(
    help="Human accounts (administration, on the server's database).", no_args_is_help=True
)
agent_app = typer.Typer(help="AI-scientist agents (administration).", no_args_is_help=True)
key_app = typer.Typer(help="API keys (administration).", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(agent_app, name="agent")
app.add_typer(key_app, name="key")
app.add_typer(bench_app, name="bench")
console = Console()
err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Bad input: one line saying what is wrong, exit code 2."""
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as error:
        fail(f"invalid configuration: {error}".replace("\n", " "))


def _safe_to_run(settings: Settings, *, serving: bool) -> None:
    """What `serve` and `worker` refuse to start with outside dev/demo mode (config.py); a worker
    signs no cookies, so it needs no secret key."""
    from openxiv.config import ConfigError, check_production_safety, resolve_secret_key

    try:
        if serving:
            resolve_secret_key(settings)
        check_production_safety(settings)
    except ConfigError as error:
        fail(f"refusing to start in {settings.mode} mode: {error}")


# --------------------------------------------------------------------------------- server


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
    with_worker: Annotated[bool, typer.Option(help="also run the job worker in this process")] = False,
    upgrade: Annotated[bool, typer.Option(help="apply database migrations first")] = True,
    access_log: Annotated[bool, typer.Option(help="log every request (off saves CPU under load)")] = True,
) -> None:
    """Serve the web UI, REST API and MCP endpoint."""
    import threading

    import uvicorn

    settings = _settings()
    _safe_to_run(settings, serving=True)
    if upgrade:
        _upgrade(settings)
    if with_worker:
        if workers > 1:
            fail("--with-worker runs in a single server process; start `openxiv worker` separately instead")
        if settings.queue.url == "immediate":
            fail("queue.url is 'immediate'; a worker needs a real queue (sqlite:///... or redis://...)")
        from openxiv.runtime import Runtime

        runtime = Runtime(settings)
        thread = threading.Thread(
            target=runtime.queue.run_consumer,
            args=(settings.queue.workers,),
            kwargs={"main_thread": False},
            daemon=True,
        )
        thread.start()
    uvicorn.run(
        "openxiv.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        proxy_headers=True,
    )


@app.command()
def worker(threads: Annotated[int, typer.Option(help="worker threads")] = 0) -> None:
    """Run background jobs (screening, reviews, votes) until interrupted."""
    from openxiv.runtime import Runtime

    settings = _settings()
    _safe_to_run(settings, serving=False)
    if settings.queue.url == "immediate":
        fail("queue.url is 'immediate'; a worker needs a real queue (sqlite:///... or redis://...)")
    Runtime(settings).queue.run_consumer(threads or settings.queue.workers)


@app.command()
def doctor(
    online: Annotated[bool, typer.Option(help="also call each configured hosted model once")] = False,
) -> None:
    """Check the installation: database, queue, storage, CPU, the embedded model, hosted keys."""
    from openxiv.doctor import run_checks

    checks = run_checks(_settings(), online=online)
    for check in checks:
        console.print(
            f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    problems = [check for check in checks if not check.ok]
    if problems:
        err.print(f"{len(problems)} problem(s): see the FAIL lines above", markup=False, highlight=False)
        raise typer.Exit(1)


@app.command("mcp")
def mcp_stdio(
    toolsets: Annotated[
        str, typer.Option(help="comma-separated: reader, author, reviewer, community")
    ] = "reader,author,reviewer,community",
    api_key: Annotated[str | None, typer.Option(envvar="OPENXIV_API_KEY", help="API key")] = None,
) -> None:
    """Serve MCP over stdin/stdout for a local agent host (docs/agents.md). Without an API key
    the tools only read what the public may read."""
    from openxiv.mcp import stdio
    from openxiv.mcp.registry import parse_toolsets

    settings = _settings()
    try:
        chosen = parse_toolsets(toolsets)
        if api_key:
            stdio.check_key(settings, api_key)
    except (ValueError, DomainError) as error:
        fail(str(getattr(error, "detail", error)))
    stdio.serve(settings, api_key, chosen)


@app.command()
def requeue(identifier: str) -> None:
    """Run the failed stages of IDENTIFIER's latest version again (after the worker gave up)."""
    from openxiv.submissions.pipeline import requeue as requeue_version

    runtime = _runtime()
    try:
        version, stages = requeue_version(runtime.write_sessions, runtime.queue, identifier)
    except DomainError as error:
        fail(error.detail)
    finally:
        runtime.close()
    console.print(f"{identifier} v{version}: {', '.join(stages)} queued again", markup=False)


# ------------------------------------------------------------------------------- database


def _upgrade(settings: Settings) -> None:
    from openxiv.migrations import upgrade

    upgrade(settings.database_url)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from openxiv.migrations import upgrade

    upgrade(_settings().database_url, revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    from openxiv.migrations import downgrade

    downgrade(_settings().database_url, revision)
    console.print(f"database at {revision}")


# ---------------------------------------------------------------------------- demo & admin


def _runtime() -> Runtime:
    from openxiv.runtime import Runtime

    settings = _settings()
    _upgrade(settings)
    return Runtime(settings)


def _admin(action: Any) -> Any:
    from openxiv.db import transaction

    runtime = _runtime()
    try:
        with transaction(runtime.write_sessions) as session:
            return action(session)
    except DomainError as error:
        fail(error.detail)
    finally:
        runtime.close()


def _admin_create(action: Any, what: str, key_label: str) -> None:
    """Run `action`, which returns the new row's id and the token of a key issued with it (or
    None); the token is printed this once and never stored."""
    created_id, token = _admin(action)
    console.print(f"{what} {created_id} created")
    if token:
        console.print(f"{key_label} (shown once): {token}", markup=False)


@app.command()
def secret() -> None:
    """Create secret_key_file (default var/secret_key) with a random key unless it exists."""
    from openxiv.config import write_secret_key_file

    settings = _settings()
    if settings.secret_key:
        console.print("a secret key is configured (secret_key / OPENXIV_SECRET_KEY); nothing to do")
        return
    created = write_secret_key_file(settings.secret_key_file)
    state = "created" if created else "already exists"
    console.print(f"{settings.secret_key_file}: {state}", markup=False, soft_wrap=True)


@app.command()
def demo() -> None:
    """Seed a realistic demo (people, agents, proposals and papers in several states). Only in
    demo or dev mode: the demo accounts' password is published."""
    from openxiv.demo import seed

    if _settings().mode == "production":
        fail("the demo's accounts have a published password; seed it only with OPENXIV_MODE=demo (or dev)")
    runtime = _runtime()
    try:
        result = seed(runtime)
    finally:
        runtime.close()
    if not result["seeded"]:
        console.print(result["reason"])
        return
    console.print(f"demo seeded: {', '.join(result['submissions'])}")
    console.print(f"sign in as {result['accounts'][0]} (admin) with password {result['password']}")


@user_app.command("create")
def user_create(
    email: str,
    name: Annotated[str, typer.Option(help="display name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    orcid: str | None = None,
    role: Annotated[
        list[str] | None, typer.Option(help="author, reviewer, moderator, admin (repeatable; default author)")
    ] = None,
    key: Annotated[bool, typer.Option(help="also issue an API key with read+submit and print it")] = False,
) -> None:
    """Create a human account (the operator accepts the use policy on the user's behalf)."""
    from openxiv.accounts import service

    settings = _settings()

    def action(session: Any) -> Any:
        account = service.register_account(
            session,
            email=email,
            password=password,
            display_name=name,
            orcid=orcid,
            roles=role or ["author"],
            accept_policy=True,
            policy_version=settings.policy_version,
        )
        issued = service.issue_key(session, account, scopes=["read", "submit"], name="cli") if key else None
        return account.id, issued.token if issued else None

    _admin_create(action, "account", "API key")


@agent_app.command("create")
def agent_create(
    owner_email: str,
    name: str,
    model: Annotated[str, typer.Option(help='model/pipeline identity, e.g. "genesys-lite/0.1 on model X"')],
    organisation: Annotated[str, typer.Option(help="developer organisation")],
    key: Annotated[bool, typer.Option(help="also issue a read+submit key for the agent")] = True,
) -> None:
    """Register an AI-scientist agent owned by OWNER_EMAIL."""
    from sqlalchemy import select

    from openxiv.accounts import service
    from openxiv.models import Account

    def action(session: Any) -> Any:
        owner = session.scalar(select(Account).where(Account.email == owner_email.strip().lower()))
        if owner is None:
            raise DomainError(f"no account with email {owner_email}")
        agent = service.create_agent(
            session, owner, name=name, model_identity=model, organisation=organisation
        )
        issued = (
            service.issue_key(session, owner, scopes=["read", "submit"], name=f"agent {name}", agent=agent)
            if key
            else None
        )
        return agent.id, issued.token if issued else None

    _admin_create(action, "agent", "API key for the agent")


@key_app.command("issue")
def key_issue(
    owner_email: str,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="read, submit, review, moderate, admin (repeatable; default read, submit)"),
    ] = None,
    agent_id: int | None = None,
    name: str = "",
) -> None:
    """Issue an API key for an account (or one of its agents); printed once."""
    from sqlalchemy import select

    from openxiv.accounts import service
    from openxiv.models import Account

    def action(session: Any) -> Any:
        owner = session.scalar(select(Account).where(Account.email == owner_email.strip().lower()))
        if owner is None:
            raise DomainError(f"no account with email {owner_email}")
        agent = service.get_owned_agent(session, owner.id, agent_id) if agent_id else None
        return service.issue_key(
            session, owner, scopes=scope or ["read", "submit"], name=name, agent=agent
        ).token

    console.print(f"API key (shown once): {_admin(action)}", markup=False)


@key_app.command("revoke")
def key_revoke(key_id: int) -> None:
    """Revoke key KEY_ID, and every key minted through it, at once."""
    from openxiv.accounts import service
    from openxiv.models import ApiKey

    def action(session: Any) -> Any:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise DomainError(f"no key {key_id}")
        service.revoke_key_tree(session, key)
        return key.prefix

    console.print(f"key {key_id} (oxk_{_admin(action)}_...) revoked", markup=False)


# ----------------------------------------------------------------------------- API client

ServerOption = Annotated[str, typer.Option(envvar="OPENXIV_SERVER", help="server URL")]
KeyOption = Annotated[str | None, typer.Option(envvar="OPENXIV_API_KEY", help="API key")]


def _client(server: str, api_key: str | None) -> OpenXivClient:
    from openxiv.client import OpenXivClient, RetryPolicy

    # A person is waiting at the terminal: a few quick retries, then say what went wrong.
    return OpenXivClient(server, api_key, retry=RetryPolicy(max_attempts=3, max_retry_after=10.0))


def _call(action: Any) -> Any:
    import httpx

    from openxiv.client import ApiError, ConnectionFailed

    try:
        return action()
    except ApiError as error:
        fail(str(error))
    except (ConnectionFailed, httpx.HTTPError) as error:
        fail(f"cannot reach the server: {error}")


@app.command()
def submit(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="PDF and/or Markdown/LaTeX source; or none with --metadata only"),
    ] = None,
    metadata: Annotated[
        Path | None, typer.Option(help="JSON file with the submission fields (title, authors, ...)")
    ] = None,
    kind: Annotated[str, typer.Option(help="paper or proposal")] = "paper",
    title: str | None = None,
    abstract: str | None = None,
    revise: Annotated[str | None, typer.Option(help="post a new version of this identifier instead")] = None,
    response_letter: Annotated[
        Path | None, typer.Option(help="file with the response letter (revisions)")
    ] = None,
    server: ServerOption = "http://127.0.0.1:8000",
    api_key: KeyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the server's JSON")] = False,
) -> None:
    """Submit a paper or proposal (or a revision) to a running server."""
    body: dict[str, Any] = {}
    if metadata is not None:
        try:
            body = json.loads(metadata.read_text("utf-8"))
        except (OSError, ValueError) as error:
            fail(f"cannot read metadata {metadata}: {error}")
        if not isinstance(body, dict):
            fail(f"{metadata} must hold a JSON object")
    files = files or []
    for path in files:
        if not path.is_file():
            fail(f"{path} is not a file")
    if title:
        body["title"] = title
    if abstract:
        body["abstract"] = abstract
    if response_letter is not None:
        body["response_letter"] = response_letter.read_text("utf-8")
    with _client(server, api_key) as client:
        for path in files:
            uploaded = _call(lambda p=path: client.upload(p))
            field = "pdf_sha256" if uploaded.media_type == "application/pdf" else "source_sha256"
            body[field] = uploaded.sha256
        if revise:
            result = _call(lambda: client.create_version(revise, body))
        else:
            body.setdefault("kind", kind)
            result = _call(lambda: client.create_submission(body))
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        console.print(f"{result.version.identifier} {result.status}: {result.title}", markup=False)


@app.command()
def status(
    identifier: str,
    server: ServerOption = "http://127.0.0.1:8000",
    api_key: KeyOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a submission's status, versions, pipeline stages and history."""
    with _client(server, api_key) as client:
        item = _call(lambda: client.get(identifier))
        log = _call(lambda: client.transitions(identifier))
        stages = _call(lambda: client.stages(identifier))
    if as_json:
        state = {
            "submission": item.model_dump(mode="json"),
            "transitions": [t.model_dump(mode="json") for t in log],
            "stages": [s.model_dump(mode="json") for s in stages],
        }
        print(json.dumps(state, indent=2))
        return
    console.print(f"[bold]{item.id}[/] v{item.latest_version} {item.kind} — [bold]{item.status}[/]")
    console.print(item.title, markup=False)
    table = Table("when (UTC)", "version", "change", "by", "reason")
    for t in log:
        who = t.actor.system or f"account {t.actor.account_id}" + (
            f" via agent {t.actor.agent_id}" if t.actor.agent_id else ""
        )
        table.add_row(
            t.at.strftime("%Y-%m-%dT%H:%M:%S"),
            f"v{t.version}",
            f"{t.from_status or '-'} -> {t.to_status}",
            who,
            t.reason,
        )
    console.print(table)
    for s in stages:
        gave_up = f" (retries exhausted: openxiv requeue {item.id})" if s.detail.get("gave_up") else ""
        console.print(
            f"v{s.version} {s.stage}: {s.state} {s.detail.get('reason', '')}{gave_up}",
            markup=False,
        )


def _register_domains() -> None:
    """Each domain adds its own commands (scan, review, literature, eval, bench ...)."""
    from openxiv.discovery import cli as discovery_cli
    from openxiv.evaluation import cli as evaluation_cli
    from openxiv.genesys import cli as genesys_cli
    from openxiv.integrity import cli as integrity_cli
    from openxiv.literature import cli as literature_cli
    from openxiv.review import cli as review_cli
    from openxiv.scientist import cli as scientist_cli
    from openxiv.trajectories import cli as trajectories_cli

    for module in (integrity_cli, review_cli, literature_cli, evaluation_cli):
        module.register(app, bench_app)
    scientist_cli.register(agent_app)  # openxiv agent run
    trajectories_cli.register(app)  # openxiv export trajectories
    discovery_cli.register(app)  # openxiv digest send, openxiv discovery reindex
    genesys_cli.register(app)  # openxiv genesys run|report|worker (torch only when they run)


_register_domains()


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
