"""Server-side render time of the web UI: the homepage and an item page with 5 versions, their
reviews and 200 comments, over N public items, on SQLite and PostgreSQL.

    .venv/bin/python bench/ui_render.py --backend both --items 100000 --out /tmp/ui.md

Per backend: a fresh database seeded by bench/discovery.py's bulk loader (N items in the public
read model with categories and engagement counts), then, through the app itself with the
deterministic `test` model reviewing, one heavy item: v1 and four revisions (each with a meta
review of 3 reviewers + the area chair's synthesis, a 5-seat panel and, from v2 on, a pairwise
verdict: 20 reviewer reports in all) and 200 comments (100 threads, each with a reply) and likes.
Pages are requested in-process (Starlette's TestClient: routing, dependencies, the database
work and Jinja2 rendering; no sockets), each rendered afresh: the in-process cache of public
responses is emptied before every request except on the one row that measures it. The SQL
statements of a request are counted. The transfer budget is the homepage HTML and CSS
gzip-compressed (the homepage loads no JavaScript; only the submission forms load one script).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import discovery as loader
from openxiv.app import create_app
from openxiv.config import Settings
from openxiv.db import make_engine
from openxiv.migrations import upgrade
from openxiv.runtime import Runtime

PG_NAME = "openxiv_bench_ui"
PARAGRAPH = (
    "We study how the learning-rate warm-up length interacts with batch size in small transformers. "
    "Across 48 runs, a warm-up proportional to the square root of the batch size gives the lowest loss. "
)
BUDGET_MS = 50.0
TRANSFER_BUDGET_KB = 150.0


def _settings(url: str, workdir: Path) -> Settings:
    many = 1_000_000
    return Settings(
        database_url=url,
        mode="dev",
        secret_key="bench-ui",
        storage={"root": workdir / "blobs"},
        queue={"url": "immediate"},
        rate_limit={"enabled": False},
        literature={"index_dir": workdir / "literature-index", "index_refresh_interval_s": 0.0},
        llm={"models": {"t": {"provider": "test", "model": "det-1"}}},
        review={
            "enabled": True,
            "single_model": "t",
            "area_chair_model": "t",
            "reviewer_models": ["t"],
            "pairwise_model": "t",
            "panel": ["t"] * 5,
            "reviewers": 3,
            "max_versions": 10,
            "decision_source": "scores",
            "score_threshold": {"paper": 0.999},
            "reject_below": 0.0,
        },
        community={
            "comments_per_hour": many,
            "comments_per_item_per_hour": many,
            "new_account_comments_per_hour": many,
            "likes_per_hour": many,
        },
    )


def _paper(title: str, text_body: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "abstract": PARAGRAPH,
        "authors": [{"kind": "human", "name": "Ada Bench"}],
        "categories": ["cs.LG"],
        "licence": "CC-BY-4.0",
        "ai_involvement": "None.",
        "ip_attribution": {"model_developer": "none", "initiating_human": "Ada Bench"},
        "source": {"format": "markdown", "text": text_body},
        **extra,
    }


def heavy_item(client: TestClient) -> str:
    account = client.post(
        "/api/v1/accounts",
        json={
            "email": "bench@example.org",
            "password": "correct horse battery",
            "display_name": "Ada Bench",
            "accept_policy": True,
        },
    ).json()
    headers = {"Authorization": f"Bearer {account['key']['token']}"}
    body = "# Warm-up\n\n" + "\n\n".join(f"Paragraph {i}. {PARAGRAPH}" for i in range(60))
    item = client.post(
        "/api/v1/submissions", headers=headers, json={"kind": "paper", **_paper("Heavy", body)}
    )
    assert item.status_code == 201, item.text
    identifier = str(item.json()["id"])
    for number in range(2, 6):
        body = body.replace(f"Paragraph {number * 7}.", f"Paragraph {number * 7}, rewritten in v{number}.")
        revised = client.post(
            f"/api/v1/submissions/{identifier}/versions",
            headers=headers,
            json=_paper(f"Heavy v{number}", body, response_letter=f"v{number}: every point answered."),
        )
        assert revised.status_code == 201, revised.text
    for thread in range(100):
        top = client.post(
            f"/api/v1/submissions/{identifier}/comments",
            headers=headers,
            json={"body": f"Thread {thread}: does **this** hold for $n = {thread}$?"},
        )
        assert top.status_code == 201, top.text
        reply = client.post(
            f"/api/v1/comments/{top.json()['id']}/replies",
            headers=headers,
            json={"body": "Yes, see section 3."},
        )
        assert reply.status_code == 201, reply.text
    client.put(f"/api/v1/submissions/{identifier}/like", headers=headers)
    return identifier


def timed(
    client: TestClient, engine: Any, path: str, samples: int, *, cold: bool = False, cached: bool = False
) -> dict[str, float]:
    """Every request renders the page: the public response cache (anonymous reads served from
    memory) is emptied before each, unless `cached`. `cold`: the homepage's one-minute cache
    (trending order, category list) is emptied too, so every request computes them. The SQL
    statements of the last request are counted."""
    client.get(path)  # templates compiled, caches warm
    times = []
    state = client.app.state  # type: ignore[attr-defined]
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(samples):
            if not cached:
                state.response_cache.clear()
            if cold:
                getattr(state, "homepage_cache", {}).clear()
            statements.clear()
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
        "max": times[-1],
        "bytes": len(response.content),
        "gzip": len(gzip.compress(response.content)),
        "statements": len(statements),
    }


def run_backend(backend: str, items: int, samples: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        admin = create_engine(
            loader.PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
        url = loader.PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"
    upgrade(url)
    engine = make_engine(url, pool_size=4)
    print(f"{backend}: seeding {items} items", file=sys.stderr)
    seeded = loader.seed(engine, items, random.Random(20261203))
    if backend == "postgres":
        # The loader writes explicit ids; the app's own inserts then need the sequences past them.
        with engine.begin() as conn:
            for table in ("accounts", "submissions", "submission_versions"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    engine.dispose()
    settings = _settings(url, workdir)
    runtime = Runtime(settings)
    results: dict[str, Any] = {"seeded_s": seeded.get("seconds")}
    try:
        with TestClient(create_app(settings, runtime)) as client:
            print(f"{backend}: building the heavy item", file=sys.stderr)
            start = time.perf_counter()
            identifier = heavy_item(client)
            results["heavy_s"] = time.perf_counter() - start
            print(f"{backend}: measuring", file=sys.stderr)
            engine = runtime.engine
            item = f"/abs/{identifier}"
            results["pages"] = {
                "homepage (trending, week)": timed(client, engine, "/", samples),
                "homepage (trending, week, cache cold)": timed(client, engine, "/", samples, cold=True),
                "homepage (latest, all time)": timed(client, engine, "/?tab=latest&period=all", samples),
                "homepage search": timed(client, engine, "/?q=language+model", samples),
                "item page (5 versions, 20 reports, 200 comments)": timed(client, engine, item, samples),
                "item page, anonymous, from the response cache": timed(
                    client, engine, item, samples, cached=True
                ),
                "diff v4 -> v5": timed(client, engine, f"/abs/{identifier}/diff?a=4&b=5", samples),
            }
            css = client.get("/static/style.css").content
            results["css_gzip"] = len(gzip.compress(css))
    finally:
        runtime.close()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)  # a 100,000-item SQLite file is ~1 GB
        if admin is not None and not os.environ.get("BENCH_KEEP"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
            admin.dispose()
    return results


def report(
    runs: dict[str, dict[str, Any]], items: int, samples: int, started: datetime, seconds: float
) -> str:
    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC, {items:,} public items, {samples} requests per page after one "
        f"warm-up, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; total {seconds / 60:.1f} min.",
        "",
        "| backend | page | p50 ms | p95 ms | max ms | SQL statements | HTML KB | gzip KB | p95 < 50 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for backend, run in runs.items():
        for page, r in run["pages"].items():
            ok = "yes" if r["p95"] < BUDGET_MS else "**no**"
            lines.append(
                f"| {backend} | {page} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['statements']} | "
                f"{r['bytes'] / 1024:.1f} | {r['gzip'] / 1024:.1f} | {ok} |"
            )
    lines.append("")
    for backend, run in runs.items():
        home = run["pages"]["homepage (trending, week)"]["gzip"] + run["css_gzip"]
        verdict = "within" if home / 1024 < TRANSFER_BUDGET_KB else "**over**"
        lines.append(
            f"- {backend}: homepage transfer (HTML + CSS, gzip; no JavaScript) {home / 1024:.1f} KB, {verdict} the "
            f"{TRANSFER_BUDGET_KB:.0f} KB budget; heavy item built through the API in {run['heavy_s']:.0f} s."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = datetime.now(UTC)
    clock = time.perf_counter()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runs = {}
    for backend in backends:
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        runs[name] = run_backend(backend, args.items, args.samples)
        # Each backend's numbers as soon as they exist: the next backend may take minutes.
        partial = report({name: runs[name]}, args.items, args.samples, started, time.perf_counter() - clock)
        print(partial, file=sys.stderr)
    text_report = report(runs, args.items, args.samples, started, time.perf_counter() - clock)
    print(text_report)
    if args.out:
        args.out.write_text(text_report, "utf-8")


if __name__ == "__main__":
    main()
