"""Discovery at scale: search, trending (daily papers), OAI-PMH harvest and feeds over N public
items, on SQLite and PostgreSQL, measured in one run.

    .venv/bin/python bench/discovery.py --backend both --items 100000 --out /tmp/discovery.md
    .venv/bin/python bench/discovery.py --backend sqlite --items 20000 --bm25s   # also the bm25s index

Per backend: a fresh database (a SQLite file in a temporary directory, or a PostgreSQL database
`openxiv_bench_discovery`, created and dropped), the schema by the migrations, then rows
bulk-inserted straight into the tables: accounts, submissions with one version and 1-4 authors,
the discovery read model (the FTS5 / tsvector triggers fire per row, as they do in production)
with 1-2 categories each, and the community's running like/comment counts. Text is drawn from
the words of the seed Daily Papers pages (Zipf-weighted): ~10-word titles, ~150-word abstracts
and ~300-word bodies. Publication times spread over the last 365 days (about 220 per day).

`BENCH_SKIP_HARVEST=1` leaves out the two full OAI-PMH harvests; `BENCH_KEEP=1` keeps the
PostgreSQL database afterwards (for EXPLAIN ANALYZE; the SQLite file's path is printed).

Timings call the domain services in this process with a fresh read session per call -- what a
request costs minus HTTP framing (a few ms, docs/benchmarks.md "Platform core" has those).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from openxiv.db import make_engine, make_session_factory
from openxiv.discovery import service
from openxiv.discovery.settings import DiscoverySettings
from openxiv.migrations import upgrade
from openxiv.models import Account, Submission, SubmissionVersion, VersionAuthor
from openxiv.models.discovery import DiscoveryCategory, DiscoveryEntry

SEEDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "seeds"
PG_ADMIN = os.environ.get("OPENXIV_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_NAME = "openxiv_bench_discovery"
CATEGORIES = [
    "cs.LG",
    "cs.CL",
    "cs.CV",
    "cs.AI",
    "stat.ML",
    "cs.CR",
    "cs.RO",
    "math.OC",
    "q-bio.NC",
    "physics.comp-ph",
]
STATUS_MIX = [
    ("provisionally_accepted", 55),
    ("accepted", 25),
    ("under_review", 12),
    ("rejected", 6),
    ("withdrawn", 2),
]
BATCH = 2000


def vocabulary() -> tuple[list[str], list[float]]:
    words: Counter[str] = Counter()
    for path in sorted(SEEDS.glob("00*.txt")):
        words.update(w for w in re.findall(r"[a-z]{3,}", path.read_text("utf-8", errors="replace").lower()))
    ranked = [w for w, _ in words.most_common(6000)]
    return ranked, [1.0 / (rank + 1) for rank in range(len(ranked))]


class Text:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words, weights = vocabulary()
        self.cumulative = list(_accumulate(weights))

    def words_of(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=n))


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def seed(engine: Any, items: int, rng: random.Random) -> dict[str, Any]:
    started = time.perf_counter()
    now = datetime.now(UTC)
    words = Text(rng)
    accounts = 2000
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    with engine.begin() as conn:
        conn.execute(
            insert(Account),
            [
                {
                    "id": i,
                    "email": f"u{i}@example.org",
                    "display_name": f"Author {i}",
                    "password_hash": "x",
                    "roles": ["author"],
                    "policy_version": "1",
                    "policy_accepted_at": now,
                    "created_at": now,
                }
                for i in range(1, accounts + 1)
            ],
        )
    engagement_table = "engagement" in inspect(engine).get_table_names()
    counts = Counter[str]()
    for start in range(1, items + 1, BATCH):
        ids = range(start, min(start + BATCH, items + 1))
        submissions, versions, authors, entries, categories, engagement = [], [], [], [], [], []
        for i in ids:
            status = rng.choices(statuses, weights)[0]
            created = now - timedelta(days=rng.uniform(0, 365))
            published = (
                created + timedelta(hours=rng.uniform(1, 72))
                if status != "under_review" and status != "rejected"
                else None
            )
            if published and published > now:
                published = now - timedelta(minutes=rng.uniform(1, 600))
            listed = created + timedelta(minutes=10)
            owner = rng.randint(1, accounts)
            title = words.words_of(rng.randint(6, 14)).capitalize()
            abstract = words.words_of(rng.randint(100, 200))
            body = words.words_of(rng.randint(200, 400))
            names = [f"Author {rng.randint(1, accounts)}" for _ in range(rng.randint(1, 4))]
            cats = rng.sample(CATEGORIES, rng.randint(1, 2))
            identifier = f"b{i:09d}"
            submissions.append(
                {
                    "id": i,
                    "identifier": identifier,
                    "kind": "paper" if rng.random() < 0.85 else "proposal",
                    "status": status,
                    "title": title,
                    "owner_id": owner,
                    "latest_version": 1,
                    "created_at": created,
                    "updated_at": published or listed,
                }
            )
            versions.append(
                {
                    "id": i,
                    "submission_id": i,
                    "number": 1,
                    "title": title,
                    "abstract": abstract,
                    "meta": {
                        "categories": cats,
                        "keywords": [],
                        "licence": "CC-BY-4.0",
                        "ai_involvement": "none",
                    },
                    "extracted_text": body,
                    "created_by_account_id": owner,
                    "created_at": created,
                }
            )
            for position, name in enumerate(names):
                authors.append({"version_id": i, "position": position, "kind": "human", "name": name})
            entries.append(
                {
                    "submission_id": i,
                    "identifier": identifier,
                    "kind": submissions[-1]["kind"],
                    "status": status,
                    "version_number": 1,
                    "title": title,
                    "abstract": abstract,
                    "body": body,
                    "categories": cats,
                    "keywords": [],
                    "authors": [
                        {"name": n, "kind": "human", "orcid": None, "affiliation": None} for n in names
                    ],
                    "licence": "CC-BY-4.0",
                    "ai_involvement": "none",
                    "submitter_id": owner,
                    "submitter_name": f"Author {owner}",
                    "created_at": created,
                    "listed_at": listed,
                    "published_at": published,
                    "datestamp": published or listed,
                }
            )
            categories += [{"submission_id": i, "category": c} for c in cats]
            if published and rng.random() < 0.6:
                # Heavy-tailed likes: most items a few, some hundreds.
                engagement.append(
                    {
                        "submission_id": i,
                        "human_likes": int(rng.paretovariate(1.3)) - 1,
                        "agent_likes": rng.randint(0, 2),
                        "comments": int(rng.paretovariate(1.6)) - 1,
                    }
                )
        with engine.begin() as conn:
            conn.execute(insert(Submission), submissions)
            conn.execute(insert(SubmissionVersion), versions)
            conn.execute(insert(VersionAuthor), authors)
            conn.execute(insert(DiscoveryEntry), entries)
            conn.execute(insert(DiscoveryCategory), categories)
            if engagement_table and engagement:
                conn.execute(
                    text(
                        "INSERT INTO engagement (submission_id, human_likes, agent_likes, comments)"
                        " VALUES (:submission_id, :human_likes, :agent_likes, :comments)"
                    ),
                    engagement,
                )
        counts["items"] += len(submissions)
        counts["authors"] += len(authors)
        counts["categories"] += len(categories)
        counts["engagement rows"] += len(engagement)
        print(f"  seeded {counts['items']}/{items} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("INSERT INTO discovery_fts(discovery_fts) VALUES ('optimize')")
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return {"seconds": time.perf_counter() - started, **counts, "engagement": engagement_table}


def timed(samples: int, run: Callable[[int], object]) -> dict[str, float]:
    run(0)  # warm-up
    values = []
    for i in range(samples):
        start = time.perf_counter()
        run(i)
        values.append((time.perf_counter() - start) * 1000)
    values.sort()
    return {
        "n": samples,
        "p50": statistics.median(values),
        "p95": values[max(0, round(samples * 0.95) - 1)],
        "max": values[-1],
    }


def measure(reads: sessionmaker[Session], items: int, rng: random.Random, bm25: bool) -> dict[str, Any]:
    site = service.Site(base_url="https://openxiv.example", name="OpenXiv", settings=DiscoverySettings())
    words = Text(rng)
    common = words.words[20:200]
    rare = words.words[2000:5000]
    queries = [" ".join(rng.sample(common, rng.randint(1, 3))) for _ in range(60)]
    queries += [" ".join(rng.sample(rare, rng.randint(1, 2))) for _ in range(40)]
    rng.shuffle(queries)
    today = datetime.now(UTC).date()
    days = [(today - timedelta(days=rng.randint(1, 360))).isoformat() for _ in range(60)]
    weeks = []
    for _ in range(40):
        iso = (today - timedelta(days=rng.randint(7, 350))).isocalendar()
        weeks.append(f"{iso.year}-W{iso.week:02d}")
    months = [(today - timedelta(days=rng.randint(31, 330))).strftime("%Y-%m") for _ in range(20)]
    results: dict[str, Any] = {}

    def with_session(action: Callable[[Session, int], object]) -> Callable[[int], object]:
        def run(i: int) -> object:
            with reads() as session:
                return action(session, i)

        return run

    results["search, relevance, 1-3 words"] = timed(
        len(queries), with_session(lambda s, i: service.search_items(s, queries[i], limit=20))
    )
    results["search, newest first"] = timed(
        50, with_session(lambda s, i: service.search_items(s, queries[i], sort="newest", limit=20))
    )
    results["search, category + kind filter"] = timed(
        50,
        with_session(
            lambda s, i: service.search_items(
                s, queries[i], category=CATEGORIES[i % 10], kind="paper", limit=20
            )
        ),
    )
    results["search, status + date range"] = timed(
        50,
        with_session(
            lambda s, i: service.search_items(
                s,
                queries[i],
                status="accepted",
                listed_from=today - timedelta(days=90),
                listed_to=today,
                limit=20,
            )
        ),
    )

    def daily(**kwargs: Any) -> Callable[[Session, int], object]:
        def call(s: Session, i: int) -> object:
            args = {k: (v[i % len(v)] if isinstance(v, list) else v) for k, v in kwargs.items()}
            return service.daily_papers(
                s,
                site,
                day=args.get("day"),
                week=args.get("week"),
                month=args.get("month"),
                sort=args.get("sort", "trending"),
                page=0,
                limit=50,
                submitter=None,
            )

        return call

    results["trending, last 7 days (default page)"] = timed(40, with_session(daily()))
    results["trending, one day"] = timed(60, with_session(daily(day=days)))
    results["trending, one week"] = timed(40, with_session(daily(week=weeks)))
    results["trending, one month"] = timed(20, with_session(daily(month=months)))
    results["daily papers, one day, newest first"] = timed(
        60, with_session(daily(day=days, sort="publishedAt"))
    )

    for name, fmt, category in (
        ("feed latest.rss", "rss", None),
        ("feed latest.atom", "atom", None),
        ("feed accepted.rss?category=cs.CL", "rss", "cs.CL"),
    ):
        feed_name = "accepted" if "accepted" in name else "latest"

        def build(s: Session, _i: int, f: Any = fmt, c: str | None = category, n: str = feed_name) -> object:
            return service.feed(s, site, n, f, category=c, kind=None)

        results[name] = timed(
            30,
            with_session(build),
        )

    # Full OAI-PMH harvest: every page of ListRecords oai_dc, then of ListIdentifiers.
    for verb in () if os.environ.get("BENCH_SKIP_HARVEST") else ("ListRecords", "ListIdentifiers"):
        started = time.perf_counter()
        records = pages = 0
        arguments: dict[str, list[str]] = {"verb": [verb], "metadataPrefix": ["oai_dc"]}
        while True:
            with reads() as session:
                document = service.oai_response(session, site, arguments)
            pages += 1
            records += document.count(b"<oai:header")
            token = re.search(rb"<oai:resumptionToken[^>]*>([^<]+)</oai:resumptionToken>", document)
            if not token:
                break
            arguments = {"verb": [verb], "resumptionToken": [token.group(1).decode()]}
        seconds = time.perf_counter() - started
        results[f"OAI-PMH full harvest, {verb} oai_dc"] = {
            "records": records,
            "pages": pages,
            "seconds": seconds,
            "records/s": records / seconds,
            "ms/page": seconds * 1000 / pages,
        }
    if bm25:
        results.update(measure_bm25s(reads, queries))
    return results


def measure_bm25s(reads: sessionmaker[Session], queries: list[str]) -> dict[str, Any]:
    """The literature domain's bm25s index over the same items (title, abstract and body in the
    abstract slot), for the choice between it and the databases' own full-text search."""
    from openxiv.literature.index import Bm25Index, document_tokens

    with reads() as session:
        rows = [
            (r[0], r[1], f"{r[2]} {r[3]}", r[4])
            for r in session.execute(
                text(
                    "SELECT submission_id, title, abstract, body, datestamp FROM discovery_entries ORDER BY submission_id"
                )
            )
        ]
    directory = Path(tempfile.mkdtemp(prefix="bench-bm25s-"))
    index = Bm25Index(directory)
    now = datetime.now(UTC)
    stats = index.build(((i, t, a, now) for i, t, a, _ in rows), now)
    tokens = [list(dict.fromkeys(document_tokens(q, ""))) for q in queries]
    search = timed(len(queries), lambda i: index.search(tokens[i], 20))
    return {
        "bm25s build (title+abstract+body)": {"seconds": stats.seconds, "documents": stats.documents},
        "bm25s search, unfiltered top 20": search,
    }


