"""The event stream's fan-out: one poller per process reads new events once and hands them to
every subscriber's bounded queue.

Subscribers never query the database while they wait; the poller does, by id, every
`stream_poll_interval_s` (events committed by other processes, such as the worker) or at once
when this process committed one (`notify`, called after the commit). Database reads run on the
hub's own thread, never on the web server's threadpool. A subscriber that falls
`stream_queue_size` events behind is disconnected and resumes with `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from openxiv.accounts.authz import Principal
from openxiv.events.documents import TypeFilter, encode, event_document, visible
from openxiv.events.settings import EventSettings
from openxiv.models import Event, Submission

logger = logging.getLogger("openxiv.events")
READ_BATCH = 500
# PostgreSQL hands out ids before commit, so a transaction can commit after a later id was
# read: a missing id is looked for again this long before it counts as rolled back.
LATE_COMMIT_WINDOW_S = 30.0
MAX_TRACKED_GAPS = 10_000
# Ids a subscriber remembers, so a late event it already got in its catch-up is not sent twice.
RECENT_IDS = 2048
RETRY_MS = 2000
IDLE_POLL_INTERVAL_S = 1.0
POLLER_THREAD_PREFIX = "openxiv-events"


@dataclass(frozen=True)
class StreamFilter:
    submission_id: int | None = None
    version_number: int | None = None
    owner_id: int | None = None
    types: TypeFilter = field(default_factory=TypeFilter)

    def matches(self, event: Event) -> bool:
        if self.submission_id is not None and event.submission_id != self.submission_id:
            return False
        if self.version_number is not None and event.version_number != self.version_number:
            return False
        if self.owner_id is not None and event.owner_id != self.owner_id:
            return False
        return self.types.matches(event.type)


@dataclass(frozen=True)
class _Item:
    event: Event
    submission: Submission | None
    frame: bytes
    late: bool = False


_CLOSE = object()


@dataclass(eq=False)
class _Subscriber:
    filter: StreamFilter
    viewer: Principal | None
    queue: asyncio.Queue[Any]
    overflowed: bool = False

    def offer(self, item: _Item) -> None:
        if self.overflowed:
            return
        if not (self.filter.matches(item.event) and visible(item.submission, self.viewer)):
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


def frame(event: Event, submission: Submission | None) -> bytes:
    data = encode(event_document(event, submission.identifier if submission else None))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()


class EventHub:
    """One per process (the web app's `app.state.event_hub`)."""

    def __init__(self, read_sessions: sessionmaker[Session], settings: EventSettings) -> None:
        self._sessions = read_sessions
        self._settings = settings
        self._subscribers: set[_Subscriber] = set()
        self._threads: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._ready: asyncio.Event | None = None
        self._head = 0
        self._gaps: dict[int, float] = {}  # missing id -> when it was first missed
        self._closed = False
        # Called on the loop with every new event, and with None when the hub stops watching.
        self._watchers: list[Callable[[Event | None], None]] = []

    # ------------------------------------------------------------------ lifecycle

    def notify(self) -> None:
        """Look for new events now (called from any thread once a transaction with events commits)."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is shutting down
            loop.call_soon_threadsafe(wake.set)

    def stop_streams(self) -> None:
        """End every open stream, from any thread (a server run on a thread has no stop signal)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self.end_streams)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the app's lifespan: streams end when the server is told to stop (SIGTERM, Ctrl-C),
        since the server waits for open responses to finish before it shuts the app down."""
        restore = self._chain_stop_signals(asyncio.get_running_loop())
        try:
            yield
        finally:
            restore()
            await self.close()

    async def watch(self, watcher: Callable[[Event | None], None]) -> None:
        """Call `watcher` with each event committed from now on, by any process (the response
        cache's invalidations); with None once the hub stops, since events may then be missed."""
        self._watchers.append(watcher)
        await self._ensure_started()

    async def close(self) -> None:
        self._closed = True
        for watcher in self._watchers:
            watcher(None)
        self._watchers.clear()
        self.end_streams()
        if self._poller is not None and not self._poller.done():
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._poller
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None  # an app started again (tests) gets new ones

    def end_streams(self) -> None:
        """End every open stream (clients reconnect elsewhere with Last-Event-ID); new ones may
        still open until the hub is closed."""
        for subscriber in list(self._subscribers):
            while not subscriber.queue.empty():
                subscriber.queue.get_nowait()
            subscriber.queue.put_nowait(_CLOSE)

    def _chain_stop_signals(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None  # a server in a thread (tests) stops its streams with end_streams()
        previous: dict[int, Any] = {}

        def on_stop(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self.end_streams)
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL and signum == signal.SIGINT:
                raise KeyboardInterrupt

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, on_stop)

        def restore() -> None:
            for signum, handler in previous.items():
                if signal.getsignal(signum) is on_stop:
                    signal.signal(signum, handler)

        return restore

    async def _ensure_started(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._poller is None or self._poller.done():
            self._loop = loop
            self._wake = asyncio.Event()
            self._ready = asyncio.Event()
            self._closed = False
            self._poller = loop.create_task(self._poll_forever(), name="openxiv-event-poller")
        assert self._ready is not None
        await self._ready.wait()

    # ------------------------------------------------------------------ subscribing

    async def subscribe(
        self,
        stream_filter: StreamFilter,
        viewer: Principal | None,
        after: int | None,
        *,
        timeout_s: float | None = None,
    ) -> AsyncIterator[bytes]:
        """The stream as SSE frames: events after `after` (from the table), then live ones, until
        the client leaves, falls too far behind, the server stops, or `timeout_s` has passed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        await self._ensure_started()
        subscriber = _Subscriber(stream_filter, viewer, asyncio.Queue(self._settings.stream_queue_size))
        # Registered and the head read in one step of the loop: every event up to the head was
        # broadcast before this subscriber existed, every later one reaches its queue.
        self._subscribers.add(subscriber)
        head = self._head
        recent: deque[int] = deque(maxlen=RECENT_IDS)
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            if after is not None and after < head:
                async for item in self._catch_up(stream_filter, viewer, after, head):
                    recent.append(item.event.id)
                    yield item.frame
            # Live events above this were not sent yet; a late one (an earlier id committed after
            # a later one) is sent unless the catch-up already did.
            newest = head if after is None else max(after, head)
            oldest = head if after is None else after
            while True:
                wait = self._settings.stream_keepalive_s
                if deadline is not None:
                    left = deadline - loop.time()
                    if left <= 0:
                        return
                    wait = min(wait, left)
                try:
                    item = await asyncio.wait_for(subscriber.queue.get(), wait)
                except TimeoutError:
                    if deadline is None or deadline > loop.time():
                        yield b": keep-alive\n\n"
                    continue
                if item is _CLOSE:
                    yield b": the server is stopping; reconnect with Last-Event-ID\n\n"
                    return
                event_id = item.event.id
                if event_id > newest or (item.late and event_id > oldest and event_id not in recent):
                    recent.append(event_id)
                    yield item.frame
                if subscriber.overflowed and subscriber.queue.empty():
                    yield b": too far behind; reconnect with Last-Event-ID\n\n"
                    return
        finally:
            self._subscribers.discard(subscriber)

    async def _catch_up(
        self, stream_filter: StreamFilter, viewer: Principal | None, after: int, until: int
    ) -> AsyncIterator[_Item]:
        loop = asyncio.get_running_loop()
        cursor = after
        while cursor < until:
            rows = await loop.run_in_executor(self._executor, self._read_range, stream_filter, cursor, until)
            for item in rows:
                if stream_filter.types.matches(item.event.type) and visible(item.submission, viewer):
                    yield item
            if len(rows) < READ_BATCH:
                return
            cursor = rows[-1].event.id

    @property
    def _executor(self) -> ThreadPoolExecutor:
        if self._threads is None:
            # Two threads: a subscriber's catch-up never holds up the poll the others wait for.
            self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix=POLLER_THREAD_PREFIX)
        return self._threads

    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # ------------------------------------------------------------------ polling

    async def _poll_forever(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wake is not None and self._ready is not None
        while True:
            try:
                self._head = await loop.run_in_executor(self._executor, self._read_head)
                break
            except Exception as error:  # subscribers wait until the database answers
                logger.warning(
                    "event stream: reading the newest event failed: %s: %s", type(error).__name__, error
                )
                await asyncio.sleep(1.0)
        self._ready.set()
        while not self._closed:
            # Cleared before the read: a commit announced while reading wakes the next round.
            self._wake.clear()
            try:
                read = await loop.run_in_executor(
                    self._executor, self._read_new, self._head, list(self._gaps)
                )
                items = self._advance(read)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a database hiccup: subscribers wait, the poller goes on
                logger.warning("event stream: reading new events failed: %s: %s", type(error).__name__, error)
                read, items = [], []
                await asyncio.sleep(1.0)
            for item in items:
                for watcher in self._watchers:
                    watcher(item.event)
                for subscriber in list(self._subscribers):
                    subscriber.offer(item)
            if len(read) >= READ_BATCH:
                continue
            busy = self._subscribers or self._watchers
            interval = self._settings.stream_poll_interval_s if busy else IDLE_POLL_INTERVAL_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    def _read_head(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)

    def _read_new(self, head: int, gaps: list[int]) -> list[_Item]:
        """Events after `head`, and those of the missing ids that have committed since."""
        condition = Event.id > head
        if gaps:
            condition = or_(condition, Event.id.in_(gaps))
        with self._sessions() as session:
            rows = session.execute(
                select(Event, Submission)
                .outerjoin(Submission, Submission.id == Event.submission_id)
                .where(condition)
                .order_by(Event.id)
                .limit(READ_BATCH)
            ).all()
        return [_Item(event, submission, frame(event, submission)) for event, submission in rows]

    def _advance(self, items: list[_Item]) -> list[_Item]:
        """Move the head past what was read, remember skipped ids, and mark late arrivals (runs on
        the loop, so a subscriber never sees a head whose events were not yet offered to it)."""
        now = time.monotonic()
        marked: list[_Item] = []
        for item in items:
            event_id = item.event.id
            if self._gaps.pop(event_id, None) is not None:
                marked.append(_Item(item.event, item.submission, item.frame, late=True))
                continue
            if event_id <= self._head:
                continue
            if self._head:
                for missing in range(self._head + 1, min(event_id, self._head + 1 + MAX_TRACKED_GAPS)):
                    if len(self._gaps) >= MAX_TRACKED_GAPS:
                        break
                    self._gaps[missing] = now
            self._head = event_id
            marked.append(item)
        self._gaps = {gap: seen for gap, seen in self._gaps.items() if now - seen < LATE_COMMIT_WINDOW_S}
        return marked

    def _read_range(self, stream_filter: StreamFilter, after: int, until: int) -> list[_Item]:
        query = (
            select(Event, Submission)
            .outerjoin(Submission, Submission.id == Event.submission_id)
            .where(Event.id > after, Event.id <= until)
        )
        if stream_filter.submission_id is not None:
            query = query.where(Event.submission_id == stream_filter.submission_id)
        if stream_filter.version_number is not None:
            query = query.where(Event.version_number == stream_filter.version_number)
        if stream_filter.owner_id is not None:
            query = query.where(Event.owner_id == stream_filter.owner_id)
        if stream_filter.types.names and not stream_filter.types.prefixes:
            query = query.where(Event.type.in_(stream_filter.types.names))
        with self._sessions() as session:
            rows = session.execute(query.order_by(Event.id).limit(READ_BATCH)).all()
        return [_Item(event, submission, frame(event, submission)) for event, submission in rows]

    def run_read(self, read: Callable[[Session], Any]) -> asyncio.Future[Any]:
        """Run a short read on the hub's thread (the stream endpoint's look-ups at connect time)."""
        loop = asyncio.get_running_loop()

        def in_session() -> Any:
            with self._sessions() as session:
                return read(session)

        return loop.run_in_executor(self._executor, in_session)
