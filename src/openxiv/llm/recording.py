"""Call recorders: one interface, several sinks.

Every model call made through `LLMClient` is handed to a `CallRecorder`. The same object answers
`find(request_hash)`, which is what the replay adapter uses. Sinks:

- `JsonlRecorder(path)`: a JSON-lines file, for the CLI and the evaluation harness (no database);
- `SessionRecorder(session)`: rows of `llm_calls` written through the caller's session, so the
  records commit (or roll back) together with the review they belong to;
- `DatabaseRecorder(session_factory)`: rows of `llm_calls`, each in its own transaction;
- `MemoryRecorder()`: a list in memory (tests, benchmarks).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from openxiv.llm.port import CallRecord
from openxiv.models.llm import LLMCall


class CallLookup(Protocol):
    def find(self, request_hash: str, run_id: str | None = None) -> CallRecord | None:
        """The latest successful call with this request hash (from `run_id` when it has one)."""


class CallRecorder(CallLookup, Protocol):
    def record(self, record: CallRecord) -> None: ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _pick(records: Iterable[CallRecord], run_id: str | None) -> CallRecord | None:
    ok = [r for r in records if r.status == "ok" and r.response is not None]
    if run_id is not None:
        same_run = [r for r in ok if r.run_id == run_id]
        ok = same_run or ok
    return ok[-1] if ok else None


class NullRecorder:
    """Records nothing (only for throw-away calls; the product always records)."""

    def record(self, record: CallRecord) -> None:
        return None

    def find(self, request_hash: str, run_id: str | None = None) -> CallRecord | None:
        return None


class MemoryRecorder:
    def __init__(self, records: Iterable[CallRecord] = ()) -> None:
        self.records: list[CallRecord] = list(records)
        self._lock = threading.Lock()

    def record(self, record: CallRecord) -> None:
        with self._lock:
            self.records.append(record)

    def find(self, request_hash: str, run_id: str | None = None) -> CallRecord | None:
        with self._lock:
            return _pick((r for r in self.records if r.request_hash == request_hash), run_id)

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(list(self.records))

    def __len__(self) -> int:
        return len(self.records)

    def __bool__(self) -> bool:
        return True  # an empty recorder is still a recorder


class JsonlRecorder:
    """Appends one JSON object per call to a file; safe to share between threads of one process."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._index: dict[str, list[CallRecord]] | None = None

    def record(self, record: CallRecord) -> None:
        line = json.dumps(record.to_json(), ensure_ascii=False, sort_keys=True)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            if self._index is not None:
                self._index.setdefault(record.request_hash, []).append(record)

    def find(self, request_hash: str, run_id: str | None = None) -> CallRecord | None:
        with self._lock:
            if self._index is None:
                self._index = {}
                for record in self._read():
                    self._index.setdefault(record.request_hash, []).append(record)
            return _pick(self._index.get(request_hash, []), run_id)

    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._read())

    def _read(self) -> Iterator[CallRecord]:
        if not self.path.is_file():
            return
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield CallRecord.from_json(json.loads(line))
                except (json.JSONDecodeError, TypeError) as error:
                    raise ValueError(f"{self.path}:{number}: not a call record ({error})") from error


def call_row(record: CallRecord) -> LLMCall:
    return LLMCall(
        request_hash=record.request_hash,
        run_id=record.run_id,
        purpose=record.purpose[:64],
        model_alias=record.alias,
        provider=record.provider,
        model=record.model,
        request=record.request,
        response=record.response,
        status=record.status,
        error=record.error,
        valid=record.valid,
        validation_error=record.validation_error,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cost_usd=record.cost_usd,
        latency_ms=record.latency_ms,
        attempt=record.attempt,
        submission_id=record.submission_id,
        version_id=record.version_id,
        review_id=record.review_id,
    )


def record_from_row(row: LLMCall) -> CallRecord:
    return CallRecord(
        request_hash=row.request_hash,
        alias=row.model_alias,
        provider=row.provider,
        model=row.model,
        request=row.request,
        response=row.response,
        status="ok" if row.status == "ok" else "error",
        error=row.error,
        valid=row.valid,
        validation_error=row.validation_error,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=row.cost_usd,
        latency_ms=row.latency_ms,
        attempt=row.attempt,
        purpose=row.purpose,
        run_id=row.run_id,
        submission_id=row.submission_id,
        version_id=row.version_id,
        review_id=row.review_id,
        created_at=row.created_at.isoformat() if row.created_at else "",
    )


def _find(session: Session, request_hash: str, run_id: str | None) -> CallRecord | None:
    query = select(LLMCall).where(LLMCall.request_hash == request_hash, LLMCall.status == "ok")
    rows = session.scalars(query.order_by(LLMCall.id)).all()
    return _pick((record_from_row(r) for r in rows), run_id)


class SessionRecorder:
    """Writes through the caller's session (flushes, never commits).

    The stage's records then commit together with its review rows, and a worker killed mid-review
    leaves neither behind. It must be used from the thread that owns the session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, record: CallRecord) -> None:
        self.session.add(call_row(record))
        self.session.flush()

    def find(self, request_hash: str, run_id: str | None = None) -> CallRecord | None:
        return _find(self.session, request_hash, run_id)


class DatabaseRecorder:
    """Each record in its own short transaction: durable at once, usable from any thread."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def record(self, record: CallRecord) -> None:
        with self.session_factory() as session, session.begin():
            session.add(call_row(record))

    def find(self, request_hash: str, run_id: str | None = None) -> CallRecord | None:
        with self.session_factory() as session:
            return _find(session, request_hash, run_id)


def link_run_to_review(session: Session, run_id: str, review_id: int) -> None:
    """Point every call of one review run at the review row created for it."""
    session.execute(update(LLMCall).where(LLMCall.run_id == run_id).values(review_id=review_id))
