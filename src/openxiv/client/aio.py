"""The asyncio client: the same methods as OpenXivClient (tests/client checks that), awaited.
The one-call methods of `endpoints.Endpoints` are carried out by an awaited `_run`; only the
transport differs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from typing import TypeVar

import httpx

import openxiv
from openxiv.client import calls, core
from openxiv.client.core import Call, EventStream, Paged, PollSchedule, RetryPolicy, Send, StatusWatch
from openxiv.client.endpoints import Endpoints
from openxiv.client.errors import ApiError, WaitTimeout
from openxiv.client.models import (
    SETTLED_STATUSES,
    STATUS_CHANGED,
    Event,
    Page,
    StatusChange,
    Submission,
)

T = TypeVar("T")


class AsyncOpenXivClient(Endpoints):
    """Client of an OpenXiv server's REST API (`/api/v1`).

    >>> async with AsyncOpenXivClient("http://127.0.0.1:8000", api_key="oxk_...") as client:
    ...     item = await client.create_submission({...})
    ...     settled = await client.wait_for(item.id, timeout=600)

    Every write carries a fresh Idempotency-Key (pass `idempotency_key=` to choose it, e.g. to
    retry across a restart of your program); failed attempts are retried under `retry`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = f"openxiv-client/{openxiv.__version__}",
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            **core.http_settings(base_url, api_key, user_agent), timeout=timeout, transport=transport
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncOpenXivClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- carrying out calls -------------------------------------------------------------------

    async def _run(self, call: Call[T]) -> T:
        steps = core.exchange(call, core.build_request(self._http, call), self.retry)
        outcome: core.Outcome = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as done:
                return done.value
            if isinstance(step, Send):
                try:
                    outcome = await self._http.send(step.request)
                except core.RETRY_TRANSPORT_ERRORS as error:
                    outcome = error
            else:
                await asyncio.sleep(step.seconds)
                outcome = None

    async def _iterate(self, paged: Paged[T]) -> AsyncIterator[T]:
        call: Call[Page[T]] | None = paged.first
        while call is not None:
            page = await self._run(call)
            for item in page.items:
                yield item
            call = paged.next_call(page)

    # -- events -------------------------------------------------------------------------------

    async def _stream(self, stream: EventStream) -> AsyncGenerator[Event | None, None]:
        """The events of a subscription as they arrive, reconnecting after a drop; None is
        yielded once, when the first connection is open (events from then on are not missed)."""
        announced = False
        while (request := stream.request(self._http)) is not None:
            try:
                response = await self._http.send(request, stream=True)
                try:
                    if response.status_code >= 400:
                        await response.aread()
                        pause: float | None = stream.refused(response)
                    else:
                        stream.opened()
                        if not announced:
                            announced = True
                            yield None
                        async for line in response.aiter_lines():
                            event = stream.line(line)
                            if event is not None:
                                yield event
                        pause = stream.dropped(None)
                finally:
                    await response.aclose()
            except core.RETRY_TRANSPORT_ERRORS as error:
                pause = stream.dropped(error)
            if pause is None:
                return
            await asyncio.sleep(pause)

    async def iter_events(
        self,
        submission: str | None = None,
        *,
        mine: bool = False,
        types: Iterable[str] = (),
        after: int | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Events as they happen (Server-Sent Events), for one submission (`YYMM.NNNNN`, or a
        version), your own (`mine`), or of some `types` (names or prefixes such as `review.*`).
        `after` replays the events since that id first. Reconnects after a dropped connection,
        resuming after the last event received; ends after `timeout` seconds (None: never)."""
        call = calls.events(submission, mine=mine, types=types, after=after)
        async with aclosing(self._stream(EventStream(call, self.retry, timeout))) as stream:
            async for event in stream:
                if event is not None:
                    yield event

    async def events(
        self,
        submission: str | None = None,
        *,
        mine: bool = False,
        types: Iterable[str] = (),
        after: int | None = None,
        timeout: float = 10.0,
    ) -> list[Event]:
        """The events that arrive within `timeout` seconds (with `after`: the ones since it too)."""
        found = self.iter_events(submission, mine=mine, types=types, after=after, timeout=timeout)
        return [event async for event in found]

    # -- waiting ------------------------------------------------------------------------------

    async def status_changes(
        self, identifier: str, *, timeout: float | None = None, poll: PollSchedule | None = None
    ) -> AsyncGenerator[StatusChange, None]:
        """The submission's status now, then each change, until `timeout` seconds have passed
        (forever when None). Follows the server's event stream; polls (under `poll`) a server
        that has none."""
        watch = StatusWatch(identifier, timeout, poll or PollSchedule())
        call = calls.events(core.without_version(identifier), types=[STATUS_CHANGED])
        stream = self._stream(EventStream(call, self.retry, timeout, first_refusal_is_final=True))
        try:
            await anext(stream)  # subscribed before the first read, so no change falls in between
        except (ApiError, StopAsyncIteration):
            await stream.aclose()
            async with aclosing(self._poll_status(watch)) as polled:
                async for polled_change in polled:
                    yield polled_change
            return
        async with aclosing(stream):
            change = watch.observe(await self.get(identifier))
            if change is not None:
                yield change
            async for event in stream:
                if event is None or event.type != STATUS_CHANGED:
                    continue
                change = watch.follow(event) or watch.observe(await self.get(identifier))
                if change is not None:
                    yield change
        # The stream ended at the deadline: one last read, as polling makes one at the deadline.
        change = watch.observe(await self.get(identifier))
        if change is not None:
            yield change

    async def _poll_status(self, watch: StatusWatch) -> AsyncGenerator[StatusChange, None]:
        while True:
            change = watch.observe(await self.get(watch.identifier))
            if change is not None:
                yield change
            pause = watch.pause(changed=change is not None)
            if pause is None:
                return
            await asyncio.sleep(pause)

    async def wait_for(
        self,
        identifier: str,
        statuses: str | Iterable[str] | None = None,
        *,
        timeout: float | None = 600.0,
        poll: PollSchedule | None = None,
    ) -> Submission:
        """Wait until the submission's status is one of `statuses` (default: any settled status:
        held, revision_requested, provisionally_accepted, accepted, rejected, withdrawn) and
        return it. Raises WaitTimeout after `timeout` seconds, StatusUnreachable when it ends in
        a final status that is not wanted."""
        wanted = core.wanted_statuses(statuses, SETTLED_STATUSES)
        last: str | None = None
        async with aclosing(self.status_changes(identifier, timeout=timeout, poll=poll)) as changes:
            async for change in changes:
                last = change.status
                if core.reached(change, wanted):
                    return await self.get(identifier)
        raise WaitTimeout(identifier, wanted, last)
