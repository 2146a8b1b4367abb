"""Read path against a reference (issue 16): `openxiv serve` and bench/reference_app.py (the request
path of the published aiXiv backend, rebuilt over our tables) on the same data, driven by the same
`wrk` scripts, alternating the two systems run by run.

    .venv/bin/python bench/read_path.py --backend sqlite|postgres|both [--records 10000] \\
        [--seconds 5] [--workers 1,2] [--out FILE] [--json FILE] [--profile] [--quick]

Per backend: a fresh database (SQLite file in a temporary directory, or a PostgreSQL database
`openxiv_bench_read` that is created and dropped again), schema by `openxiv db upgrade`, the core
benchmark's seeded submissions (bench/core/seed.py), the discovery read model of the newest 1,000 of
them (what the homepage lists), then only HTTP requests over loopback. Workloads:

- get by id: `GET /api/v1/submissions/<random public id>` (both); again with our response cache
  turned off (`[http] cache_entries = 0`, a third server), every read from the database; its
  ratio is against the reference's get by id;
- first listing page: `GET /api/v1/submissions?limit=20` (both, newest first);
- homepage data: ours `GET /?tab=latest&period=all` (the homepage's latest tab: 20 cards with
  likes, comments, reviews and agent models, rendered as HTML), the reference `GET /api/v1/home`
  (the same 20 items as JSON with their like, comment and review counts);
- deep page: 80-98 % of the way down the newest-first list, 20 items: ours with the keyset cursor
  its own listing returned (`next_cursor`), the reference with `skip=<offset>`;
- 304 revalidation (ours only): get by id with `If-None-Match: <the ETag our server returned>`;
  its ratio is against the reference's get by id.

Each run reports req/s (answers that are neither 4xx/5xx nor socket errors), p50/p99 (wrk's
latency histogram), errors, and server CPU ms per request (utime+stime of the server's process
group from /proc, before and after the run, divided by the requests). A server that stops answering
(the reference's event loop blocks on its connection pool under concurrency) is restarted before
the next run, and the row says so. Also: SQL statements per request of each system (captured
in-process with a `before_cursor_execute` hook), EXPLAIN of the SQL our listing, deep page and
homepage issue, and with `--profile` the top py-spy frames of our server under get by id at c=32,
with its response cache off (where a read that reaches the database spends its CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core.seed import seed
from core_api import _postgres_database, _postgres_version, _public_identifiers

from core import load, runs, server
from openxiv.db import make_engine, make_session_factory, transaction
from openxiv.discovery.entries import refresh_entry
from openxiv.discovery.settings import DiscoverySettings

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OURS, REFERENCE = "ours", "reference"
# Our server with its response cache off: every get by id reads the database, as a first visit
# to an item does (with the cache on, the runs after the first few thousand requests are mostly
# cache hits).
OURS_COLD = "ours-cold"
WORKLOADS = {
    "get": "get by id",
    "get-cold": "get by id, our response cache off",
    "list": "first listing page (20)",
    "home": "homepage data (latest 20)",
    "deep": "deep page (20, 80-98 % down)",
    "revalidate": "304 revalidation (If-None-Match)",
}
LISTING = "/api/v1/submissions?limit=20"
OUR_HOME = "/?tab=latest&period=all"
REFERENCE_HOME = "/api/v1/home"
WALK_PAGE = 100  # page size used to walk our listing for deep cursors
# The newest items get a discovery row (what the homepage reads): seeded items are listed in id
# order give or take a few days, so the latest 20 are among these; building rows for all 10,000
# would take minutes on a busy machine and change nothing the benchmark reads.
READ_MODEL_ITEMS = 1_000
ETAG_SAMPLE = 300


@dataclass
class Measured:
    requests: int
    rps: float
    cpu_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    not_modified: int
    restarted: bool = False  # stopped answering after this run and was restarted


@dataclass
class Row:
    workload: str
    workers: int
    concurrency: int
    reference: Measured | None
    ours: Measured | None
    ratio: float | None = None  # ours / reference req/s (revalidation: against the reference's get by id)
    # reference / ours server CPU per request: what one request costs, whatever else the machine does
    cpu_ratio: float | None = None


@dataclass
class BackendResult:
    backend: str
    rows: list[Row] = field(default_factory=list)
    seeded_s: float = 0.0
    reindexed_s: float = 0.0
    listed: int = 0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)
    explain: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ----------------------------------------------------------------------------------- servers


def _reference_command(url: str, workers: int) -> list[str]:
    return [sys.executable, str(BENCH / "reference_app.py"), "--database-url", url, "--workers", str(workers)]


def _uncached(env: dict[str, str]) -> dict[str, str]:
    return {**env, "OPENXIV_HTTP__CACHE_ENTRIES": "0"}


class Servers:
    """Both systems with the same number of worker processes; restarts one that stops answering."""

    def __init__(self, env: dict[str, str], url: str, workdir: Path, workers: int) -> None:
        self.env, self.url, self.workdir, self.workers = env, url, workdir, workers
        self.running: dict[str, server.Server] = {}
        self.restarts: Counter[str] = Counter()
        # What the servers logged: "<system>: 5xx answers" and "<system>: <exception line>".
        self.problems: Counter[str] = Counter()
        for system in (OURS, OURS_COLD, REFERENCE):
            self.running[system] = self._start(system)

    def _start(self, system: str) -> server.Server:
        name = f"{system}-w{self.workers}"
        if system == OURS:
            return server.start(self.env, self.workdir, workers=self.workers, name=name)
        if system == OURS_COLD:
            return server.start(_uncached(self.env), self.workdir, workers=self.workers, name=name)
        command = _reference_command(self.url, self.workers)
        return server.start_command(command, self.env, self.workdir, workers=self.workers, name=name)

    def answering(self, system: str) -> bool:
        """Within ~8 s (a loaded machine is slow, a stalled server does not answer at all)."""
        for _ in range(2):
            try:
                if httpx.get(f"{self.running[system].url}{LISTING}", timeout=4).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
        return False

    def restart(self, system: str) -> None:
        stuck = self.running[system]
        # A blocked event loop does not get to its SIGTERM handler; this group is ours to end.
        server.stop(stuck, grace_s=1)
        self._read_log(system, stuck)
        self.restarts[system] += 1
        self.running[system] = self._start(system)

    def _read_log(self, system: str, srv: server.Server) -> None:
        for line in srv.log.read_text(errors="replace").splitlines():
            if '" 5' in line and "HTTP/1.1" in line:
                self.problems[f"{system}: 5xx answers"] += 1
            elif _EXCEPTION_LINE.match(line):
                self.problems[f"{system}: {line.strip()[:240]}"] += 1

    def stop(self) -> None:
        for system, srv in self.running.items():
            server.stop(srv, grace_s=5)
            self._read_log(system, srv)
        self.running.clear()


_EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Timeout)\w*: ")


def _measure(servers: Servers, system: str, paths: Path, concurrency: int, seconds: float) -> Measured:
    srv = servers.running[system]
    before = server.cpu_seconds(srv)
    run = load.run(
        srv.url,
        paths,
        concurrency=concurrency,
        seconds=seconds,
        workers=servers.workers,
        workdir=servers.workdir,
    )
    cpu_ms = (server.cpu_seconds(srv) - before) * 1000 / max(run.requests, 1)
    measured = Measured(
        requests=run.requests,
        rps=run.rps,
        cpu_ms=cpu_ms,
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        max_ms=run.max_ms,
        errors=run.errors,
        not_modified=run.not_modified,
    )
    if not servers.answering(system):
        measured.restarted = True
        servers.restart(system)
    return measured


# ------------------------------------------------------------------------------ request sets


@dataclass
class RequestSets:
    """One paths file per (system, workload); a workload a system lacks has no file."""

    files: dict[tuple[str, str], Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _write(workdir: Path, name: str, lines: list[str]) -> Path:
    path = workdir / f"{name}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _deep_pages(base_url: str, records: int) -> list[tuple[int, str]]:
    """(offset, cursor) of pages 80-98 % of the way down, walking our listing by its `next_cursor`."""
    found: list[tuple[int, str]] = []
    offset, cursor = 0, None
    with httpx.Client(base_url=base_url, timeout=30) as client:
        while True:
            query = f"/api/v1/submissions?limit={WALK_PAGE}" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(query).raise_for_status().json()
            offset += len(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
            if 0.8 * records <= offset <= 0.98 * records:
                found.append((offset, cursor))
    return found


def _etags(base_url: str, identifiers: list[str]) -> tuple[list[str], str]:
    """`path<TAB>etag` lines for get by id, or for the versioned page when the API sends no ETag."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for template in ("/api/v1/submissions/{id}", "/abs/{id}v1"):
            lines = []
            for identifier in identifiers:
                path = template.format(id=identifier)
                tag = client.get(path).headers.get("etag")
                if tag:
                    lines.append(f"{path}\t{tag}")
            if lines:
                return lines, template
    return [], ""


