"""`openxiv bench literature`: retrieval quality on the seed pages and speed at scale, in one run.

1. Known-item retrieval on the two Daily Papers pages (read from the shared seeds folder at run
   time): every paper's title, then the first sentence of its abstract, must find the paper.
   The starter corpus is indexed beside them as distractors.
2. Synthetic abstracts at each size: JSONL import rate, index build time, disk, memory, query
   p50/p95 (BM25 core and the whole `search` service), and SQLite FTS5 on the same records.
3. The naive approach (rescan and score every document per query, as AgentRxiv's retrieval
   re-embeds every paper per query) at 10,000 records beside the index, with the ratio.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from openxiv.literature.dailypages import parse_daily_papers
from openxiv.literature.settings import LiteratureSettings
from openxiv.literature.text import STOPWORDS, split_sentences, tokenize
from openxiv.models.base import utcnow

K = 10


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 2),
        "p95_ms": round(1000 * ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 2),
        "mean_ms": round(1000 * statistics.fmean(ordered), 2),
    }


def _timed(action: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def _database(directory: Path) -> tuple[Any, Any]:
    from openxiv.db import make_engine, make_session_factory
    from openxiv.models import Base

    engine = make_engine(f"sqlite:///{directory / 'bench.db'}", pool_size=2)
    Base.metadata.create_all(engine)
    return engine, make_session_factory(engine)


# ---- 1. known-item retrieval ----------------------------------------------------------------


def known_item(seeds_dir: Path, workdir: Path, dense: bool) -> dict[str, Any]:
    from openxiv.literature.importer import import_records
    from openxiv.literature.records import RecordIn
    from openxiv.literature.service import load_starter_corpus, ranked_ids

    papers: list[tuple[str, str]] = []
    for page in sorted(seeds_dir.glob("00[34]_*.txt")):
        papers += parse_daily_papers(page.read_text("utf-8"))
    if not papers:
        return {"error": f"no Daily Papers pages (003_*.txt, 004_*.txt) in {seeds_dir}"}
    engine, factory = _database(workdir)
    settings = LiteratureSettings(index_dir=workdir / "index")
    with factory() as session, session.begin():
        load_starter_corpus(session)
        import_records(session, [RecordIn(title=t, abstract=a, source="seed") for t, a in papers])
    from sqlalchemy import select

    from openxiv.models.literature import LiteratureRecord

    with factory() as session:
        ids = {
            title: rid for rid, title in session.execute(select(LiteratureRecord.id, LiteratureRecord.title))
        }
        corpus = len(ids)
        results: dict[str, Any] = {"papers": len(papers), "corpus_records": corpus}
        modes = [("bm25", False)] + ([("bm25+dense", True)] if dense else [])
        for label, use_dense in modes:
            for kind in ("title", "first_sentence"):
                reciprocal: list[float] = []
                for title, abstract in papers:
                    query = title if kind == "title" else split_sentences(abstract)[0]
                    ranking, used, _, _ = ranked_ids(session, settings, query, 100, dense=use_dense)
                    if use_dense and "dense" not in used:
                        return {**results, "error": "dense retrieval unavailable"}
                    order = [rid for rid, _ in ranking]
                    target = ids[title]
                    reciprocal.append(1.0 / (order.index(target) + 1) if target in order else 0.0)
                results[f"{label}_{kind}_mrr"] = round(statistics.fmean(reciprocal), 4)
                results[f"{label}_{kind}_top1"] = round(
                    sum(r == 1.0 for r in reciprocal) / len(reciprocal), 4
                )
    engine.dispose()
    return results


# ---- 2. synthetic corpus --------------------------------------------------------------------


class SyntheticCorpus:
    """Abstract-like text: Zipf-distributed content words mixed with English stop words."""

    def __init__(self, seed: int = 7, vocabulary: int = 60_000) -> None:
        self.rng = np.random.default_rng(seed)
        syllables = [
            "ka",
            "lo",
            "mi",
            "ne",
            "ru",
            "ta",
            "vi",
            "so",
            "de",
            "pa",
            "gu",
            "ze",
            "ri",
            "no",
            "te",
            "la",
        ]
        words = ["".join(parts) for n in (2, 3, 4) for parts in itertools.product(syllables, repeat=n)]
        self.words = np.array(words)[self.rng.permutation(len(words))[:vocabulary]]
        weights = 1.0 / np.arange(1, vocabulary + 1) ** 1.05
        self.cumulative = np.cumsum(weights / weights.sum())
        self.stop = np.array(sorted(STOPWORDS))

    def _content(self, n: int) -> np.ndarray:
        return self.words[np.searchsorted(self.cumulative, self.rng.random(n))]

    def documents(self, count: int) -> list[tuple[str, str]]:
        lengths = self.rng.integers(70, 140, count)  # content words; plus ~40% stop words
        content = self._content(int(lengths.sum()))
        stop_words = self.stop[self.rng.integers(0, len(self.stop), int(lengths.sum()))]
        use_stop = self.rng.random(int(lengths.sum())) < 0.4
        tokens = np.where(use_stop, stop_words, content)
        titles = self._content(count * 8).reshape(count, 8)
        out: list[tuple[str, str]] = []
        position = 0
        for index, length in enumerate(lengths):
            words = tokens[position : position + length]
            position += length
            out.append((" ".join(titles[index]).capitalize(), " ".join(words).capitalize() + "."))
        return out

    def queries(self, documents: list[tuple[str, str]], count: int) -> list[str]:
        picks = self.rng.integers(0, len(documents), count)
        queries = []
        for pick in picks:
            words = [w for w in documents[pick][1].rstrip(".").lower().split() if w not in STOPWORDS]
            n = int(self.rng.integers(2, 6))
            start = int(self.rng.integers(0, max(1, len(words) - n)))
            queries.append(" ".join(words[start : start + n]))
        return queries


def _write_jsonl(path: Path, documents: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for title, abstract in documents:
            out.write(json.dumps({"title": title, "abstract": abstract}) + "\n")


def _directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def scale_run(size: int, corpus: SyntheticCorpus, workdir: Path, fts: bool, queries_n: int) -> dict[str, Any]:
    from openxiv.literature.importer import import_file
    from openxiv.literature.service import _indexes, get_index, search

    _log(f"[{size:,}] generating synthetic abstracts")
    documents = corpus.documents(size)
    queries = corpus.queries(documents, queries_n)
    source = workdir / f"synthetic-{size}.jsonl"
    _write_jsonl(source, documents)
    del documents
    engine, factory = _database(workdir)
    result: dict[str, Any] = {"records": size, "jsonl_mb": round(source.stat().st_size / 1e6, 1)}

    _log(f"[{size:,}] importing JSONL into SQLite")
    started = time.perf_counter()
    report = import_file(factory, source, fmt="jsonl", batch_size=2000)
    seconds = time.perf_counter() - started
    result["import_s"] = round(seconds, 1)
    result["import_records_per_s"] = round(report.accepted / seconds)
    result["database_mb"] = round((workdir / "bench.db").stat().st_size / 1e6, 1)

    _log(f"[{size:,}] building the BM25 index")
    settings = LiteratureSettings(index_dir=workdir / "index")
    result.update(_build_in_child(engine.url.render_as_string(hide_password=False), settings))
    result["index_disk_mb"] = round(_directory_bytes(workdir / "index") / 1e6, 1)
    rss_before = _rss_mb()
    started = time.perf_counter()
    with factory() as session:
        index = get_index(session, settings)  # opens what the child built
    result["open_s"] = round(time.perf_counter() - started, 2)
    terms = [index.select_terms(tokenize(q), 64) for q in queries]
    for t in terms[:20]:
        index.search(t, K)  # warm the page cache for the memory map
    samples = [_timed(functools.partial(index.search, t, K), 1)[0] for t in terms]
    result["bm25_query"] = _percentiles(samples)
    result["resident_index_mb"] = round(_rss_mb() - rss_before, 0)
    with factory() as session:
        service_samples = [_timed(functools.partial(search, session, settings, q, K), 1)[0] for q in queries]
    result["search_service_query"] = _percentiles(service_samples)

    if fts:
        result["sqlite_fts5"] = _fts5(workdir / "bench.db", queries)
    _indexes.clear()
    engine.dispose()
    return result


def _child_build(database_url: str, index_dir: str, queue: Any) -> None:
    from openxiv.db import make_engine, make_session_factory
    from openxiv.literature.service import get_index

    baseline = _rss_mb()
    engine = make_engine(database_url, pool_size=1)
    started = time.perf_counter()
    with make_session_factory(engine)() as session:
        get_index(session, LiteratureSettings(index_dir=Path(index_dir)))
    seconds = time.perf_counter() - started
    # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's over exec.
    queue.put({"build_s": round(seconds, 1), "build_peak_memory_mb": round(_status_mb("VmHWM") - baseline)})


def _build_in_child(database_url: str, settings: LiteratureSettings) -> dict[str, Any]:
    """Build in a fresh process so that its peak memory is the build's own (a forked child
    would reuse memory the parent had freed and hide part of it)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child_build, args=(database_url, str(settings.index_dir), queue))
    process.start()
    outcome: dict[str, Any] = queue.get()
    process.join()
    return outcome


