"""The part of the client that does not do I/O, shared by the sync and the async client.

A logical API call is a `Call`: what to send and how to read the answer. `exchange` is a
generator that decides everything about a call -- when to send, how long to wait before a retry,
what the answer means -- and yields `Send` and `Sleep` steps; the two clients only carry the steps
out (httpx.Client + time.sleep, or httpx.AsyncClient + asyncio.sleep). So retries, idempotency
keys, error mapping and parsing exist once.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from openxiv.client.errors import ApiError, ConnectionFailed, StatusUnreachable, api_error
from openxiv.client.models import TERMINAL_STATUSES, Event, Page, StatusChange, Submission

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

API_PREFIX = "/api/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A request the server never saw or whose answer was lost: sending it again is safe because reads
# are reads and every write carries its idempotency key.
RETRY_TRANSPORT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
_IN_PROGRESS = "urn:openxiv:problem:idempotency-key-in-progress"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One logical call. `files` maps a form field to (filename, bytes, media type); `prefix` is
    where the API lives (the Hugging Face compatible papers API is under /api, not /api/v1)."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    idempotency_key: str | None = None
    prefix: str = API_PREFIX

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before sending a call again.

    Exponential backoff from `base_delay` doubling up to `max_delay`, each wait drawn between half
    and all of that (jitter, so many clients refused together do not return together). A
    `Retry-After` from the server replaces the backoff (plus up to `jitter_fraction` of it); one
    longer than `max_retry_after` is not waited for -- the error is raised with its `retry_after`
    so the caller decides. `max_attempts` counts the first try; `max_total_wait` bounds the time
    slept across all retries of one call.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    max_total_wait: float = 300.0
    jitter_fraction: float = 0.1
    random: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + self.random() * ceiling / 2

    def delay(self, attempt: int, outcome: httpx.Response | Exception, waited: float) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to stop and report `outcome`."""
        if attempt >= self.max_attempts:
            return None
        if isinstance(outcome, Exception):
            chosen = self.backoff(attempt)
        elif retryable(outcome):
            hint = retry_after_seconds(outcome.headers.get("retry-after"))
            if hint is None:
                chosen = self.backoff(attempt)
            elif hint > self.max_retry_after:
                return None
            else:
                chosen = hint + self.random() * self.jitter_fraction * max(hint, self.base_delay)
        else:
            return None
        return chosen if waited + chosen <= self.max_total_wait else None


NO_RETRIES = RetryPolicy(max_attempts=1)