def request_sets(
    workdir: Path, base_urls: dict[str, str], identifiers: list[str], records: int, rng: random.Random
) -> RequestSets:
    sets = RequestSets()
    get_lines = [f"/api/v1/submissions/{rng.choice(identifiers)}" for _ in range(5000)]
    get_file = _write(workdir, "get", get_lines)
    list_file = _write(workdir, "list", [LISTING])
    sets.files.update(
        {
            (OURS, "get"): get_file,
            (OURS_COLD, "get-cold"): get_file,
            (REFERENCE, "get"): get_file,
            (OURS, "list"): list_file,
            (REFERENCE, "list"): list_file,
            (OURS, "home"): _write(workdir, "home-ours", [OUR_HOME]),
            (REFERENCE, "home"): _write(workdir, "home-reference", [REFERENCE_HOME]),
        }
    )
    deep = _deep_pages(base_urls[OURS], records)
    if deep:
        sets.files[(OURS, "deep")] = _write(workdir, "deep-ours", [f"{LISTING}&cursor={c}" for _, c in deep])
        sets.files[(REFERENCE, "deep")] = _write(
            workdir, "deep-reference", [f"{LISTING}&skip={o}" for o, _ in deep]
        )
        sets.notes.append(f"deep page: {len(deep)} pages at offsets {deep[0][0]:,}-{deep[-1][0]:,}")
    sample = rng.sample(identifiers, min(ETAG_SAMPLE, len(identifiers)))
    tagged, template = _etags(base_urls[OURS], sample)
    if tagged:
        sets.files[(OURS, "revalidate")] = _write(workdir, "revalidate", tagged)
        sets.notes.append(f"304 revalidation: `{template}` with the ETag our server sent ({len(tagged)} ids)")
    else:
        sets.notes.append("304 revalidation: n/a (our server sent no ETag for get by id or /abs/<id>v1)")
    sets.notes += _same_items(base_urls, sets)
    return sets


