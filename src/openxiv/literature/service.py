"""Service functions of the literature domain (no web framework here): search, indexing, seeding.

Routers, CLI commands, MCP tools and tasks call these; they take the session and settings.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from openxiv.errors import InvalidInput, NotFound
from openxiv.literature.dense import DenseIndex, DenseUnavailable
from openxiv.literature.formats.jsonl import parse_jsonl
from openxiv.literature.fusion import reciprocal_rank_fusion
from openxiv.literature.importer import import_records
from openxiv.literature.index import Bm25Index, BuildStats
from openxiv.literature.records import RecordIn, Rejection, parse_year, title_key
from openxiv.literature.schemas import ImportReport, SearchHit, SearchResponse
from openxiv.literature.settings import LiteratureSettings
from openxiv.literature.text import best_passage, tokenize
from openxiv.models.base import utcnow
from openxiv.models.literature import LiteratureRecord
from openxiv.models.submissions import Submission, SubmissionVersion

STARTER_CORPUS = "starter_corpus.jsonl"


class InvalidQuery(InvalidInput):
    """The query cannot be searched; the message says why (a 422 problem document)."""


_indexes: dict[tuple[Path, str], Bm25Index] = {}
_dense: dict[Path, DenseIndex] = {}
_registry_lock = threading.Lock()


def _fingerprint(session: Session) -> str:
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def get_index(session: Session, settings: LiteratureSettings) -> Bm25Index:
    """The process-wide index for this database, brought up to date with it."""
    directory = Path(settings.index_dir).resolve()
    key = (directory, _fingerprint(session))
    with _registry_lock:
        index = _indexes.get(key)
        if index is None:
            directory.mkdir(parents=True, exist_ok=True)
            index = Bm25Index(
                directory,
                fingerprint=key[1],
                delta_threshold=settings.delta_rebuild_threshold,
                refresh_interval=settings.index_refresh_interval_s,
            )
            _indexes[key] = index
    index.refresh(session)
    return index


def _cached_index(session: Session, settings: LiteratureSettings) -> Bm25Index:
    """The index as last refreshed (callers that have just refreshed it)."""
    key = (Path(settings.index_dir).resolve(), _fingerprint(session))
    return _indexes.get(key) or get_index(session, settings)


def get_dense_index(session: Session, settings: LiteratureSettings) -> DenseIndex:
    directory = Path(settings.index_dir).resolve() / f"dense-{_fingerprint(session)}"
    with _registry_lock:
        dense = _dense.setdefault(directory, DenseIndex(directory))
    dense.refresh(session)
    return dense


def rebuild_index(session: Session, settings: LiteratureSettings) -> BuildStats:
    """Rebuild the main BM25 segment from every record (after a large import)."""
    index = get_index(session, settings)
    return index.rebuild(session)


def check_query(query: str, settings: LiteratureSettings) -> str:
    text = query.strip() if isinstance(query, str) else ""
    if not text:
        raise InvalidQuery("the query is empty: give a few words, a title or an abstract")
    if len(text) > settings.max_query_chars:
        raise InvalidQuery(
            f"the query is {len(text):,} characters long; the limit is {settings.max_query_chars:,}"
        )
    return text


def ranked_ids(
    session: Session, settings: LiteratureSettings, text: str, k: int, *, dense: bool | None = None
) -> tuple[list[tuple[int, float]], list[str], list[str], str | None]:
    """(record id, score) best first, the retrievers used, the query terms, and a notice if any."""
    index = get_index(session, settings)
    tokens = tokenize(text)
    terms = index.select_terms(tokens, settings.max_query_terms)
    notices: list[str] = []
    if not tokens:
        notices.append("the query has no searchable words (only stop words or punctuation)")
    elif len(dict.fromkeys(tokens)) > settings.max_query_terms and len(terms) == settings.max_query_terms:
        notices.append(f"long query: searched with its {settings.max_query_terms} most specific words")
    use_dense = settings.dense if dense is None else dense
    depth = max(k * 4, 40) if use_dense else k
    bm25 = index.search(terms, depth) if terms else []
    retrievers = ["bm25"]
    ranking = bm25
    if use_dense:
        try:
            dense_hits = get_dense_index(session, settings).search(text, depth)
        except DenseUnavailable as error:
            notices.append(str(error))
        else:
            retrievers.append("dense")
            ranking = reciprocal_rank_fusion(
                [[i for i, _ in bm25], [i for i, _ in dense_hits]], settings.rrf_k
            )
    return ranking[:k], retrievers, terms, ("; ".join(notices) or None)


def search(
    session: Session, settings: LiteratureSettings, query: str, k: int = 10, *, dense: bool | None = None
) -> SearchResponse:
    """Search the local literature index. Raises `InvalidQuery` for empty or oversized queries."""
    text = check_query(query, settings)
    if not 1 <= k <= 100:
        raise InvalidQuery("k must be between 1 and 100")
    ranking, retrievers, terms, notice = ranked_ids(session, settings, text, k, dense=dense)
    index = _cached_index(session, settings)
    records = load_records(session, [rid for rid, _ in ranking])
    hits = [to_hit(records[rid], score, terms, index.idf) for rid, score in ranking if rid in records]
    return SearchResponse(query=text, hits=hits, retrievers=retrievers, notice=notice)


def load_records(session: Session, ids: Sequence[int]) -> dict[int, LiteratureRecord]:
    if not ids:
        return {}
    rows = session.scalars(select(LiteratureRecord).where(LiteratureRecord.id.in_(list(ids))))
    return {row.id: row for row in rows}


def record_ids(record: LiteratureRecord) -> dict[str, str]:
    pairs = {
        "doi": record.doi,
        "arxiv": record.arxiv_id,
        "s2": record.s2_id,
        "openalex": record.openalex_id,
        "openxiv": record.openxiv_id,
    }
    return {name: value for name, value in pairs.items() if value}


def to_hit(record: LiteratureRecord, score: float, terms: list[str], weight: object = None) -> SearchHit:
    body = record.abstract or str((record.extra or {}).get("summary") or "") or record.title
    passage = best_passage(body, terms, weight if callable(weight) else None)
    return SearchHit(
        title=record.title,
        authors=list(record.authors or []),
        year=record.year,
        venue=record.venue,
        ids=record_ids(record),
        url=record.url,
        score=round(score, 6),
        passage=passage,
        source=record.source,
        record_id=record.id,
    )


def index_submission(
    session: Session, submission_id: int, version_number: int | None = None
) -> LiteratureRecord:
    """Add (or update) a published submission of this platform as a literature record.

    Runs as the `index_published_version` job after a version is published (see
    `literature.jobs`); the search index picks the record up on its next refresh. Uses the latest
    version unless `version_number` is given.
    """
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound(f"no submission with id {submission_id}")
    number = version_number or submission.latest_version
    version = session.scalar(
        select(SubmissionVersion).where(
            SubmissionVersion.submission_id == submission_id, SubmissionVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"submission {submission.identifier} has no version v{number}")
    now = utcnow()
    record = session.scalar(select(LiteratureRecord).where(LiteratureRecord.submission_id == submission_id))
    if record is None:
        record = session.scalar(
            select(LiteratureRecord).where(LiteratureRecord.openxiv_id == submission.identifier)
        )
    if record is None:
        record = LiteratureRecord(
            source="openxiv", openxiv_id=submission.identifier, created_at=now, extra={}
        )
        session.add(record)
    record.submission_id = submission_id
    record.title = version.title
    record.title_key = title_key(version.title) or submission.identifier
    record.abstract = version.abstract or ""
    record.authors = [author.name for author in version.authors]
    record.year = parse_year(version.created_at.year)
    record.venue = "OpenXiv"
    record.extra = {**(record.extra or {}), "version": number, "kind": submission.kind}
    record.fetched_at = now
    record.updated_at = now
    session.flush()
    return record


def starter_records() -> list[RecordIn]:
    raw = resources.files("openxiv.literature").joinpath("data", STARTER_CORPUS).read_bytes()
    records: list[RecordIn] = []
    for item in parse_jsonl(raw.splitlines(), source="starter"):
        if isinstance(item, Rejection):
            raise RuntimeError(f"starter corpus is broken at {item.position}: {item.reason}")
        records.append(item)
    return records


def load_starter_corpus(session: Session) -> ImportReport:
    """Add the bibliography shipped with the package (idempotent: a second run finds duplicates)."""
    return import_records(session, starter_records(), source_name="starter corpus")


def count_records(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(LiteratureRecord)) or 0)
