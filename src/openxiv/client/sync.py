"""The blocking client: the one-call methods of `endpoints.Endpoints` carried out by a blocking
`_run`, and the methods that iterate, follow events and wait."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
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


class OpenXivClient(Endpoints):
    """Client of an OpenXiv server's REST API (`/api/v1`).

    >>> with OpenXivClient("http://127.0.0.1:8000", api_key="oxk_...") as client:
    ...     item = client.create_submission({...})
    ...     settled = client.wait_for(item.id, timeout=600)

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
        transport: httpx.BaseTransport | None = None,
        user_agent: str = f"openxiv-client/{openxiv.__version__}",
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            **core.http_settings(base_url, api_key, user_agent), timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenXivClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- carrying out calls -------------------------------------------------------------------

    def _run(self, call: Call[T]) -> T:
        steps = core.exchange(call, core.build_request(self._http, call), self.retry)
        outcome: core.Outcome = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as done:
                return done.value
            if isinstance(step, Send):
                try:
                    outcome = self._http.send(step.request)
                except core.RETRY_TRANSPORT_ERRORS as error:
                    outcome = error
            else:
                time.sleep(step.seconds)
                outcome = None

    def _iterate(self, paged: Paged[T]) -> Iterator[T]:
        call: Call[Page[T]] | None = paged.first
        while call is not None:
            page = self._run(call)
            yield from page.items
            call = paged.next_call(page)

    # -- events -------------------------------------------------------------------------------

    def _stream(self, stream: EventStream) -> Generator[Event | None, None, None]:
        """The events of a subscription as they arrive, reconnecting after a drop; None is
        yielded once, when the first connection is open (events from then on are not missed)."""
        announced = False
        while (request := stream.request(self._http)) is not None:
            try:
                response = self._http.send(request, stream=True)
                try:
                    if response.status_code >= 400:
                        response.read()
                        pause: float | None = stream.refused(response)
                    else:
                        stream.opened()
                        if not announced:
                            announced = True
                            yield None
                        for line in response.iter_lines():
                            event = stream.line(line)
                            if event is not None:
                                yield event
                        pause = stream.dropped(None)
                finally:
                    response.close()
            except core.RETRY_TRANSPORT_ERRORS as error:
                pause = stream.dropped(error)
            if pause is None:
                return
            time.sleep(pause)

    def iter_events(
        self,
        submission: str | None = None,
        *,
        mine: bool = False,
        types: Iterable[str] = (),
        after: int | None = None,
        timeout: float | None = None,
    ) -> Iterator[Event]:
        """Events as they happen (Server-Sent Events), for one submission (`YYMM.NNNNN`, or a
        version), your own (`mine`), or of some `types` (names or prefixes such as `review.*`).
        `after` replays the events since that id first. Reconnects after a dropped connection,
        resuming after the last event received; ends after `timeout` seconds (None: never)."""
        call = calls.events(submission, mine=mine, types=types, after=after)
        for event in self._stream(EventStream(call, self.retry, timeout)):
            if event is not None:
                yield event

    def events(
        self,
        submission: str | None = None,
        *,
        mine: bool = False,
        types: Iterable[str] = (),
        after: int | None = None,
        timeout: float = 10.0,
    ) -> list[Event]:
        """The events that arrive within `timeout` seconds (with `after`: the ones since it too)."""
        return list(self.iter_events(submission, mine=mine, types=types, after=after, timeout=timeout))

    # -- waiting ------------------------------------------------------------------------------

    def status_changes(
        self, identifier: str, *, timeout: float | None = None, poll: PollSchedule | None = None
    ) -> Generator[StatusChange, None, None]:
        """The submission's status now, then each change, until `timeout` seconds have passed
        (forever when None). Follows the server's event stream; polls (under `poll`) a server
        that has none."""
        watch = StatusWatch(identifier, timeout, poll or PollSchedule())
        call = calls.events(core.without_version(identifier), types=[STATUS_CHANGED])
        stream = self._stream(EventStream(call, self.retry, timeout, first_refusal_is_final=True))
        try:
            next(stream)  # subscribed before the first read, so no change falls in between
        except (ApiError, StopIteration):
            stream.close()
            yield from self._poll_status(watch)
            return
        with closing(stream):
            change = watch.observe(self.get(identifier))
            if change is not None:
                yield change
            for event in stream:
                if event is None or event.type != STATUS_CHANGED:
                    continue
                change = watch.follow(event) or watch.observe(self.get(identifier))
                if change is not None:
                    yield change
        # The stream ended at the deadline: one last read, as polling makes one at the deadline.
        change = watch.observe(self.get(identifier))
        if change is not None:
            yield change

    def _poll_status(self, watch: StatusWatch) -> Iterator[StatusChange]:
        while True:
            change = watch.observe(self.get(watch.identifier))
            if change is not None:
                yield change
            pause = watch.pause(changed=change is not None)
            if pause is None:
                return
            time.sleep(pause)

    def wait_for(
        self,
        identifier: str,
        statuses: str | Iterable[str] | None = None,
        *,
        timeout: float | None = 600.0,
        poll: PollSchedule | None = None,
    ) -> Submission:
        """Block until the submission's status is one of `statuses` (default: any settled status:
        held, revision_requested, provisionally_accepted, accepted, rejected, withdrawn) and
        return it. Raises WaitTimeout after `timeout` seconds, StatusUnreachable when it ends in
        a final status that is not wanted."""
        wanted = core.wanted_statuses(statuses, SETTLED_STATUSES)
        last: str | None = None
        with closing(self.status_changes(identifier, timeout=timeout, poll=poll)) as changes:
            for change in changes:
                last = change.status
                if core.reached(change, wanted):
                    return self.get(identifier)
        raise WaitTimeout(identifier, wanted, last)