def retryable(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    # The first request with this key is still running (its answer was lost to us): ask again
    # shortly and the server replays the answer once it is stored.
    return response.status_code == 409 and _problem(response).get("type") == _IN_PROGRESS


def retry_after_seconds(
    value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """`Retry-After` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent
    or unreadable. A date in the past means no wait."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def http_settings(base_url: str, api_key: str | None, user_agent: str) -> dict[str, Any]:
    """What both clients give their httpx client."""
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return {"base_url": base_url.rstrip("/"), "headers": headers}


# ----------------------------------------------------------------------------- the exchange


@dataclass(frozen=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Send | Sleep
Outcome = httpx.Response | httpx.TransportError | None


def build_request(http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    """The request of a call, built once and sent as-is on every retry: the same body (a multipart
    boundary is random per build) and the same Idempotency-Key, so the server recognises a retry."""
    headers: dict[str, str] = {}
    if call.is_write:
        headers["Idempotency-Key"] = call.idempotency_key or str(uuid.uuid4())
    params = {k: _query_value(v) for k, v in (call.params or {}).items() if v is not None}
    request = http.build_request(
        call.method,
        call.prefix + call.path,
        params=params or None,
        json=call.json,
        files=dict(call.files) if call.files else None,
        headers=headers,
    )
    request.read()  # fixes the body in memory so it can be sent again
    return request


def exchange(call: Call[T], request: httpx.Request, policy: RetryPolicy) -> Generator[Step, Outcome, T]:
    """Drive one call: send, retry while the policy says so, then parse or raise. The driver sends
    back the response or the transport error for each Send, and None after each Sleep."""
    attempt = 0
    waited = 0.0
    while True:
        attempt += 1
        outcome = yield Send(request)
        assert outcome is not None, "the driver must answer a Send with a response or an error"
        pause = policy.delay(attempt, outcome, waited)
        if pause is None:
            break
        waited += pause
        yield Sleep(pause)
    if isinstance(outcome, Exception):
        raise ConnectionFailed(
            f"no answer after {attempt} attempt(s): {type(outcome).__name__}: {outcome}"
        ) from outcome
    raise_for_problem(outcome)
    return call.parse(outcome)


def raise_for_problem(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    raise api_error(response.status_code, _problem(response), retry_after)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {
        "type": "about:blank",
        "title": response.reason_phrase,
        "status": response.status_code,
        "detail": response.text[:500],
    }


def _query_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# ----------------------------------------------------------------------------- parsing


def model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: cls.model_validate_json(response.content)


def model_list(cls: type[M]) -> Callable[[httpx.Response], list[M]]:
    adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]
    return lambda response: adapter.validate_json(response.content)


def text(response: httpx.Response) -> str:
    return response.text


def content(response: httpx.Response) -> bytes:
    return response.content


def nothing(response: httpx.Response) -> None:
    return None


def events_in_body(response: httpx.Response) -> list[Event]:
    """The events of a whole (ended) event-stream body."""
    decoder = SSEDecoder()
    found = [decoder.feed(line) for line in [*response.text.splitlines(), ""]]
    return [event_of(message) for message in found if message is not None and message.data]


def json_value(response: httpx.Response) -> Any:
    return response.json()


def body_json(value: Mapping[str, Any] | BaseModel) -> Any:
    """A request body from a dict or any pydantic model (such as the server's own input schemas)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    return dict(value)


# ----------------------------------------------------------------------------- pagination


@dataclass(frozen=True)
class Paged(Generic[T]):
    """A list endpoint: the call for the first page and, given a page's cursor, the next call."""

    first: Call[Page[T]]
    following: Callable[[str], Call[Page[T]]]

    def next_call(self, page: Page[T]) -> Call[Page[T]] | None:
        return self.following(page.next_cursor) if page.next_cursor else None


# ----------------------------------------------------------------------------- status watching


@dataclass(frozen=True)
class PollSchedule:
    """How often `status_changes` polls: `initial` seconds after a change, then `factor` times
    longer each time nothing changed, up to `ceiling`."""

    initial: float = 0.5
    factor: float = 1.6
    ceiling: float = 10.0

    def next(self, previous: float | None, changed: bool) -> float:
        if changed or previous is None:
            return self.initial
        return min(self.ceiling, previous * self.factor)


@dataclass
class StatusWatch:
    """Turns successive reads of a submission into StatusChange reports, and keeps the deadline."""

    identifier: str
    timeout: float | None = None
    schedule: PollSchedule = field(default_factory=PollSchedule)
    last: str | None = None
    _deadline: float = field(default=math.inf, init=False)
    _interval: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.timeout is not None:
            self._deadline = time.monotonic() + self.timeout

    def observe(self, submission: Submission) -> StatusChange | None:
        if submission.status == self.last:
            return None
        change = StatusChange(
            identifier=submission.id,
            status=submission.status,
            previous=self.last,
            latest_version=submission.latest_version,
            at=submission.updated_at,
        )
        self.last = submission.status
        return change

    def follow(self, event: Event) -> StatusChange | None:
        """The change a `submission.status_changed` event reports, when it continues from the
        status last reported. None otherwise (an event from before the last read, or after one
        that was missed): the caller then reads the submission again."""
        status = event.payload.get("status")
        if not isinstance(status, str) or event.payload.get("previous") != self.last or status == self.last:
            return None
        change = StatusChange(
            identifier=event.submission or self.identifier,
            status=status,
            previous=self.last,
            latest_version=event.version or 0,
            at=event.created_at,
        )
        self.last = status
        return change

    def pause(self, changed: bool) -> float | None:
        """Seconds until the next poll, or None when the deadline has passed (one last poll is
        made at the deadline itself)."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return None
        self._interval = self.schedule.next(self._interval, changed)
        return min(self._interval, remaining)


def wanted_statuses(statuses: str | Iterable[str] | None, default: frozenset[str]) -> frozenset[str]:
    if statuses is None:
        return default
    if isinstance(statuses, str):
        return frozenset({statuses})
    return frozenset(statuses)


def reached(change: StatusChange, wanted: frozenset[str]) -> bool:
    """Whether `wait_for` is done with this change; a final status that is not wanted ends the
    wait with StatusUnreachable, since nothing will change it."""
    if change.status in wanted:
        return True
    if change.status in TERMINAL_STATUSES:
        raise StatusUnreachable(change.identifier, wanted, change.status)
    return False


def without_version(identifier: str) -> str:
    """The item of `YYMM.NNNNNvN`: statuses belong to the item, not to a version."""
    return re.sub(r"v\d+$", "", identifier)


# ----------------------------------------------------------------------------- the event stream


@dataclass(frozen=True)
class ServerSentEvent:
    """One message of a text/event-stream: `id` is the last event id at its dispatch."""

    id: str | None
    event: str
    data: str


class SSEDecoder:
    """Lines of a text/event-stream in, messages out (the WHATWG HTML parsing rules): `data`
    lines join with newlines, a blank line dispatches, `:` lines are comments (keep-alives),
    `id` persists until changed, `retry` is the server's reconnection delay in milliseconds."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None
        self._data: list[str] = []
        self._event = ""

    def feed(self, line: str) -> ServerSentEvent | None:
        if not line:
            data, event = self._data, self._event
            self._data, self._event = [], ""
            if not data:
                return None
            return ServerSentEvent(self.last_event_id, event or "message", "\n".join(data))
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None


def event_of(message: ServerSentEvent) -> Event:
    return Event.model_validate_json(message.data)


# A stream sends a keep-alive comment every 15 s by default: three missed ones mean it is gone.
STREAM_READ_TIMEOUT = 45.0
# The `timeout` the server takes is above 0 and at most a day; a longer wait reconnects daily.
_MIN_STREAM_SECONDS = 0.05
_MAX_STREAM_SECONDS = 86_400.0


class EventStream:
    """One logical subscription to `GET /events`, across reconnections.

    The clients send `request()`, feed each line of a 2xx answer to `line()`, and call `dropped()`
    when the connection ends or breaks (or `refused()` with an error answer, read): those say how
    long to wait before the next `request()`, which resumes after the last event received
    (`Last-Event-ID`). With a `timeout` the server is asked to end the stream at the deadline and
    `request()` returns None once it has passed. Reconnections back off under the retry policy:
    the server's `retry` hint first, then exponentially while connections keep failing without
    an event; after `policy.max_attempts` such failures in a row the error is raised.
    """

    def __init__(
        self,
        call: Call[Any],
        policy: RetryPolicy,
        timeout: float | None = None,
        *,
        first_refusal_is_final: bool = False,
    ) -> None:
        self.call = call
        self.policy = policy
        # For a caller with another way to its goal (`status_changes` polls instead): an error
        # answer before any connection was open is raised at once rather than waited out.
        self.first_refusal_is_final = first_refusal_is_final
        self.decoder = SSEDecoder()
        self._opened = False
        self._deadline = math.inf if timeout is None else time.monotonic() + timeout
        self._failures = 0
        self._waited = 0.0
        after = (call.params or {}).get("after")
        if after is not None:
            self.decoder.last_event_id = str(after)

    @property
    def last_event_id(self) -> str | None:
        return self.decoder.last_event_id

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request | None:
        params = {k: _query_value(v) for k, v in (self.call.params or {}).items() if v is not None}
        params.pop("after", None)  # Last-Event-ID carries the resume point from here on
        if self._deadline != math.inf:
            left = self._deadline - time.monotonic()
            if left <= 0:
                return None
            params["timeout"] = round(min(max(left, _MIN_STREAM_SECONDS), _MAX_STREAM_SECONDS), 3)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.decoder.last_event_id:
            headers["Last-Event-ID"] = self.decoder.last_event_id
        configured = http.timeout
        timeout = httpx.Timeout(
            configured.connect,
            read=max(configured.read or 0.0, STREAM_READ_TIMEOUT),
            write=configured.write,
            pool=configured.pool,
        )
        return http.build_request(
            "GET", self.call.prefix + self.call.path, params=params, headers=headers, timeout=timeout
        )

    def opened(self) -> None:
        """A connection was answered with the stream (2xx)."""
        self._opened = True

    def line(self, text: str) -> Event | None:
        message = self.decoder.feed(text)
        if message is None or not message.data:
            return None
        self._failures = 0
        self._waited = 0.0
        return event_of(message)

    def refused(self, response: httpx.Response) -> float:
        """The wait before trying again after an error answer; raises it when it is final."""
        self._failures += 1
        final = self.first_refusal_is_final and not self._opened
        pause = None if final else self.policy.delay(self._failures, response, self._waited)
        if pause is None:
            raise_for_problem(response)
            raise ApiError(response.status_code, _problem(response))  # only error answers come here
        self._waited += pause
        return pause

    def dropped(self, error: Exception | None) -> float | None:
        """The wait before reconnecting after the connection ended (`error` None: the server
        closed it), or None when the deadline has passed."""
        if time.monotonic() >= self._deadline:
            return None
        self._failures += 1
        if self._failures >= self.policy.max_attempts and error is not None:
            raise ConnectionFailed(
                f"the event stream failed {self._failures} times in a row: {type(error).__name__}: {error}"
            ) from error
        hint = (self.decoder.retry_ms or 0) / 1000
        pause = max(hint, self.policy.backoff(self._failures)) if self._failures > 1 else hint
        pause = max(pause, self.policy.base_delay / 2)
        return min(pause, max(0.0, self._deadline - time.monotonic()))