def _same_items(base_urls: dict[str, str], sets: RequestSets) -> list[str]:
    """Whether both systems answer the listing and deep page with the same items (a fair race)."""
    notes = []
    for workload in ("list", "deep"):
        if (OURS, workload) not in sets.files:
            continue
        picked = {
            system: sets.files[(system, workload)].read_text().splitlines()[0] for system in (OURS, REFERENCE)
        }
        ids: dict[str, list[str]] = {}
        for system, path in picked.items():
            body = httpx.get(base_urls[system] + path, timeout=30).raise_for_status().json()
            items = body["items"] if isinstance(body, dict) else body
            ids[system] = [item.get("id") or item.get("identifier") for item in items]
        same = ids[OURS] == ids[REFERENCE]
        notes.append(
            f"{WORKLOADS[workload]}: both answer the same {len(ids[OURS])} items"
            if same
            else f"{WORKLOADS[workload]}: the items DIFFER (ours {ids[OURS][:3]}..., reference {ids[REFERENCE][:3]}...)"
        )
    return notes


# ---------------------------------------------------------------------------- measurements


def measure_workers(
    env: dict[str, str],
    url: str,
    workdir: Path,
    workers: int,
    sets: RequestSets | None,
    identifiers: list[str],
    args: argparse.Namespace,
    result: BackendResult,
) -> RequestSets:
    servers = Servers(env, url, workdir, workers)
    try:
        if sets is None:
            urls = {system: srv.url for system, srv in servers.running.items()}
            sets = request_sets(workdir, urls, identifiers, args.records, random.Random(16))
        for (system, _), paths in sorted(sets.files.items()):  # warm-up: caches, pools, imports
            load.run(
                servers.running[system].url,
                paths,
                concurrency=4,
                seconds=args.warmup,
                workers=workers,
                workdir=workdir,
            )
        turn = 0
        for workload in WORKLOADS:
            for concurrency in args.concurrency:
                measured: dict[str, Measured | None] = {OURS: None, OURS_COLD: None, REFERENCE: None}
                order = (REFERENCE, OURS, OURS_COLD) if turn % 2 == 0 else (OURS_COLD, OURS, REFERENCE)
                turn += 1
                for system in order:
                    paths = sets.files.get((system, workload))
                    if paths is None:
                        continue
                    _say(f"[{result.backend}] {workers} worker(s) c={concurrency} {workload}: {system}")
                    measured[system] = _measure(servers, system, paths, concurrency, args.seconds)
                ours = measured[OURS] or measured[OURS_COLD]
                result.rows.append(Row(workload, workers, concurrency, measured[REFERENCE], ours))
    finally:
        servers.stop()
    for system, count in sorted(servers.restarts.items()):
        result.notes.append(
            f"{workers} worker(s): {system} stopped answering {count} time(s) and was restarted"
        )
    result.notes += [
        f"{workers} worker(s), server log: {line} (×{count})"
        for line, count in servers.problems.most_common(6)
    ]
    _ratios(result.rows)
    return sets