def _fts5(database: Path, queries: list[str]) -> dict[str, Any]:
    """SQLite's own full-text index with its bm25() ranking, on the same records and queries."""
    connection = sqlite3.connect(database)
    try:
        started = time.perf_counter()
        connection.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(title, abstract, content='literature_records', content_rowid='id')"
        )
        connection.execute(
            "INSERT INTO fts(rowid, title, abstract) SELECT id, title, abstract FROM literature_records"
        )
        connection.commit()
        build = time.perf_counter() - started
        size = connection.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'fts%'").fetchone()[0]
        statement = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 2.0, 1.0) LIMIT 10"

        def run(query: str) -> None:
            words = [w for w in tokenize(query) if w.isalnum()]
            connection.execute(statement, (" OR ".join(f'"{w}"' for w in words),)).fetchall()

        for query in queries[:10]:
            run(query)
        samples = [_timed(functools.partial(run, q), 1)[0] for q in queries]
        return {"build_s": round(build, 1), "index_mb": round((size or 0) / 1e6, 1), **_percentiles(samples)}
    except sqlite3.OperationalError as error:
        return {"error": str(error)}
    finally:
        connection.close()


# ---- 3. the naive baseline ------------------------------------------------------------------


def naive_rescan(documents: list[tuple[str, str]], query: str, k: int = K) -> list[int]:
    """Score every document from scratch for one query: tokenise all, count, BM25, sort."""
    tokenised = [tokenize(f"{t} {t} {a}") for t, a in documents]
    n = len(tokenised)
    avgdl = sum(len(d) for d in tokenised) / max(n, 1)
    terms = set(tokenize(query))
    df = Counter(term for doc in tokenised for term in terms.intersection(doc))
    scores = []
    for position, doc in enumerate(tokenised):
        counts = Counter(doc)
        score = 0.0
        for term in terms:
            tf = counts.get(term, 0)
            if tf:
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                score += idf * tf / (tf + 1.5 * (1 - 0.75 + 0.75 * len(doc) / avgdl))
        scores.append((score, position))
    scores.sort(reverse=True)
    return [position for score, position in scores[:k] if score > 0]


