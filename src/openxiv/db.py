"""Engine and session handling for SQLite (embedded default) and PostgreSQL.

Writes go through one session per unit of work; side effects that must only happen once the data
is durable (enqueueing jobs) are registered with `after_commit` and run by a session event.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger("openxiv.db")
_AFTER_COMMIT_KEY = "openxiv_after_commit"
_WRITE_OPTION = "openxiv_write"
_READ_OPTION = "openxiv_read"
# SQLite: how long one attempt at the write lock waits (the busy handler), and how many attempts a
# writer makes before the error reaches the caller. Writers hold the lock for milliseconds (no
# transaction spans an LLM call or a PDF scan), so waiting this long means a stuck process.
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_LOCK_ATTEMPTS = 6
# A pooled PostgreSQL connection idle for longer than this is checked before use.
PING_AFTER_IDLE_S = 10.0
_IDLE_SINCE_KEY = "openxiv_idle_since"
_AUTOCOMMIT = "AUTOCOMMIT"
# PostgreSQL engines whose connections are in autocommit from the start (`make_engine`).
_AUTOCOMMIT_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int | None = None,
    autocommit: bool = False,
    echo: bool = False,
) -> Engine:
    """`max_overflow` defaults to `pool_size`; -1 lets the pool open connections without limit.
    `autocommit` (PostgreSQL): every connection runs without transactions from the start, for an
    engine that only reads (see `make_session_factory`)."""
    parsed = make_url(url)
    overflow = pool_size if max_overflow is None else max_overflow
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=pool_size,
            max_overflow=overflow,
        )
        _configure_sqlite(engine)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = str(parsed.set(drivername="postgresql+psycopg"))
    options: dict[str, Any] = {"isolation_level": _AUTOCOMMIT} if autocommit else {}
    engine = create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=overflow, pool_timeout=30, **options
    )
    _ping_when_idle(engine)
    if autocommit:
        _AUTOCOMMIT_ENGINES.add(engine)
    return engine


@dataclass(frozen=True)
class HotReader:
    """The engine of the hot reads (an item, a listing: `http.deps.run_read`), and whether they
    may run on the event loop itself."""

    engine: Engine
    on_loop: bool


def make_hot_reader(url: str, *, threads: int, on_loop: bool) -> HotReader | None:
    """An engine of its own for the hot reads, where one makes them cheaper; None where the
    app's engine serves them as well as another would.

    - SQLite under WAL (`on_loop`): the reads run on the event loop. A read there is a local file
      read that never waits for a writer, and on the loop it saves the hand-off to a worker
      thread, which costs about as much as the read. The loop runs one read at a time, so one
      connection serves it, and the pool may always open another (`max_overflow=-1`): a checkout
      on the loop never waits, because waiting there for a connection that only the loop can hand
      back is how a server stops answering. Without WAL (an in-memory database, a file system
      that refuses it) a read waits for writers: those stay on threads, on the app's engine.
    - PostgreSQL: its reads wait on the network, so they run on the `threads` hot-read threads,
      one connection each, opened in autocommit. The app's engine serves writers too, so its
      readers switch each connection to autocommit when they take it and back when they return
      it: that switching cost 0.1-0.25 ms of CPU per read, a tenth of an item read."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return HotReader(make_engine(url, pool_size=threads, max_overflow=0, autocommit=True), on_loop=False)
    if not on_loop or parsed.database in (None, "", ":memory:"):
        return None
    engine = make_engine(url, pool_size=1, max_overflow=-1)
    with engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    if journal != "wal":
        engine.dispose()
        return None
    return HotReader(engine, on_loop=True)


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle long enough to have been cut
    (a database restart, a proxy's idle timeout). `pool_pre_ping` pings on every checkout: one
    more round trip than a whole item read needs. A connection that dies while in steady use
    fails that one statement, and the pool replaces it."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE_KEY] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE_KEY)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError(f"pooled connection is gone: {error}") from error


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions start, so that writers can take
        # the write lock up front (BEGIN IMMEDIATE) instead of failing later on upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock at BEGIN: a deferred transaction that later tries to write
        # fails with SQLITE_BUSY when another writer got in first, instead of waiting. Read
        # sessions run without a transaction, as on PostgreSQL (see make_session_factory); under
        # WAL each statement reads a consistent snapshot and never waits for anyone. Anything else
        # (migrations, maintenance) begins deferred.
        options = connection.get_execution_options()
        if options.get(_WRITE_OPTION):
            _begin_immediate(connection.connection.driver_connection)
        elif not options.get(_READ_OPTION):
            connection.exec_driver_sql("BEGIN")


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """Take SQLite's write lock, retrying when the busy timeout runs out.

    The one place that handles SQLITE_BUSY: writers take the lock here, at BEGIN, so no later
    statement of theirs can meet a busy database (readers never do under WAL).
    """
    for attempt in range(1, SQLITE_LOCK_ATTEMPTS + 1):
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            busy = getattr(error, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or attempt == SQLITE_LOCK_ATTEMPTS:
                raise
            logger.warning(
                "SQLite write lock still taken after %d s (attempt %d of %d); waiting again",
                SQLITE_BUSY_TIMEOUT_MS // 1000,
                attempt,
                SQLITE_LOCK_ATTEMPTS,
            )
            time.sleep(min(2.0, 0.1 * 2**attempt))


def make_session_factory(
    engine: Engine, *, write: bool = True, info: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions for units of work that write (`write=True`) or only read; `info` is copied into
    each session's `Session.info` (how the runtime hands hooks to domain code)."""
    bind: Engine
    if write:
        bind = engine.execution_options(**{_WRITE_OPTION: True})
    elif engine.dialect.name == "postgresql":
        # A reader sends no BEGIN and no ROLLBACK: two round trips of a three-statement item read.
        # Under READ COMMITTED each statement already sees its own snapshot, so a read-only
        # transaction there gives no more consistency than statements on their own. (An engine
        # made with `autocommit` is so from the start.)
        bind = (
            engine if engine in _AUTOCOMMIT_ENGINES else engine.execution_options(isolation_level=_AUTOCOMMIT)
        )
    else:
        bind = engine.execution_options(**{_READ_OPTION: True})
    return sessionmaker(bind=bind, expire_on_commit=False, info=info or {})


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction has committed (never if it rolls back).

    A callback registered twice in one transaction runs once (e.g. "dispatch the new events")."""
    callbacks = session.info.setdefault(_AFTER_COMMIT_KEY, [])
    if callback not in callbacks:
        callbacks.append(callback)


# These events also fire when a SAVEPOINT (begin_nested) is released or rolled back; only the end
# of the outermost transaction counts, else a job could start while the write lock is still held.


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for callback in session.info.pop(_AFTER_COMMIT_KEY, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_AFTER_COMMIT_KEY, None)


def on_commit(factory: sessionmaker[Session], callback: Callable[[], None]) -> None:
    """Call `callback` after every outermost commit of a session made by `factory`."""

    def committed(session: Session) -> None:
        if not session.in_nested_transaction():
            callback()

    event.listen(factory, "after_commit", committed)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
