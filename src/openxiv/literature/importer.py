"""Putting parsed records into the database: de-duplication, batches, checkpoints.

Each batch and the checkpoint that says it was done are committed in one transaction, so an
import stopped at any moment resumes exactly after the last committed batch.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openxiv.literature.formats import detect_format, parse_file
from openxiv.literature.records import RecordIn, Rejection, finish
from openxiv.literature.schemas import ImportIssue, ImportReport
from openxiv.models.base import utcnow
from openxiv.models.literature import LiteratureImport, LiteratureRecord

MAX_ISSUES = 500
_ID_FIELDS = ("doi", "arxiv_id", "s2_id", "openalex_id", "openxiv_id")
_ID_LABELS = {"doi": "DOI", "arxiv_id": "arXiv id", "s2_id": "Semantic Scholar id",
              "openalex_id": "OpenAlex id", "openxiv_id": "OpenXiv id"}  # fmt: skip
_FILLABLE = ("abstract", "venue", "year", "url", *_ID_FIELDS)

Progress = Callable[[int], None]


@dataclass
class Outcome:
    kind: str  # accepted | duplicate | rejected
    position: str
    reason: str = ""
    record: LiteratureRecord | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _years_compatible(a: int | None, b: int | None) -> bool:
    # A preprint and its conference version are often a year apart; further apart is another paper.
    return a is None or b is None or abs(a - b) <= 1


class _Target:
    """Something a candidate can be a duplicate of: a stored row or a row of this batch."""

    def __init__(self, values: dict[str, Any], row: LiteratureRecord | None, label: str) -> None:
        self.values = values
        self.row = row
        self.label = label


def _row_values(row: LiteratureRecord) -> dict[str, Any]:
    return {name: getattr(row, name) for name in (*_FILLABLE, "title_key", "authors")}


def upsert_batch(
    session: Session, batch: list[tuple[str, RecordIn]], now: datetime | None = None
) -> list[Outcome]:
    """Insert the new records of `batch`, merge missing fields into the ones already known.

    Does not commit. Duplicates are found by any shared id, else by the folded title with a
    compatible year; a duplicate fills the empty fields of the record it matches.
    """
    now = now or utcnow()
    outcomes: list[Outcome] = []
    cleaned: list[tuple[str, RecordIn]] = []
    for position, candidate in batch:
        result = finish(candidate)
        if isinstance(result, str):
            outcomes.append(Outcome("rejected", position, result))
        else:
            cleaned.append((position, result))

    by_id: dict[tuple[str, str], _Target] = {}
    by_title: dict[str, list[_Target]] = {}

    def remember(target: _Target) -> None:
        for name in _ID_FIELDS:
            value = target.values.get(name)
            if value:
                by_id[(name, value)] = target
        by_title.setdefault(target.values["title_key"], []).append(target)

    wanted: dict[str, set[str]] = {name: set() for name in (*_ID_FIELDS, "title_key")}
    for _, record in cleaned:
        for name in _ID_FIELDS:
            value = getattr(record, name)
            if value:
                wanted[name].add(value)
        wanted["title_key"].add(record.title_key)
    seen_rows: set[int] = set()
    for name, keys in wanted.items():
        if not keys:
            continue
        column = getattr(LiteratureRecord, name)
        for row in session.scalars(select(LiteratureRecord).where(column.in_(sorted(keys)))):
            if row.id not in seen_rows:
                seen_rows.add(row.id)
                remember(_Target(_row_values(row), row, f"record #{row.id}"))

    new_rows: list[dict[str, Any]] = []
    for position, record in cleaned:
        target, reason = _match(record, by_id, by_title)
        if target is not None:
            _merge(target, record, by_id, now)
            outcomes.append(Outcome("duplicate", position, f"{reason} as {target.label}", target.row))
            continue
        values = {
            "title": record.title,
            "title_key": record.title_key,
            "abstract": record.abstract,
            "authors": record.authors,
            "year": record.year,
            "venue": record.venue,
            "url": record.url,
            "source": record.source,
            "extra": record.extra,
            "fetched_at": record.fetched_at or now,
            "created_at": now,
            "updated_at": now,
            **{name: getattr(record, name) for name in _ID_FIELDS},
        }
        new_rows.append(values)
        remember(_Target(values, None, f"{position} of this import"))
        outcomes.append(Outcome("accepted", position))
    if new_rows:
        _insert_rows(session, new_rows, now)
    session.flush()
    return outcomes


_COLUMNS = [column for column in LiteratureRecord.__table__.columns if column.name != "id"]
_compiled: dict[str, tuple[str, list[str], dict[str, Any]]] = {}


def _insert_statement(dialect: Dialect) -> tuple[str, list[str], dict[str, Any]]:
    """The INSERT for this dialect, its parameter order, and each column's bind processor."""
    cached = _compiled.get(dialect.name)
    if cached is None:
        names = [column.name for column in _COLUMNS]
        compiled = insert(cast(Table, LiteratureRecord.__table__)).compile(dialect=dialect, column_keys=names)
        order = list(compiled.positiontup) if compiled.positional and compiled.positiontup else names
        processors = {
            column.name: column.type.dialect_impl(dialect).bind_processor(dialect) for column in _COLUMNS
        }
        cached = (str(compiled), order, processors)
        _compiled[dialect.name] = cached
    return cached


