"""FastAPI dependencies that know no domain: database sessions, ids in paths, the caller's
address and the throttles.

An endpoint asks for what it uses: `ReadSession` to read, `WriteSession` for one unit of work
(committed when the endpoint returns, rolled back when it raises), or `DatabaseDep` when it must
draw the transaction boundaries itself (a page that catches an error and renders it must not
commit what came before the error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from openxiv.db import transaction
from openxiv.http.ratelimit import LoginThrottle
from openxiv.validation import MAX_DB_ID

T = TypeVar("T")

IdInPath = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
IdInQuery = Annotated[int | None, Query(ge=1, le=MAX_DB_ID)]


@dataclass(frozen=True)
class Database:
    """The app's two session factories (`app.state.database`)."""

    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    # The hot reads' own sessions where they have some, and whether those reads run on the event
    # loop itself (`db.make_hot_reader`).
    hot_read_sessions: sessionmaker[Session] | None = None
    hot_reads_on_loop: bool = False

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.read_sessions() as session:
            yield session

    def writing(self) -> AbstractContextManager[Session]:
        """A write transaction: commits when the block succeeds, rolls back on any error."""
        return transaction(self.write_sessions)


# Dependencies that only read `app.state` are `async def`: FastAPI runs a plain `def` dependency
# on the thread pool, and that hop costs more than the rest of such a dependency.
async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


def read_session(database: DatabaseDep) -> Iterator[Session]:
    with database.reading() as session:
        yield session


def write_session(database: DatabaseDep) -> Iterator[Session]:
    with database.writing() as session:
        yield session


# scope="function": the transaction ends when the endpoint returns, before the response is sent,
# so a client never holds an answer whose write could still fail to commit (and an error in the
# commit becomes the response).
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


async def run_read(request: Request, read: Callable[[Session], T], *, bounded: bool) -> T:
    """Run a hot read (an item, a listing) where it costs least.

    A `bounded` read (a few index lookups: an item by its identifier, a page of the newest items)
    runs on the event loop when the database never makes a read wait (`Database.hot_reads_on_loop`);
    one that may scan (a filter no index serves) must not hold up every other request, and runs
    on the few threads kept for hot reads (`http.read_threads`), not on the general pool: fewer
    threads contend less, and a read holds no lock a write waits for."""
    database: Database = request.app.state.database
    sessions = database.hot_read_sessions or database.read_sessions
    if bounded and database.hot_reads_on_loop:
        with sessions() as session:
            return read(session)
    limiter: CapacityLimiter | None = getattr(request.app.state, "read_limiter", None)
    if limiter is None:
        limiter = request.app.state.read_limiter = CapacityLimiter(
            request.app.state.settings.http.read_threads
        )

    def in_thread() -> T:
        with sessions() as session:
            return read(session)

    return await anyio.to_thread.run_sync(in_thread, limiter=limiter)


def json_response(model: BaseModel, *, headers: dict[str, str] | None = None) -> Response:
    """A model as the JSON FastAPI would send for it, without validating it again on the way
    out (an endpoint returning a `Response` skips its `response_model`; the model was just built)."""
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers (trusted addresses only) has already put the
    # client's address here.
    return request.client.host if request.client else "unknown"


def login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def registration_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.registration_throttle
    return throttle