# Workloads the reference has no counterpart of: their ratio is against its get by id.
AGAINST_REFERENCE_GET = ("get-cold", "revalidate")


def _ratios(rows: list[Row]) -> None:
    reference_get = {(r.workers, r.concurrency): r.reference for r in rows if r.workload == "get"}
    for row in rows:
        base = (
            reference_get.get((row.workers, row.concurrency))
            if row.workload in AGAINST_REFERENCE_GET
            else row.reference
        )
        if row.ours is None or base is None:
            continue
        if base.rps > 0:
            row.ratio = row.ours.rps / base.rps
        if row.ours.cpu_ms > 0:
            row.cpu_ratio = base.cpu_ms / row.ours.cpu_ms


# ---------------------------------------------------------------- statements and query plans


_EVENT_POLL = re.compile(r"\bFROM events\b")


@contextmanager
def _captured_statements() -> Iterator[list[tuple[str, Any]]]:
    """Every statement any engine in this process sends to the database, while inside."""
    captured: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        # The event hub's poll of the events table runs on its own schedule, not for a request.
        if not many and not _EVENT_POLL.search(statement):
            captured.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield captured
    finally:
        event.remove(Engine, "before_cursor_execute", before)


def _selects(statements: list[tuple[str, Any]]) -> int:
    return sum(1 for s, _ in statements if s.lstrip().upper().startswith(("SELECT", "WITH")))