def _insert_rows(session: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    """executemany straight on the driver: the ORM and Core paths cost several times more per row
    than parsing does, which made them the bottleneck of large imports. Type conversion still
    goes through each column's own bind processor; the shared timestamp is converted once."""
    connection = session.connection()
    dialect = connection.dialect
    sql, order, processors = _insert_statement(dialect)
    converted_now = {
        name: (processors[name](now) if processors[name] else now)
        for name in ("created_at", "updated_at", "fetched_at")
    }
    positional = dialect.positional
    params: list[Any] = []
    for row in rows:
        values: dict[str, Any] = {}
        for name in order:
            value = row.get(name)
            if value is now and name in converted_now:
                values[name] = converted_now[name]
            else:
                processor = processors[name]
                values[name] = processor(value) if processor is not None and value is not None else value
        params.append(tuple(values[name] for name in order) if positional else values)
    connection.exec_driver_sql(sql, params)


def _match(
    record: RecordIn, by_id: dict[tuple[str, str], _Target], by_title: dict[str, list[_Target]]
) -> tuple[_Target | None, str]:
    for name in _ID_FIELDS:
        value = getattr(record, name)
        if value and (name, value) in by_id:
            return by_id[(name, value)], f"same {_ID_LABELS[name]} {value}"
    for target in by_title.get(record.title_key, []):
        if not _years_compatible(record.year, target.values.get("year")):
            continue
        # Two different ids of one kind mean two different papers that share a title.
        if any(
            getattr(record, name) and target.values.get(name) and getattr(record, name) != target.values[name]
            for name in ("doi", "arxiv_id")
        ):
            continue
        return target, "same title"
    return None, ""


def _merge(target: _Target, record: RecordIn, by_id: dict[tuple[str, str], _Target], now: datetime) -> None:
    changes: dict[str, Any] = {}
    for name in _FILLABLE:
        value = getattr(record, name)
        if not value or target.values.get(name):
            continue
        if name in _ID_FIELDS and (name, value) in by_id:
            continue  # that id already belongs to another record: keep them apart
        changes[name] = value
    if record.authors and not target.values.get("authors"):
        changes["authors"] = record.authors
    if not changes:
        return
    target.values.update(changes)
    for name in _ID_FIELDS:
        if name in changes:
            by_id[(name, changes[name])] = target
    if target.row is not None:
        for name, value in changes.items():
            setattr(target.row, name, value)
        target.row.updated_at = now


def _batches(
    items: Iterable[tuple[str, RecordIn | Rejection]], size: int
) -> Iterator[list[tuple[str, RecordIn | Rejection]]]:
    batch: list[tuple[str, RecordIn | Rejection]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply(
    session: Session, batch: list[tuple[str, RecordIn | Rejection]]
) -> tuple[list[Outcome], list[ImportIssue]]:
    records = [(pos, item) for pos, item in batch if isinstance(item, RecordIn)]
    outcomes = [
        Outcome("rejected", item.position, item.reason) for _, item in batch if isinstance(item, Rejection)
    ]
    notes = [
        ImportIssue(position=pos, kind="note", reason=str(item.extra["import_note"]))
        for pos, item in records
        if "import_note" in item.extra
    ]
    outcomes += upsert_batch(session, records)
    return outcomes, notes


def import_file(
    session_factory: sessionmaker[Session],
    path: Path,
    *,
    fmt: str | None = None,
    source_name: str | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    restart: bool = False,
) -> ImportReport:
    """Import one file; call again with the same file to resume an interrupted import."""
    started = time.perf_counter()
    fmt = fmt or detect_format(path)
    key = file_sha256(path)
    name = source_name or str(path)
    with session_factory() as session, session.begin():
        run = session.scalar(select(LiteratureImport).where(LiteratureImport.source_key == key))
        if run is None:
            run = LiteratureImport(source_key=key, source_name=name, format=fmt, state="running", issues=[])
            session.add(run)
        elif restart:
            run.state, run.position, run.accepted, run.duplicate, run.rejected, run.issues = (
                "running",
                0,
                0,
                0,
                0,
                [],
            )
        session.flush()
        run_id, done, state = run.id, run.position, run.state
    report = ImportReport(source=name, format=fmt, resumed_from=done)
    if state == "completed":
        report.already_imported = True
        return _fill_report(session_factory, run_id, report, started)

    def numbered() -> Iterator[tuple[str, RecordIn | Rejection]]:
        for index, item in enumerate(parse_file(path, fmt), start=1):
            if index <= done:
                continue
            yield (item.position or f"item {index}", item)

    handled = done
    for batch in _batches(numbered(), batch_size):
        _outcomes, notes = _commit_batch(session_factory, run_id, batch)
        handled += len(batch)
        report.notes += len(notes)
        if progress:
            progress(handled)
    with session_factory() as session, session.begin():
        run = session.get_one(LiteratureImport, run_id)
        run.state = "completed"
        run.finished_at = utcnow()
    return _fill_report(session_factory, run_id, report, started)


def _commit_batch(
    session_factory: sessionmaker[Session], run_id: int, batch: list[tuple[str, RecordIn | Rejection]]
) -> tuple[list[Outcome], list[ImportIssue]]:
    for attempt in range(2):
        try:
            with session_factory() as session, session.begin():
                outcomes, notes = _apply(session, batch)
                run = session.get_one(LiteratureImport, run_id)
                run.position += len(batch)
                run.accepted += sum(o.kind == "accepted" for o in outcomes)
                run.duplicate += sum(o.kind == "duplicate" for o in outcomes)
                run.rejected += sum(o.kind == "rejected" for o in outcomes)
                room = MAX_ISSUES - len(run.issues)
                if room > 0:
                    issues = [
                        {"position": o.position, "kind": o.kind, "reason": o.reason}
                        for o in outcomes
                        if o.kind != "accepted"
                    ] + [issue.model_dump() for issue in notes]
                    run.issues = [*run.issues, *issues[:room]]
            return outcomes, notes
        except IntegrityError:
            # Another writer stored one of these records between our look-up and our insert:
            # the retry sees it and counts it as a duplicate.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def _fill_report(
    session_factory: sessionmaker[Session], run_id: int, report: ImportReport, started: float
) -> ImportReport:
    with session_factory() as session:
        run = session.get_one(LiteratureImport, run_id)
        report.accepted, report.duplicate, report.rejected = run.accepted, run.duplicate, run.rejected
        report.issues = [ImportIssue(**issue) for issue in run.issues]
        report.notes = sum(issue.kind == "note" for issue in report.issues)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def import_records(
    session: Session, records: Iterable[RecordIn], source_name: str = "records"
) -> ImportReport:
    """Add records from code (connectors, the starter corpus) in the caller's transaction."""
    report = ImportReport(source=source_name, format="records")
    batch = [(f"record {index}", record) for index, record in enumerate(records, start=1)]
    for start in range(0, len(batch), 1000):
        for outcome in upsert_batch(session, batch[start : start + 1000]):
            setattr(report, outcome.kind, getattr(report, outcome.kind) + 1)
            if outcome.kind != "accepted" and len(report.issues) < MAX_ISSUES:
                kind = cast(Literal["duplicate", "rejected"], outcome.kind)
                report.issues.append(ImportIssue(position=outcome.position, kind=kind, reason=outcome.reason))
    return report


def estimate_items(path: Path, fmt: str) -> int | None:
    """A cheap count of the items in a file, for a progress bar's total."""
    markers = {"jsonl": b"\n", "xml": None, "bibtex": b"\n@"}
    if fmt not in markers:
        return None
    count = 0
    with path.open("rb") as handle:
        # Markers split across two blocks are missed: the total is an estimate.
        for block in iter(lambda: handle.read(1 << 20), b""):
            if fmt == "xml":
                count += block.count(b"<entry") + block.count(b"<record>") + block.count(b"<record ")
            else:
                count += block.count(markers[fmt] or b"\n")
    return count + 1