def baseline_run(
    corpus: SyntheticCorpus, workdir: Path, size: int, repeat: int, dense: bool
) -> dict[str, Any]:
    from openxiv.literature.index import Bm25Index

    documents = corpus.documents(size)
    queries = corpus.queries(documents, max(repeat, 50))
    index = Bm25Index(workdir / f"baseline-index-{size}")
    now = utcnow()
    index.build(((i + 1, t, a, now) for i, (t, a) in enumerate(documents)), now)
    terms = [index.select_terms(tokenize(q), 64) for q in queries]
    indexed = _percentiles([_timed(functools.partial(index.search, t, K), 1)[0] for t in terms])
    naive = _percentiles(
        [_timed(functools.partial(naive_rescan, documents, q), 1)[0] for q in queries[:repeat]]
    )
    agree = sum(
        [rid - 1 for rid, _ in index.search(t, K)][:3] == naive_rescan(documents, q)[:3]
        for t, q in zip(terms[:5], queries[:5], strict=True)
    )
    result: dict[str, Any] = {
        "records": size,
        "indexed_bm25": indexed,
        "naive_rescan_bm25": naive,
        "ratio_p50": round(naive["p50_ms"] / max(indexed["p50_ms"], 1e-3)),
        "top3_agreement_of_5_queries": agree,
    }
    if dense:
        try:
            from openxiv.literature.dense import embed, record_text

            sample = [record_text(t, a) for t, a in documents[:256]]
            embed(sample[:16])  # load the model before timing
            started = time.perf_counter()
            embed(sample)
            per_doc = (time.perf_counter() - started) / len(sample)
            result["naive_reembed_per_query_s_extrapolated"] = round(per_doc * size, 1)
            result["reembed_docs_per_s"] = round(1 / per_doc)
        except Exception as error:
            result["naive_reembed_error"] = str(error)
    return result