def statements_per_request(
    url: str, env: dict[str, str], sets: RequestSets
) -> tuple[dict[str, dict[str, Any]], dict[str, list[tuple[str, Any]]]]:
    """Statements of the first and of a repeated request per workload and system, run in this
    process (TestClient); also the SQL of our first requests, for EXPLAIN."""
    import reference_app
    from fastapi.testclient import TestClient

    from openxiv.app import create_app
    from openxiv.config import load_settings

    counts: dict[str, dict[str, Any]] = {}
    ours_sql: dict[str, list[tuple[str, Any]]] = {}
    # Listening before the engines exist: an engine made while nothing listens skips the hooks.
    with _captured_statements() as captured:
        with mock.patch.dict(os.environ, env):
            apps = {OURS: create_app(load_settings()), REFERENCE: reference_app.create_app(url)}
        for system, app in apps.items():
            with TestClient(app) as client:
                # Our cache serves once the event feed that evicts it runs (a moment after start-up).
                cache = getattr(app.state, "response_cache", None)
                deadline = time.monotonic() + 10
                while cache is not None and not cache.live and time.monotonic() < deadline:
                    time.sleep(0.05)
                for workload in WORKLOADS:
                    paths = sets.files.get((system, workload))
                    if paths is None:
                        continue
                    path, _, etag = paths.read_text().splitlines()[0].partition("\t")
                    headers = {"If-None-Match": etag} if etag else {}
                    captured.clear()
                    client.get(path, headers=headers)
                    first = list(captured)
                    captured.clear()
                    response = client.get(path, headers=headers)
                    again = list(captured)
                    counts.setdefault(workload, {})[system] = {
                        "status": response.status_code,
                        "first": {"statements": len(first), "selects": _selects(first)},
                        "repeated": {"statements": len(again), "selects": _selects(again)},
                    }
                    if system == OURS:
                        ours_sql[workload] = first
    return counts, ours_sql


