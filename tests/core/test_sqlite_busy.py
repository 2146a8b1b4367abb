"""SQLite's write lock: a writer that finds it taken past the busy timeout waits again (logged),
instead of failing with `database is locked`."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from openxiv import db


def test_a_writer_outwaits_a_lock_held_past_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "busy.db"
    engine = db.make_engine(f"sqlite:///{path}", pool_size=1)
    with db.transaction(db.make_session_factory(engine)) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")

    class ReleaseOnRetry(logging.Handler):
        """The other writer lets go once ours has given up waiting at least once."""

        def emit(self, record: logging.LogRecord) -> None:
            if "write lock still taken" in record.getMessage():
                threading.Thread(target=holder.execute, args=("COMMIT",)).start()

    handler = ReleaseOnRetry()
    logging.getLogger("openxiv.db").addHandler(handler)
    try:
        with (
            caplog.at_level(logging.WARNING, logger="openxiv.db"),
            db.transaction(db.make_session_factory(engine)) as session,
        ):
            session.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        logging.getLogger("openxiv.db").removeHandler(handler)
        holder.close()
    with engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT x FROM t")).scalars()) == [1, 2]
    assert any("attempt 1 of" in r.getMessage() for r in caplog.records)
    engine.dispose()


def test_a_lock_that_is_never_released_fails_after_the_last_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(db, "SQLITE_LOCK_ATTEMPTS", 2)
    path = tmp_path / "stuck.db"
    engine = db.make_engine(f"sqlite:///{path}", pool_size=1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with (
            pytest.raises(Exception, match="database is locked"),
            db.transaction(db.make_session_factory(engine)) as session,
        ):
            session.execute(text("CREATE TABLE u (x INTEGER)"))
    finally:
        holder.close()
        engine.dispose()
