"""The BM25 index: a main segment built and persisted by `bm25s`, and a small in-memory delta.

bm25s stores precomputed per-(document, term) scores, which makes queries fast but cannot take
new documents without a rebuild. Records added or changed since the main segment was built
(found by `updated_at`) are held in a delta segment and scored at query time with the same
Lucene BM25 formula, using the document frequencies of both segments; the main-segment copy of a
changed record is hidden. When the delta grows past a threshold, the main segment is rebuilt in
a new directory (in a background thread while searches go on) and swapped in atomically: a
manifest names the current generation.

Change detection: new records have ids above the newest id seen; changed records have an
`updated_at` later than their `created_at` and than the last refresh (minus a look-back for
transactions that commit late), and different from the one the main segment was built with.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import bm25s
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openxiv.literature.text import tokenize
from openxiv.models.base import utcnow
from openxiv.models.literature import LiteratureRecord

K1 = 1.5
B = 0.75
# Transactions that commit late carry an `updated_at` slightly in the past; looking back this far
# when refreshing catches them (rows seen already are skipped).
LOOKBACK = timedelta(seconds=30)
# Ids are handed out before commit on PostgreSQL, so a smaller id can become visible after a
# larger one; re-reading the last few ids catches those.
ID_LOOKBACK = 1000
# Below this many postings a query is scored by one pass over all of them; above, common words
# are only looked up for the documents that contain a rarer query word (see _search_main_pruned).
FULL_SCAN_POSTINGS = 200_000
# How many best-scoring documents per term the threshold algorithm keeps (see _search_main_by_impact).
IMPACT_DEPTH = 1000


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def document_tokens(title: str, abstract: str) -> list[str]:
    # The title counts twice: it is the densest description of a paper, and known-item searches
    # (someone pasting a title) should find the paper first.
    title_tokens = tokenize(title)
    return title_tokens + title_tokens + tokenize(abstract)


@dataclass
class BuildStats:
    documents: int
    seconds: float
    disk_bytes: int
    vocabulary: int


@dataclass
class _Delta:
    tokens: dict[int, Counter[str]]
    lengths: dict[int, int]
    seen: dict[int, datetime]


class _Segment:
    """The persisted bm25s segment plus what we need beside it (record ids, document frequencies)."""

    def __init__(self, directory: Path) -> None:
        self.retriever = bm25s.BM25.load(str(directory), mmap=True, load_corpus=False)
        self.record_ids: np.ndarray = np.load(directory / "record_ids.npy")
        self.updated_us: np.ndarray = np.load(directory / "updated_us.npy")
        meta = json.loads((directory / "segment.json").read_text())
        self.avgdl: float = meta["avgdl"]
        self.vocab: dict[str, int] = self.retriever.vocab_dict
        indptr = np.asarray(self.retriever.scores["indptr"])
        self.df: np.ndarray = np.diff(indptr)
        self.indptr = indptr

    @property
    def size(self) -> int:
        return len(self.record_ids)

    @property
    def max_id(self) -> int:
        return int(self.record_ids[-1]) if len(self.record_ids) else 0

    def holds(self, record_id: int, updated: datetime) -> bool:
        """Is this version of the record the one in the segment?"""
        position = self.position_of(record_id)
        return position is not None and int(self.updated_us[position]) == _micros(updated)

    def position_of(self, record_id: int) -> int | None:
        index = int(np.searchsorted(self.record_ids, record_id))
        if index < len(self.record_ids) and int(self.record_ids[index]) == record_id:
            return index
        return None


class Bm25Index:
    """One index directory. Thread-safe; one instance per directory per process is enough."""

    def __init__(
        self,
        directory: Path,
        *,
        fingerprint: str = "",
        delta_threshold: int = 5000,
        refresh_interval: float = 0.0,
    ) -> None:
        self.directory = directory
        self.refresh_interval = refresh_interval
        self._refreshed_at = -math.inf
        self.fingerprint = fingerprint
        self.delta_threshold = delta_threshold
        self._lock = threading.RLock()
        self._segment: _Segment | None = None
        self._generation: str | None = None
        self._watermark: datetime | None = None
        self._delta = _Delta({}, {}, {})
        self._hidden: np.ndarray | None = None
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
        self._delta_ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self._delta_lengths: np.ndarray = np.zeros(0)
        self._size = 0
        self._term_max: dict[int, float] = {}
        self._impacts: dict[int, tuple[np.ndarray, float]] = {}
        self._last_refresh: datetime | None = None
        self._rebuilding: threading.Thread | None = None
        self._load_manifest()

    # ---- persistence -------------------------------------------------------------------------

    def _manifest_path(self) -> Path:
        return self.directory / "manifest.json"

    def _load_manifest(self) -> None:
        path = self._manifest_path()
        if not path.is_file():
            return
        manifest = json.loads(path.read_text())
        if manifest.get("fingerprint", "") != self.fingerprint:
            return  # built from another database: ignore it, the next refresh rebuilds
        if manifest["generation"] == self._generation:
            return
        generation_dir = self.directory / manifest["generation"]
        self._segment = _Segment(generation_dir) if manifest["documents"] else None
        self._generation = manifest["generation"]
        self._term_max = {}
        self._impacts = {}
        self._watermark = datetime.fromisoformat(manifest["watermark"])
        self._last_refresh = None
        self._delta = _Delta({}, {}, {})
        self._invalidate_delta()

    def build(self, rows: Iterable[tuple[int, str, str, datetime]], watermark: datetime) -> BuildStats:
        """Build a new main segment from (id, title, abstract, updated_at) rows in ascending id order."""
        started = time.perf_counter()
        vocab: dict[str, int] = {}
        corpus_ids: list[list[int]] = []
        record_ids: list[int] = []
        updated: list[int] = []
        for record_id, title, abstract, updated_at in rows:
            tokens = document_tokens(title, abstract)
            corpus_ids.append([vocab.setdefault(token, len(vocab)) for token in tokens])
            record_ids.append(record_id)
            updated.append(_micros(updated_at))
        generation = f"gen-{time.time_ns()}"
        target = self.directory / generation
        target.mkdir(parents=True, exist_ok=True)
        if record_ids:
            retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
            retriever.index((corpus_ids, vocab), show_progress=False)
            retriever.save(str(target), show_progress=False)
            lengths = np.fromiter((len(doc) for doc in corpus_ids), dtype=np.int64, count=len(corpus_ids))
            avgdl = float(lengths.mean()) if len(lengths) else 1.0
            np.save(target / "record_ids.npy", np.asarray(record_ids, dtype=np.int64))
            np.save(target / "updated_us.npy", np.asarray(updated, dtype=np.int64))
            (target / "segment.json").write_text(json.dumps({"avgdl": avgdl, "documents": len(record_ids)}))
        del corpus_ids
        manifest = {
            "generation": generation,
            "documents": len(record_ids),
            "watermark": watermark.isoformat(),
            "fingerprint": self.fingerprint,
            "built_at": datetime.now(watermark.tzinfo).isoformat(),
        }
        temporary = self.directory / f"manifest.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(manifest))
        with self._lock:
            previous = self._generation
            os.replace(temporary, self._manifest_path())
            self._generation = None
            self._load_manifest()
        if previous and previous != generation:
            # Open memory maps of the old files stay valid after unlinking on POSIX.
            shutil.rmtree(self.directory / previous, ignore_errors=True)
        disk = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
        return BuildStats(len(record_ids), time.perf_counter() - started, disk, len(vocab))

    def rebuild(self, session: Session) -> BuildStats:
        return self.build(_stream_rows(session), utcnow() - LOOKBACK)

    def _rebuild_in_background(self, session: Session) -> None:
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return
        bind = session.get_bind()

        def work() -> None:
            with Session(bind=bind) as own:
                self.rebuild(own)

        self._rebuilding = threading.Thread(target=work, name="literature-index-rebuild", daemon=True)
        self._rebuilding.start()

    def wait_for_rebuild(self, timeout: float | None = None) -> None:
        if self._rebuilding is not None:
            self._rebuilding.join(timeout)

    # ---- incremental updates -----------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._generation is not None

    @property
    def size(self) -> int:
        return self._size

    def refresh(self, session: Session) -> None:
        """Bring the index up to date with the database (two indexed look-ups when nothing changed)."""
        with self._lock:
            self._load_manifest()
            if not self.ready:
                self.rebuild(session)
                return
            if time.monotonic() - self._refreshed_at < self.refresh_interval:
                return
            self._refreshed_at = time.monotonic()
            assert self._watermark is not None
            now = utcnow()
            main_max = self._segment.max_id if self._segment else 0
            newest_delta = max(self._delta.tokens, default=0)
            floor = max(main_max, newest_delta - ID_LOOKBACK)
            since = (self._last_refresh or self._watermark) - LOOKBACK
            record = LiteratureRecord
            # ORDER BY id steers SQLite to the primary key instead of skip-scanning (updated_at, id).
            newer = select(record.id, record.updated_at).where(record.id > floor).order_by(record.id)
            rows = list(session.execute(newer).all())
            # Inserts are found by id above; here only rows changed after they were inserted.
            rows += list(
                session.execute(
                    select(record.id, record.updated_at).where(
                        record.updated_at > since, record.updated_at > record.created_at
                    )
                ).all()
            )
            self._last_refresh = now
            fresh = [
                rid
                for rid, updated in rows
                if self._delta.seen.get(rid) != updated
                and not (self._segment is not None and self._segment.holds(rid, updated))
            ]
            if not fresh:
                return
            main_size = self._segment.size if self._segment else 0
            limit = max(self.delta_threshold, min(main_size // 10, 50_000))
            if len(self._delta.seen) + len(fresh) > limit:
                if self._segment is None or main_size < 100_000:
                    self.rebuild(session)
                    return
                self._rebuild_in_background(session)  # meanwhile, the delta serves the new records
            for start in range(0, len(fresh), 1000):
                chunk = fresh[start : start + 1000]
                query = select(record.id, record.title, record.abstract, record.updated_at).where(
                    record.id.in_(chunk)
                )
                for rid, title, abstract, updated in session.execute(query):
                    tokens = document_tokens(title, abstract)
                    self._delta.tokens[rid] = Counter(tokens)
                    self._delta.lengths[rid] = len(tokens)
                    self._delta.seen[rid] = updated
            self._invalidate_delta()

    def _main_position(self, record_id: int) -> int | None:
        return self._segment.position_of(record_id) if self._segment else None

    def _invalidate_delta(self) -> None:
        self._postings = None
        main = self._segment.size if self._segment else 0
        self._size = main + sum(1 for rid in self._delta.tokens if self._main_position(rid) is None)
        if self._segment is not None:
            hidden = np.zeros(self._segment.size, dtype=bool)
            for rid in self._delta.tokens:
                position = self._segment.position_of(rid)
                if position is not None:
                    hidden[position] = True
            self._hidden = hidden if hidden.any() else None
        else:
            self._hidden = None

    def _delta_postings(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if self._postings is None:
            ids = sorted(self._delta.tokens)
            self._delta_ids = np.asarray(ids, dtype=np.int64)
            self._delta_lengths = np.asarray([self._delta.lengths[rid] for rid in ids], dtype=np.float64)
            gathered: dict[str, tuple[list[int], list[int]]] = {}
            for position, rid in enumerate(ids):
                for term, count in self._delta.tokens[rid].items():
                    docs, tfs = gathered.setdefault(term, ([], []))
                    docs.append(position)
                    tfs.append(count)
            self._postings = {
                term: (np.asarray(docs, dtype=np.int64), np.asarray(tfs, dtype=np.float64))
                for term, (docs, tfs) in gathered.items()
            }
        return self._postings

    # ---- queries -----------------------------------------------------------------------------

    def document_frequency(self, term: str) -> int:
        df = 0
        if self._segment is not None and term in self._segment.vocab:
            df += int(self._segment.df[self._segment.vocab[term]])
        postings = self._delta_postings().get(term)
        if postings is not None:
            df += len(postings[0])
        return df

    def idf(self, term: str) -> float:
        n = max(self.size, 1)
        df = self.document_frequency(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def select_terms(self, tokens: list[str], limit: int) -> list[str]:
        """The distinct query terms the index knows, the rarest first when there are too many."""
        unique = [t for t in dict.fromkeys(tokens) if self.document_frequency(t) > 0]
        if len(unique) <= limit:
            return unique
        return sorted(unique, key=self.document_frequency)[:limit]

    def search(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """Top-k (record id, BM25 score) for already tokenised, distinct query terms."""
        with self._lock:
            results: list[tuple[int, float]] = []
            if self._segment is not None:
                results += self._search_main(terms, k)
            if self._delta.tokens:
                results += self._search_delta(terms, k)
        results.sort(key=lambda pair: (-pair[1], pair[0]))
        return results[:k]

    def _search_main(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        segment = self._segment
        assert segment is not None
        token_ids = sorted(
            {segment.vocab[t] for t in terms if t in segment.vocab}, key=lambda t: segment.df[t]
        )
        if not token_ids:
            return []
        total = sum(int(segment.df[t]) for t in token_ids)
        if total > FULL_SCAN_POSTINGS:
            pruned = self._search_main_pruned(token_ids, k)
            if pruned is None and k <= IMPACT_DEPTH // 4:
                pruned = self._search_main_by_impact(token_ids, k)
            if pruned is not None:
                return pruned
        data, indices, indptr = (
            segment.retriever.scores["data"],
            segment.retriever.scores["indices"],
            segment.indptr,
        )
        slices = [(int(indptr[t]), int(indptr[t + 1])) for t in token_ids]
        docs = np.concatenate([np.asarray(indices[s:e]) for s, e in slices])
        weights = np.concatenate([np.asarray(data[s:e], dtype=np.float64) for s, e in slices])
        scores = np.bincount(docs, weights=weights, minlength=segment.size)
        if self._hidden is not None:
            scores[self._hidden] = 0.0
        return _top(scores, segment.record_ids, k)

    def _search_main_pruned(self, token_ids: list[int], k: int) -> list[tuple[int, float]] | None:
        """Exact top-k without summing the long posting lists of common words (MaxScore).

        Terms are taken from the rarest. The documents of the terms taken so far are the
        candidates, scored in full (the other terms looked up by binary search). A document
        outside the candidates contains none of those terms, so it scores at most the sum of the
        remaining terms' largest scores: once the k-th candidate beats that bound, the top k is
        final. Returns None when the candidates grow so large that one full pass is cheaper.
        """
        segment = self._segment
        assert segment is not None
        lists = [_postings(segment, t) for t in token_ids]
        bounds = [self._max_score(t) for t in token_ids]
        candidates = np.zeros(0, dtype=np.int64)
        scores = np.zeros(0, dtype=np.float64)
        for step, (postings, _values) in enumerate(lists):
            new = postings if step == 0 else postings[~np.isin(postings, candidates, assume_unique=True)]
            if len(new):
                new_scores = np.zeros(len(new), dtype=np.float64)
                for other_postings, other_values in lists:
                    _add_term_scores(new_scores, new, other_postings, other_values)
                candidates = np.concatenate([candidates, new])
                scores = np.concatenate([scores, new_scores])
            if self._hidden is not None:
                scores[self._hidden[candidates]] = 0.0
            if len(candidates) > segment.size // 4 and step + 1 < len(lists):
                return None
            remaining = sum(bounds[step + 1 :])
            if remaining == 0.0:
                break
            if len(candidates) >= k and _kth_largest(scores, k) > remaining:
                break
        return _top(scores, segment.record_ids[candidates], k)

    def _search_main_by_impact(self, token_ids: list[int], k: int) -> list[tuple[int, float]] | None:
        """Exact top-k for queries made only of common words (Fagin's threshold algorithm).

        Each term keeps its IMPACT_DEPTH best-scoring documents. A document in none of these
        lists scores at most the sum of each term's IMPACT_DEPTH-th best score; if the k-th best
        candidate (scored in full) beats that, the top k is final. Otherwise None.
        """
        segment = self._segment
        assert segment is not None
        impacts = [self._impact(t) for t in token_ids]
        bound = sum(floor for _, floor in impacts)
        candidates = np.unique(np.concatenate([docs for docs, _ in impacts]))
        scores = np.zeros(len(candidates), dtype=np.float64)
        for term in token_ids:
            _add_term_scores(scores, candidates, *_postings(segment, term))
        if self._hidden is not None:
            scores[self._hidden[candidates]] = 0.0
        if _kth_largest(scores, k) <= bound:
            return None
        return _top(scores, segment.record_ids[candidates], k)

    def _impact(self, term: int) -> tuple[np.ndarray, float]:
        """The term's best-scoring documents and the lowest score among them (cached)."""
        cached = self._impacts.get(term)
        if cached is None:
            segment = self._segment
            assert segment is not None
            postings, values = _postings(segment, term)
            if len(values) <= IMPACT_DEPTH:
                cached = (postings, 0.0)
            else:
                best = np.argpartition(-values, IMPACT_DEPTH - 1)[:IMPACT_DEPTH]
                cached = (postings[best], float(values[best].min()))
            if len(self._impacts) >= 4096:
                self._impacts.pop(next(iter(self._impacts)))
            self._impacts[term] = cached
        return cached

    def _max_score(self, term: int) -> float:
        cached = self._term_max.get(term)
        if cached is None:
            segment = self._segment
            assert segment is not None
            data, indptr = segment.retriever.scores["data"], segment.indptr
            cached = float(np.max(data[indptr[term] : indptr[term + 1]], initial=0.0))
            self._term_max[term] = cached
        return cached

    def _search_delta(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        postings = self._delta_postings()
        n = max(self.size, 1)
        avgdl = self._segment.avgdl if self._segment is not None else float(self._delta_lengths.mean())
        norm = K1 * (1 - B + B * self._delta_lengths / max(avgdl, 1e-9))
        scores = np.zeros(len(self._delta_ids))
        for term in terms:
            entry = postings.get(term)
            if entry is None:
                continue
            docs, tf = entry
            df = self.document_frequency(term)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            scores[docs] += idf * tf / (tf + norm[docs])
        return _top(scores, self._delta_ids, k)


def _postings(segment: _Segment, term: int) -> tuple[np.ndarray, np.ndarray]:
    """The main segment's documents holding `term` (sorted) and the term's score in each."""
    start, end = segment.indptr[term], segment.indptr[term + 1]
    matrix = segment.retriever.scores
    return np.asarray(matrix["indices"][start:end]), np.asarray(matrix["data"][start:end])


def _add_term_scores(scores: np.ndarray, docs: np.ndarray, postings: np.ndarray, values: np.ndarray) -> None:
    """Add a term's score to `scores[i]` for each `docs[i]` in its sorted `postings`."""
    at = np.searchsorted(postings, docs)
    inside = at < len(postings)
    found = np.zeros(len(docs), dtype=bool)
    found[inside] = postings[at[inside]] == docs[inside]
    scores[found] += values[at[found]]


def _top(scores: np.ndarray, ids: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best (id, score), ties broken by the smaller id so that every path agrees."""
    # Selecting among the positive scores only: partitioning an array full of equal zeros is
    # numpy's slow case (tens of milliseconds at a million documents).
    positive = np.flatnonzero(scores > 0)
    values = scores[positive]
    if len(values) > k:
        threshold = _kth_largest(values, k)
        keep = values >= threshold
        positive, values = positive[keep], values[keep]
    ordered = np.lexsort((ids[positive], -values))[:k]
    return [(int(ids[positive[i]]), float(values[i])) for i in ordered]


def _kth_largest(values: np.ndarray, k: int) -> float:
    """The k-th largest of the positive entries of `values` (0.0 when there are fewer than k)."""
    positive = values[values > 0]
    if len(positive) < k:
        return 0.0
    return float(np.partition(positive, len(positive) - k)[len(positive) - k])


STREAM_CHUNK = 10_000


def _stream_rows(session: Session) -> Iterator[tuple[int, str, str, datetime]]:
    """Every record in id order, 10,000 at a time by key, so memory stays bounded without a
    server-side cursor: a reader on PostgreSQL runs outside a transaction (db.py), where no
    cursor can be declared."""
    record = LiteratureRecord
    last_id = 0
    while True:
        rows = session.execute(
            select(record.id, record.title, record.abstract, record.updated_at)
            .where(record.id > last_id)
            .order_by(record.id)
            .limit(STREAM_CHUNK)
        ).all()
        yield from rows
        if len(rows) < STREAM_CHUNK:
            return
        last_id = rows[-1][0]