def explain(engine: Engine, statements: dict[str, list[tuple[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The plan of every SELECT our listing, deep page and homepage issued, as the database sees it."""
    sqlite = engine.dialect.name == "sqlite"
    out: dict[str, list[dict[str, Any]]] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for workload in ("list", "deep", "home"):
            seen: set[str] = set()
            for statement, parameters in statements.get(workload, []):
                if not statement.lstrip().upper().startswith(("SELECT", "WITH")) or statement in seen:
                    continue
                seen.add(statement)
                try:
                    cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters)
                    rows = cursor.fetchall()
                    plan = _sqlite_plan(rows) if sqlite else [str(r[0]) for r in rows]
                except Exception as error:  # a plan we cannot get is reported, not fatal
                    raw.rollback()
                    plan = [f"EXPLAIN failed: {error}"]
                out.setdefault(workload, []).append({"sql": " ".join(statement.split()), "plan": plan})
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return out


def _sqlite_plan(rows: list[Any]) -> list[str]:
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + str(detail))
    return lines


# ----------------------------------------------------------------------------------- profile


def _py_spy() -> str | None:
    found = shutil.which("py-spy")
    local = Path(sys.executable).with_name("py-spy")
    return found or (str(local) if local.exists() else None)


def profile(env: dict[str, str], workdir: Path, sets: RequestSets, seconds: float) -> dict[str, Any]:
    """py-spy samples of our server (1 worker, response cache off) under get by id at c=32: where
    the Python CPU of a read that reaches the database goes."""
    spy = _py_spy()
    if spy is None:
        return {"error": "py-spy not installed (.venv/bin/pip install py-spy)"}
    srv = server.start(env, workdir, workers=1, name="profile")
    raw = workdir / "profile.txt"
    try:
        paths = sets.files[(OURS, "get")]
        load.run(srv.url, paths, concurrency=4, seconds=1, workers=1, workdir=workdir)
        spy_run = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(srv.process.pid),
                "--duration",
                str(round(seconds) + 1),
                "--rate",
                "250",
                "--format",
                "raw",
                "--function",
                # Only the thread holding the GIL: a thread the sampler catches runnable but waiting
                # (for a CPU, the GIL, or the database's answer) costs no CPU of its own.
                "--gil",
                "--nonblocking",
                "--output",
                str(raw),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        time.sleep(0.5)
        run = load.run(srv.url, paths, concurrency=32, seconds=seconds, workers=1, workdir=workdir)
        output = spy_run.communicate(timeout=seconds + 60)[0].decode(errors="replace")
    finally:
        server.stop(srv, grace_s=5)
    if not raw.exists():
        return {"error": f"py-spy wrote nothing: {output.strip()[-300:]}"}
    return {"requests": run.requests, **_top_frames(raw.read_text(encoding="utf-8", errors="replace"))}


def _top_frames(collapsed: str, top: int = 10) -> dict[str, Any]:
    """Own time per frame and per package, and inclusive time of our own (openxiv) frames."""
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += samples
        own[frames[-1]] += samples
        packages[_package(frames[-1])] += samples
        # The middleware chain wraps every request; below it, the frames that say where the time goes.
        for frame in {f for f in frames if "(openxiv/" in f and "(openxiv/cli.py" not in f}:
            ours[frame] += samples

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(frame, 100 * n / total) for frame, n in counter.most_common(top)] if total else []

    return {"samples": total, "self": share(own), "packages": share(packages), "ours": share(ours)}


def _package(frame: str) -> str:
    """`name (sqlalchemy/orm/session.py:12)` -> `sqlalchemy`; `name (threading.py:3)` -> `threading`."""
    where = frame.partition(" (")[2].rstrip(")")
    first = where.split("/", 1)[0]
    return first.split(".py", 1)[0].split(":", 1)[0] or "?"


def _short(frame: str) -> str:
    """`function (path/to/site-packages/pkg/mod.py)` -> `function (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})" if where else name


# ---------------------------------------------------------------------------------- backends


def build_read_model(engine: Engine, records: int) -> int:
    """Discovery rows of the newest READ_MODEL_ITEMS items (seeded ids are 1..records), made by
    the read model's own writer; returns how many are public."""
    sessions = make_session_factory(engine)
    body_chars = DiscoverySettings().body_chars
    kept = 0
    with transaction(sessions) as session:
        for submission_id in range(records, max(0, records - READ_MODEL_ITEMS), -1):
            kept += refresh_entry(session, submission_id, body_chars=body_chars) is not None
    return kept


def run_backend(backend: str, args: argparse.Namespace, root: Path) -> BackendResult:
    started = time.perf_counter()
    workdir = root / backend
    workdir.mkdir()
    result = BackendResult(backend)
    result.load_before = os.getloadavg()
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'openxiv.db'}"
    else:
        url = _postgres_database(args.pg_admin_url, args.pg_database, create=True)
    env = server.server_environment(url, workdir)
    engine = make_engine(url, pool_size=4)
    try:
        _say(f"[{backend}] openxiv db upgrade")
        subprocess.run(
            [sys.executable, "-m", "openxiv.cli", "db", "upgrade"],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
        )
        _say(f"[{backend}] seeding {args.records:,} submissions")
        result.seeded_s = seed(engine, args.records).seconds
        _say(f"[{backend}] building the discovery read model")
        t0 = time.perf_counter()
        result.listed = build_read_model(engine, args.records)
        result.reindexed_s = time.perf_counter() - t0
        identifiers = [identifier for _, identifier in _public_identifiers(engine)]
        sets: RequestSets | None = None
        for workers in args.workers:
            sets = measure_workers(env, url, workdir, workers, sets, identifiers, args, result)
        assert sets is not None
        result.notes = sets.notes + result.notes
        _say(f"[{backend}] statements per request and EXPLAIN")
        try:
            result.statements, ours_sql = statements_per_request(url, env, sets)
            result.explain = explain(engine, ours_sql)
        except Exception as error:
            result.notes.append(f"statement capture failed: {type(error).__name__}: {error}")
        if args.profile:
            _say(f"[{backend}] py-spy profile of get by id, c=32")
            result.profile = profile(_uncached(env), workdir, sets, args.seconds)
    finally:
        engine.dispose()
        if backend == "postgres" and not args.keep:
            _postgres_database(args.pg_admin_url, args.pg_database, create=False)
    result.load_after = os.getloadavg()
    result.seconds = time.perf_counter() - started
    return result


# ------------------------------------------------------------------------------------ report


def _cell(m: Measured | None, *, revalidation: bool = False) -> str:
    if m is None:
        return " - | - | - | - |"
    extra = f", {m.not_modified:,} × 304" if revalidation else ""
    mark = " (stopped answering; restarted)" if m.restarted else ""
    return f" {m.rps:,.0f} | {m.cpu_ms:.2f} | {m.p50_ms:.1f} / {m.p99_ms:.1f} | {m.errors:,}{extra}{mark} |"


def _statements_cell(counted: dict[str, Any] | None) -> str:
    if counted is None:
        return "-"
    first, again = counted["first"], counted["repeated"]
    return (
        f"{first['statements']} ({first['selects']}) / {again['statements']} ({again['selects']}),"
        f" HTTP {counted['status']}"
    )


def _commit() -> str:
    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line.strip()]
    head = git("rev-parse", "--short=10", "HEAD") or "unknown"
    return head + (f" + uncommitted changes in {len(dirty)} file(s) under src/" if dirty else "")


def report(results: list[BackendResult], args: argparse.Namespace, total_s: float) -> str:
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {args.commit}, {args.records:,} seeded "
        f"submissions, {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}{', ' + args.pg_version if args.pg_version else ''}, load generator "
        f"{load.driver_name()}, {args.seconds:g} s per run; total {total_s / 60:.1f} min.",
        "",
    ]
    for r in results:
        lines.append(
            f"- {names[r.backend]}: seeded in {r.seeded_s:.0f} s, read model of the newest {READ_MODEL_ITEMS:,} ({r.listed:,} public) "
            f"in {r.reindexed_s:.0f} s; load average before/after {r.load_before[0]:.1f}/"
            f"{r.load_after[0]:.1f}; backend total {r.seconds:.0f} s."
        )
    for r in results:
        lines += [
            "",
            f"{names[r.backend]} (req/s · server CPU ms per request · p50 / p99 ms · errors):",
            "",
            "| workload | workers | c | reference req/s | CPU ms/req | p50 / p99 | errors "
            "| ours req/s | CPU ms/req | p50 / p99 | errors | req/s ours ÷ reference | CPU/req reference ÷ ours |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in r.rows:
            ratios = [f"{x:.2f}" if x is not None else "n/a" for x in (row.ratio, row.cpu_ratio)]
            if row.workload in AGAINST_REFERENCE_GET and row.ratio is not None:
                ratios[0] += " (vs its get by id)"
            lines.append(
                f"| {WORKLOADS[row.workload]} | {row.workers} | {row.concurrency} |"
                + _cell(row.reference)
                + _cell(row.ours, revalidation=row.workload == "revalidate")
                + f" {ratios[0]} | {ratios[1]} |"
            )
        if r.statements:
            lines += [
                "",
                "SQL statements per request, first request / the same request again (cursor executes, "
                "SELECTs in brackets; BEGIN/ROLLBACK sent as statements count, driver-level ones do not):",
                "",
                "| workload | reference | ours |",
                "|---|---|---|",
            ]
            for workload, by_system in r.statements.items():
                cells = [_statements_cell(by_system.get(s)) for s in (REFERENCE, OURS)]
                lines.append(f"| {WORKLOADS[workload]} | {cells[0]} | {cells[1]} |")
        for note in r.notes:
            lines.append(f"\n{names[r.backend]}: {note}")
        if r.explain:
            lines += ["", f"{names[r.backend]} query plans of our listing, deep page and homepage:", ""]
            for workload, plans in r.explain.items():
                for item in plans:
                    lines += [
                        f"- {WORKLOADS[workload]}: `{item['sql'][:400]}`",
                        "",
                        "  ```",
                        *[f"  {p}" for p in item["plan"]],
                        "  ```",
                    ]
        if r.profile:
            lines += [
                "",
                f"{names[r.backend]} py-spy, our server (response cache off) under get by id at c=32, 1 worker:",
                "",
            ]
            if "error" in r.profile:
                lines.append(f"profile: {r.profile['error']}")
            else:
                lines.append(
                    f"{r.profile['samples']:,} samples of the thread holding the GIL (py-spy --gil, 250 Hz)"
                    f" over {r.profile['requests']:,} requests; C code that releases the GIL (the database's"
                    " own work, waiting for it) is not sampled."
                )
                titles = (
                    ("top frames, own time", "self"),
                    ("own time by package", "packages"),
                    ("our frames, inclusive (middleware chain included)", "ours"),
                )
                for title, key in titles:
                    lines += ["", f"| {title} | % of samples |", "|---|---|"]
                    lines += [f"| `{frame}` | {pct:.1f} |" for frame, pct in r.profile[key]]
    return "\n".join(lines) + "\n"


def as_json(results: list[BackendResult], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "run": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": args.commit,
            "records": args.records,
            "seconds_per_run": args.seconds,
            "cpus": os.cpu_count(),
            "load_generator": load.driver_name(),
        },
        "backends": {
            r.backend: {
                "load_before": r.load_before,
                "load_after": r.load_after,
                "results": [
                    {
                        "workload": row.workload,
                        "workers": row.workers,
                        "concurrency": row.concurrency,
                        REFERENCE: _json_measured(row.reference),
                        OURS: _json_measured(row.ours),
                        "ratio": row.ratio,
                        "cpu_ratio": row.cpu_ratio,
                    }
                    for row in r.rows
                ],
                "statements": r.statements,
                "explain": r.explain,
                "profile": r.profile,
                "notes": r.notes,
            }
            for r in results
        },
    }


def _json_measured(m: Measured | None) -> dict[str, Any] | None:
    if m is None:
        return None
    out = asdict(m)
    out["cpu_ms_per_request"] = out.pop("cpu_ms")
    return out


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _numbers(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--records", type=int, default=10_000, help="submissions to seed (default 10000)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per wrk run (default 4)")
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="seconds of warm-up per server and workload"
    )
    parser.add_argument("--workers", default="1,2", help="worker processes of both servers (default 1,2)")
    parser.add_argument("--concurrency", default="1,32,256", help="connections (default 1,32,256)")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write the measurements as JSON here")
    parser.add_argument("--profile", action="store_true", help="py-spy top frames of our get by id at c=32")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1,000 records, 1 s runs, 1 worker, c=1,32"
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("OPENXIV_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server to create the benchmark database on",
    )
    parser.add_argument("--pg-database", default="openxiv_bench_read", help="database created, then dropped")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and database")
    parser.add_argument("--load-generator", choices=("auto", "wrk", "httpx"), default="auto")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.seconds, args.warmup, args.workers, args.concurrency = 1_000, 1.0, 0.5, "1", "1,32"
    if args.records < 500:
        parser.error("--records must be at least 500")
    args.workers = _numbers(args.workers)
    args.concurrency = _numbers(args.concurrency)
    load.set_preference(args.load_generator)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    args.pg_version = _postgres_version(args.pg_admin_url) if "postgres" in backends else ""
    if "unreachable" in args.pg_version:
        print(f"error: {args.pg_version}; pass --pg-admin-url or use --backend sqlite", file=sys.stderr)
        return 2
    args.commit = _commit()
    results, elapsed = runs.run_backends(backends, run_backend, args, prefix="openxiv-read-path-", say=_say)
    runs.publish(report(results, args, elapsed), args.out)
    if args.json:
        args.json.write_text(json.dumps(as_json(results, args), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up servers when stopped
    raise SystemExit(main())
