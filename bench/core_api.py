"""Platform-core API benchmark (issue 2, "Performance"): latency, throughput and concurrent creates
against real `openxiv serve` processes on loopback, with 100,000 seeded submissions.

    python bench/core_api.py --backend sqlite|postgres|both [--records 100000] [--out FILE]

Per backend: a fresh database (SQLite file in a temporary directory, or a PostgreSQL database
`openxiv_bench` that is created and dropped again), schema by `openxiv db upgrade`, bulk-seeded
rows, then only HTTP requests. Prints one Markdown report (and writes it to --out).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core.seed import COMMON_SURNAME, RARE_AUTHOR, Seeded, seed

from core import load, probes, runs, server
from openxiv.config import QueueSettings
from openxiv.db import make_engine
from openxiv.models import Submission, SubmissionVersion, Transition
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.repository import encode_cursor
from openxiv.worker import make_huey

TARGETS = {"list": 50.0, "get": 15.0, "create": 100.0}
CONCURRENCY = (1, 32, 256)
PARAGRAPH = (
    "We measure how the warm-up length interacts with the batch size when training small transformers, "
    "over 48 runs with three seeds each, and find that a warm-up proportional to the square root of the "
    "batch size gives the lowest final loss and the smallest variance across seeds. "
)


@dataclass
class BackendResult:
    backend: str
    database: str
    seeded: Seeded | None = None
    latencies: list[probes.Latency] = field(default_factory=list)
    throughput: list[load.Throughput] = field(default_factory=list)
    race: probes.Race | None = None
    race_check: str = ""
    server_errors: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0


# ------------------------------------------------------------------------------------ requests


def paper_body(title: str, *, markdown_bytes: int = 4_000, account_id: int) -> dict[str, Any]:
    """A paper with inline Markdown source: a human author on the platform and an agent."""
    text = f"# {title}\n\n## Abstract\n" + PARAGRAPH * (1 + markdown_bytes // len(PARAGRAPH))
    return {
        "kind": "paper",
        "title": title,
        "abstract": PARAGRAPH,
        "authors": [{"kind": "human", "account_id": account_id}, {"kind": "agent", "agent_id": 1}],
        "keywords": ["optimisation", "warm-up"],
        "categories": ["cs.LG"],
        "licence": "CC-BY-4.0",
        "ai_involvement": "The agent ran every experiment and drafted the text; the human checked it.",
        "ip_attribution": {"model_developer": "Example Lab", "initiating_human": "Bench Marker"},
        "source": {"format": "markdown", "text": text[:markdown_bytes]},
    }


def _public_identifiers(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Submission.id, Submission.identifier).where(Submission.status != Status.HELD.value)
        ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def _latencies(
    client: httpx.Client,
    cpu: Callable[[], float],
    engine: Engine,
    seeded: Seeded,
    rng: random.Random,
    scale: float,
) -> list[probes.Latency]:
    public = _public_identifiers(engine)
    n = seeded.records
    auth = {"Authorization": f"Bearer {seeded.token}"}

    def count(base: int) -> int:
        return max(10, int(base * scale))

    def deep_cursor() -> str:
        # A cursor from far down the newest-first list: 92-98 % of the way to the oldest item.
        return encode_cursor(rng.randint(int(n * 0.02), int(n * 0.08)) + 1)

    def get(path: str, headers: dict[str, str] | None = None) -> probes.Request:
        return ("GET", path, None, headers or {})

    def measure(name: str, make: Callable[[int], probes.Request], **options: Any) -> probes.Latency:
        return probes.measure(client, name, make, cpu=cpu, **options)

    out: list[probes.Latency] = []
    lists = [
        ("list kind=paper, first page", lambda i: get("/api/v1/submissions?kind=paper")),
        (
            "list kind=paper, deep page",
            lambda i: get(f"/api/v1/submissions?kind=paper&cursor={deep_cursor()}"),
        ),
        (
            f"list author={COMMON_SURNAME}, first page",
            lambda i: get(f"/api/v1/submissions?author={COMMON_SURNAME}"),
        ),
        (
            f"list author={COMMON_SURNAME}, deep page",
            lambda i: get(f"/api/v1/submissions?author={COMMON_SURNAME}&cursor={deep_cursor()}"),
        ),
    ]
    for name, make in lists:
        out.append(measure(name, make, count=count(100), warmup=10, target_ms=TARGETS["list"]))
    rare = RARE_AUTHOR.replace(" ", "+")
    out.append(
        measure(
            "list author=<rare full name>, first page",
            lambda i: get(f"/api/v1/submissions?author={rare}"),
            count=count(40),
            warmup=3,
            target_ms=TARGETS["list"],
            note=f"{seeded.rare_matches} matches in {n:,}: the page scans the whole table",
        )
    )
    picks = [rng.choice(public)[1] for _ in range(count(300) + 20)]
    out.append(
        measure(
            "get-by-id (anonymous)",
            lambda i: get(f"/api/v1/submissions/{picks[i]}"),
            count=count(300),
            warmup=20,
            target_ms=TARGETS["get"],
        )
    )
    out.append(
        measure(
            "get-by-id (API key)",
            lambda i: get(f"/api/v1/submissions/{picks[i]}", auth),
            count=count(300),
            warmup=20,
            target_ms=TARGETS["get"],
        )
    )

    def create(size: int, idempotent: bool) -> Any:
        def make(i: int) -> probes.Request:
            headers = dict(auth)
            if idempotent:
                headers["Idempotency-Key"] = str(uuid.uuid4())
            body = paper_body(
                f"Warm-up and batch size, run {i} {uuid.uuid4().hex[:8]}",
                markdown_bytes=size,
                account_id=seeded.account_id,
            )
            return ("POST", "/api/v1/submissions", body, headers)

        return make

    out.append(
        measure(
            "create (4 KB inline Markdown)",
            create(4_000, False),
            count=count(100),
            warmup=5,
            expect=201,
            target_ms=TARGETS["create"],
        )
    )
    out.append(
        measure(
            "create, with Idempotency-Key",
            create(4_000, True),
            count=count(60),
            warmup=3,
            expect=201,
            target_ms=TARGETS["create"],
        )
    )
    out.append(
        measure(
            "create (200 KB inline Markdown)",
            create(200_000, False),
            count=count(30),
            warmup=2,
            expect=201,
            target_ms=None,
            note="includes hashing 200 KB",
        )
    )
    large = client.post(
        "/api/v1/submissions",
        headers=auth,
        json=paper_body("A long paper", markdown_bytes=200_000, account_id=seeded.account_id),
    ).json()
    out.append(
        measure(
            "get-by-id of a 200 KB paper",
            lambda i: get(f"/api/v1/submissions/{large['id']}"),
            count=count(100),
            warmup=5,
            target_ms=TARGETS["get"],
        )
    )
    return out


# ------------------------------------------------------------------------------------ backends


def _postgres_database(admin_url: str, name: str, *, create: bool) -> str:
    import psycopg

    url = make_url(admin_url)
    dsn = f"host={url.host or '127.0.0.1'} port={url.port or 5432} user={url.username or 'postgres'} dbname={url.database or 'postgres'}"
    if url.password:
        dsn += f" password={url.password}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')
    return str(url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False))


def _check_race(engine: Engine, race: probes.Race, pending_before: int, pending_after: int) -> str:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Submission.identifier,
                func.count(func.distinct(SubmissionVersion.id)),
                func.count(func.distinct(Transition.id)),
            )
            .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
            .join(Transition, Transition.submission_id == Submission.id)
            .where(Submission.identifier.in_(race.ids))
            .group_by(Submission.identifier)
        ).all()
    complete = sum(1 for _, versions, transitions in rows if versions == 1 and transitions == 1)
    jobs = pending_after - pending_before
    ok = len(rows) == complete == race.requests and jobs == race.requests
    return (
        f"{'ok' if ok else 'FAILED'}: {len(rows)} rows with those ids, {complete} with exactly v1 + one "
        f"transition; {jobs} pipeline jobs queued"
    )


def run_backend(backend: str, args: argparse.Namespace, root: Path) -> BackendResult:
    started = time.perf_counter()
    workdir = root / backend
    workdir.mkdir()
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'openxiv.db'}"
    else:
        url = _postgres_database(args.pg_admin_url, args.pg_database, create=True)
    result = BackendResult(backend, "SQLite (WAL) file" if backend == "sqlite" else "PostgreSQL")
    result.load_before = os.getloadavg()
    env = server.server_environment(url, workdir)
    engine: Engine | None = None
    running: list[server.Server] = []
    try:
        _say(f"[{backend}] openxiv db upgrade")
        subprocess.run(
            [sys.executable, "-m", "openxiv.cli", "db", "upgrade"],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        engine = make_engine(url, pool_size=4)
        _say(f"[{backend}] seeding {args.records:,} submissions")
        result.seeded = seed(engine, args.records)
        _say(f"[{backend}] seeded in {result.seeded.seconds:.0f} s: {result.seeded.rows}")
        rng = random.Random(7)
        paths = workdir / "paths.txt"
        public = _public_identifiers(engine)
        paths.write_text(
            "\n".join(f"/api/v1/submissions/{rng.choice(public)[1]}" for _ in range(5000)) + "\n"
        )

        single = server.start(env, workdir, workers=1, name="w1")
        running.append(single)
        _say(f"[{backend}] latency probes against {single.url} (1 worker)")
        with httpx.Client(base_url=single.url, timeout=60) as client:
            result.latencies = _latencies(
                client, lambda: server.cpu_seconds(single), engine, result.seeded, rng, args.scale
            )
        for workers in args.workers:
            srv = single if workers == 1 else server.start(env, workdir, workers=workers, name=f"w{workers}")
            if srv is not single:
                running.append(srv)
            load.run(srv.url, paths, concurrency=32, seconds=2, workers=workers, workdir=workdir)  # warm-up
            for concurrency in CONCURRENCY:
                _say(f"[{backend}] load: {workers} worker(s), concurrency {concurrency}")
                cpu_before = server.cpu_seconds(srv)
                run = load.run(
                    srv.url,
                    paths,
                    concurrency=concurrency,
                    seconds=args.duration,
                    workers=workers,
                    workdir=workdir,
                )
                run.server_cpu_ms = (server.cpu_seconds(srv) - cpu_before) * 1000 / max(run.requests, 1)
                result.throughput.append(run)
        for srv in running:
            result.server_errors += server.errors_in_log(srv)
            server.stop(srv)
        running.clear()

        _say(f"[{backend}] 200 concurrent creates against 2 server processes")
        pair = [server.start(env, workdir, workers=1, name=f"race-{i}") for i in range(2)]
        running.extend(pair)
        huey = make_huey(QueueSettings(url=f"sqlite:///{workdir / 'q.db'}"))
        pending_before = huey.pending_count()
        account = result.seeded.account_id
        result.race = probes.create_race(
            [s.url for s in pair],
            result.seeded.token,
            lambda i: paper_body(f"Concurrent paper {i}", account_id=account),
            total=200,
        )
        result.race_check = _check_race(engine, result.race, pending_before, huey.pending_count())
        for srv in pair:
            result.server_errors += server.errors_in_log(srv)
    finally:
        for srv in running:
            server.stop(srv)
        if engine is not None:
            engine.dispose()
        if backend == "postgres" and not args.keep:
            _postgres_database(args.pg_admin_url, args.pg_database, create=False)
    result.load_after = os.getloadavg()
    result.seconds = time.perf_counter() - started
    return result


# ------------------------------------------------------------------------------------- report


def _fmt(value: float) -> str:
    return f"{value:.1f}" if value == value else "-"


def report(results: list[BackendResult], args: argparse.Namespace, total_seconds: float) -> str:
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.records:,} seeded submissions, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
        f"{', ' + args.pg_version if args.pg_version else ''}, load generator: {load.driver_name()}; "
        f"total {total_seconds / 60:.1f} min.",
        "",
    ]
    for r in results:
        assert r.seeded is not None
        rows = ", ".join(f"{k} {v:,}" for k, v in r.seeded.rows.items())
        lines.append(
            f"- {names[r.backend]}: seeded in {r.seeded.seconds:.0f} s ({rows}); "
            f"load average before/after {r.load_before[0]:.1f}/{r.load_after[0]:.1f}; "
            f"backend total {r.seconds:.0f} s."
        )
    lines += [
        "",
        "Latency, one request at a time over a kept-alive connection (`openxiv serve --workers 1`), ms:",
        "",
    ]
    header = "| request | target p95 |" + "".join(
        f" {names[r.backend]} p50 | p95 | max | server CPU/req | errors |" for r in results
    )
    lines += [header, "|---|---|" + "---|---|---|---|---|" * len(results)]
    for i, first in enumerate(results[0].latencies):
        target = f"< {first.target_ms:.0f}" if first.target_ms else "-"
        cells = ""
        for r in results:
            m = r.latencies[i]
            mark = "" if m.meets_target is None else (" ✓" if m.meets_target else " ✗")
            cells += f" {_fmt(m.p50)} | {_fmt(m.p95)}{mark} | {_fmt(m.worst)} | {_fmt(m.server_cpu_ms)} | {m.errors} |"
        note = f" ({first.note})" if first.note else ""
        lines.append(f"| {first.name}{note}, n={len(first.samples_ms)} | {target} |{cells}")
    lines += ["", f"Get-by-id throughput, {args.duration:.0f} s per run, random public ids (anonymous):", ""]
    header = "| server | concurrency |" + "".join(
        f" {names[r.backend]} req/s | p50 / p99 / max ms | server CPU ms/req | errors |" for r in results
    )
    lines += [header, "|---|---|" + "---|---|---|---|" * len(results)]
    for i, base in enumerate(results[0].throughput):
        cells = ""
        for r in results:
            t = r.throughput[i]
            cells += (
                f" {t.rps:,.0f} | {t.p50_ms:.1f} / {t.p99_ms:.1f} / {t.max_ms:.0f} | {_fmt(t.server_cpu_ms)} |"
                f" {t.errors} |"
            )
        lines.append(f"| `openxiv serve --workers {base.workers}` | {base.concurrency} |{cells}")
    lines += [
        "",
        "200 creates released at once, 100 to each of 2 `openxiv serve` processes on one database:",
        "",
        "| backend | 201 responses | distinct ids | errors | wall s | database check |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        race = r.race
        assert race is not None
        lines.append(
            f"| {names[r.backend]} | {race.statuses.get(201, 0)} | {race.distinct} | {race.errors}"
            f"{' (' + race.first_error[:120] + ')' if race.first_error else ''} | {race.seconds:.1f} | {r.race_check} |"
        )
    for r in results:
        for m in r.latencies:
            if m.first_error:
                lines.append(f"\n{names[r.backend]} {m.name}: first error: {m.first_error}")
        if r.server_errors:
            lines.append(
                f"\n{names[r.backend]} server log: {len(r.server_errors)} error lines, first: {r.server_errors[0][:300]}"
            )
    return "\n".join(lines) + "\n"


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _postgres_version(admin_url: str) -> str:
    try:
        import psycopg

        url = make_url(admin_url)
        with psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            dbname=url.database or "postgres",
            password=url.password,
        ) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0].split()[0]}" if row else ""
    except Exception as error:
        return f"PostgreSQL unreachable ({error})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--records", type=int, default=100_000, help="submissions to seed (default 100000)")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument(
        "--duration", type=float, default=8.0, help="seconds per load-generator run (default 8)"
    )
    parser.add_argument(
        "--workers", default="1,2", help="server processes for the throughput runs (default 1,2)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of latency samples")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("OPENXIV_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server to create the benchmark database on",
    )
    parser.add_argument("--pg-database", default="openxiv_bench", help="database created, then dropped")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and database")
    parser.add_argument(
        "--load-generator",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="auto: wrk when installed (apt-get install -y wrk), else an asyncio/httpx driver",
    )
    args = parser.parse_args(argv)
    load.set_preference(args.load_generator)
    if args.records < 1_000:
        parser.error("--records must be at least 1000")
    args.workers = [int(w) for w in args.workers.split(",")]
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    args.pg_version = _postgres_version(args.pg_admin_url) if "postgres" in backends else ""
    if "unreachable" in args.pg_version:
        print(
            f"error: {args.pg_version}; start PostgreSQL or pass --pg-admin-url, or use --backend sqlite",
            file=sys.stderr,
        )
        return 2
    results, elapsed = runs.run_backends(backends, run_backend, args, prefix="openxiv-bench-", say=_say)
    runs.publish(report(results, args, elapsed), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