def run_backend(backend: str, items: int, bm25: bool) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-discovery-"))
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        admin = create_engine(
            PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"
    upgrade(url)
    engine = make_engine(url, pool_size=4)
    rng = random.Random(20261203)
    print(f"{backend}: seeding {items} items into {url}", file=sys.stderr)
    seeded = seed(engine, items, rng)
    print(f"{backend}: measuring", file=sys.stderr)
    load = [os.getloadavg()[0]]
    measured = measure(make_session_factory(engine, write=False), items, random.Random(7), bm25)
    load.append(os.getloadavg()[0])
    engine.dispose()
    if backend == "postgres" and not os.environ.get("BENCH_KEEP"):
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        admin.dispose()
    # The machine is shared: every number depends on what else runs, so the report says.
    return {"seeded": seeded, "results": measured, "load": load}


def report(runs: dict[str, dict[str, Any]], items: int, started: datetime, seconds: float) -> str:
    import sqlite3

    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC, {items:,} items, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; total {seconds / 60:.1f} min.",
        "",
    ]
    for backend, run in runs.items():
        s = run["seeded"]
        lines.append(
            f"- {backend}: seeded in {s['seconds']:.0f} s ({s['items']:,} items, {s['authors']:,} authors, "
            f"{s['categories']:,} category rows, {s['engagement rows']:,} engagement rows"
            f"{'' if s['engagement'] else ', no engagement table'}); load average (1 min) "
            f"{run['load'][0]:.1f} when measuring began, {run['load'][1]:.1f} when it ended."
        )
    lines += ["", "| measurement | target | " + " | ".join(f"{b} p50 / p95 / max ms" for b in runs) + " |"]
    lines.append("|---|---|" + "---|" * len(runs))
    targets = {"search": "p95 < 100", "trending": "p95 < 50"}
    names = [n for n in next(iter(runs.values()))["results"] if not n.startswith(("OAI", "bm25s build"))]
    for name in names:
        cells = []
        for run in runs.values():
            r = run["results"].get(name)
            cells.append(f"{r['p50']:.1f} / {r['p95']:.1f} / {r['max']:.1f} (n={r['n']})" if r else "-")
        target = next((t for k, t in targets.items() if name.startswith(k)), "-")
        lines.append(f"| {name} | {target} | " + " | ".join(cells) + " |")
    lines.append("")
    for name in [n for n in next(iter(runs.values()))["results"] if n.startswith(("OAI", "bm25s build"))]:
        for backend, run in runs.items():
            r = run["results"].get(name)
            if r:
                detail = ", ".join(
                    f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in r.items()
                )
                lines.append(f"- {name} ({backend}): {detail}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--bm25s", action="store_true", help="also build and query the bm25s index")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = datetime.now(UTC)
    clock = time.perf_counter()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runs = {
        ("SQLite" if b == "sqlite" else "PostgreSQL"): run_backend(b, args.items, args.bm25s)
        for b in backends
    }
    text_report = report(runs, args.items, started, time.perf_counter() - clock)
    print(text_report)
    if args.out:
        args.out.write_text(text_report, "utf-8")


if __name__ == "__main__":
    main()