def run_all(
    sizes: list[int],
    seeds_dir: Path,
    workdir: Path,
    *,
    fts_max: int,
    dense: bool,
    queries: int,
    baseline_size: int,
) -> dict[str, Any]:
    corpus = SyntheticCorpus()
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    _log("known-item retrieval on the seed pages")
    known_dir = workdir / "known-item"
    known_dir.mkdir()
    results["known_item"] = known_item(seeds_dir, known_dir, dense)
    _log(f"naive baseline at {baseline_size:,}")
    base_dir = workdir / "baseline"
    base_dir.mkdir()
    results["baseline"] = baseline_run(corpus, base_dir, baseline_size, 20, dense)
    results["scale"] = []
    for size in sizes:
        run_dir = workdir / f"scale-{size}"
        run_dir.mkdir()
        results["scale"].append(scale_run(size, corpus, run_dir, size <= fts_max, queries))
        shutil.rmtree(run_dir, ignore_errors=True)
        _log(json.dumps(results["scale"][-1]))
    return results


def bench_command(
    sizes: Annotated[str, typer.Option(help="comma-separated corpus sizes")] = "100000,1000000",
    seeds: Annotated[Path, typer.Option(help="folder with the Daily Papers pages")] = Path("../shared/seeds"),
    fts_max: Annotated[int, typer.Option(help="also measure SQLite FTS5 up to this size")] = 100_000,
    dense: Annotated[bool, typer.Option(help="include MiniLM dense retrieval where it fits")] = True,
    queries: Annotated[int, typer.Option(help="queries per size")] = 300,
    baseline_size: Annotated[int, typer.Option(help="corpus size of the naive baseline")] = 10_000,
    out: Annotated[Path | None, typer.Option(help="also write the results as JSON here")] = None,
    workdir: Annotated[Path | None, typer.Option(help="scratch folder (default: a temporary one)")] = None,
) -> None:
    """Literature retrieval: known-item MRR, scale (import, build, disk, memory, p50/p95), naive baseline."""
    try:
        size_list = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
    except ValueError:
        typer.echo(f"error: --sizes must be numbers separated by commas, got {sizes!r}", err=True)
        raise typer.Exit(2) from None
    scratch = Path(tempfile.mkdtemp(prefix="openxiv-bench-", dir=workdir))
    try:
        results = run_all(
            size_list,
            seeds,
            scratch,
            fts_max=fts_max,
            dense=dense,
            queries=queries,
            baseline_size=baseline_size,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = json.dumps(results, indent=2)
    if out:
        out.write_text(text)
    typer.echo(text)
