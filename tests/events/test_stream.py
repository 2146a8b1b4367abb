"""The event stream read by a plain HTTP client from a served app: the SSE wire format, resuming
with Last-Event-ID, the filters, what held items hide, keep-alives, slow clients and shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from openxiv.db import make_engine, transaction
from openxiv.events import service as events
from openxiv.events import types
from openxiv.events.settings import EventSettings
from openxiv.events.stream import EventHub, StreamFilter
from openxiv.models import Base
from openxiv.runtime import Runtime
from openxiv.submissions import repository
from tests.core.helpers import auth, register
from tests.events.conftest import Site, StreamReader, read_stream, serve_site, site_settings
from tests.mcp.conftest import free_port

PIPELINE = [
    (types.STATUS_CHANGED, "submitted"),
    (types.STATUS_CHANGED, "screening"),
    (types.VERSION_SCREENED, None),
    (types.STATUS_CHANGED, "under_review"),
]


def steps(received: list[Any]) -> list[tuple[str | None, str | None]]:
    return [(e.event, e.data["payload"].get("status") if e.data else None) for e in received]


def test_a_subscriber_receives_each_event_with_id_type_and_document(site: Site) -> None:
    reader = StreamReader(site.url).start()
    identifier = site.submit(site.tokens["owner"])
    reader.wait_for(lambda got: len(got) >= 4, "the pipeline's four events")

    assert reader.status_code == 200 and reader.content_type.startswith("text/event-stream")
    assert steps(reader.events) == PIPELINE
    ids = [e.id or 0 for e in reader.events]
    assert ids == sorted(ids) and len(set(ids)) == 4 and 0 not in ids
    first = reader.events[0].data
    assert first is not None
    assert first["id"] == ids[0] and first["type"] == types.STATUS_CHANGED
    assert first["submission"] == identifier and first["version"] == 1
    assert first["payload"] == {"previous": None, "status": "submitted", "reason": "first version submitted"}
    assert first["created_at"].endswith("+00:00")


def test_last_event_id_resumes_after_that_event(site: Site) -> None:
    identifier = site.submit(site.tokens["owner"])
    everything = read_stream(site.url, after=0, timeout=1)
    ids = [e.id for e in everything.events]
    assert len(ids) == 4

    resumed = read_stream(site.url, timeout=1, headers={"Last-Event-ID": str(ids[1])})
    assert [e.id for e in resumed.events] == ids[2:]
    assert read_stream(site.url, after=ids[2], timeout=1).events[0].id == ids[3]
    # A browser reconnects on the URL it first opened: the header wins over ?after=.
    both = read_stream(site.url, after=0, timeout=1, headers={"Last-Event-ID": str(ids[2])})
    assert [e.id for e in both.events] == ids[3:]

    # Resuming catches up from the table, then goes on live, without a gap or a repeat.
    reader = StreamReader(site.url, headers={"Last-Event-ID": str(ids[1])}).start()
    site.withdraw(site.tokens["owner"], identifier)
    reader.wait_for(lambda got: len(got) >= 3, "the catch-up and the withdrawal")
    assert [e.id for e in reader.events][:2] == ids[2:]
    assert steps(reader.events)[2] == (types.STATUS_CHANGED, "withdrawn")

    bad = site.http.get("/api/v1/events", headers={"Last-Event-ID": "yesterday"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_filters_by_submission_owner_and_type(site: Site) -> None:
    owner, other = site.tokens["owner"], site.tokens["other"]
    mine = site.submit(owner)
    theirs = site.submit(other)
    everything = read_stream(site.url, after=0, timeout=1)
    assert {e.data["submission"] for e in everything.events if e.data} == {mine, theirs}

    only_mine = read_stream(site.url, after=0, timeout=1, submission=mine)
    assert {e.data["submission"] for e in only_mine.events if e.data} == {mine}
    assert len(only_mine.events) == 4
    version_one = read_stream(site.url, after=0, timeout=1, submission=f"{theirs}v1")
    assert {e.data["submission"] for e in version_one.events if e.data} == {theirs}

    owned = read_stream(site.url, after=0, timeout=1, mine="true", headers=auth(other))
    assert {e.data["submission"] for e in owned.events if e.data} == {theirs}

    typed = read_stream(site.url, after=0, timeout=1, type=[types.VERSION_SCREENED, types.VERSION_HELD])
    assert [e.event for e in typed.events] == [types.VERSION_SCREENED, types.VERSION_SCREENED]
    by_prefix = read_stream(site.url, after=0, timeout=1, type="version.*")
    assert [e.id for e in by_prefix.events] == [e.id for e in typed.events]

    assert site.http.get("/api/v1/events", params={"mine": "true"}).status_code == 401
    unknown_type = site.http.get("/api/v1/events", params={"type": "paper.liked"})
    assert unknown_type.status_code == 422 and "paper.liked" in unknown_type.json()["detail"]
    assert site.http.get("/api/v1/events", params={"submission": "2001.99999"}).status_code == 404
    assert site.http.get("/api/v1/events", params={"submission": "not-an-id"}).status_code == 422


def test_events_of_held_items_reach_only_those_who_may_see_them(site: Site) -> None:
    owner, other = site.tokens["owner"], site.tokens["other"]
    anonymous = StreamReader(site.url).start()
    stranger = StreamReader(site.url, headers=auth(other)).start()
    author = StreamReader(site.url, headers=auth(owner)).start()
    held = site.submit_held(owner)
    public = site.submit(owner)

    author.wait_for(lambda got: sum(e.data["submission"] == public for e in got if e.data) == 4, "all")
    anonymous.wait_for(lambda got: sum(e.data["submission"] == public for e in got if e.data) == 4, "public")
    stranger.wait_for(lambda got: sum(e.data["submission"] == public for e in got if e.data) == 4, "public")
    held_for_author = [e.event for e in author.events if e.data and e.data["submission"] == held]
    assert types.VERSION_HELD in held_for_author
    for outsider in (anonymous, stranger):
        # Visibility is decided when an event is sent: before screening held it, the item was
        # public (as in the listing); nothing of the hold itself, or after it, reaches outsiders.
        seen = [steps([e])[0] for e in outsider.events if e.data and e.data["submission"] == held]
        assert set(seen) <= {(types.STATUS_CHANGED, "submitted"), (types.STATUS_CHANGED, "screening")}
    # Replays follow the same rule, and a held item cannot be named as a filter by outsiders.
    assert held not in {
        e.data["submission"] for e in read_stream(site.url, after=0, timeout=1).events if e.data
    }
    assert (
        site.http.get("/api/v1/events", params={"submission": held}, headers=auth(other)).status_code == 404
    )
    mine = read_stream(site.url, after=0, timeout=1, submission=held, headers=auth(owner))
    assert types.VERSION_HELD in [e.event for e in mine.events]


def test_keep_alive_comments_and_a_bounded_stream(tmp_path: Path) -> None:
    for site in serve_site(tmp_path / "site", events={"stream_keepalive_s": 0.2}):
        started = time.monotonic()
        quiet = read_stream(site.url, timeout=1.0)
        assert 0.9 < time.monotonic() - started < 10
        assert quiet.events == [] and quiet.comments.count("keep-alive") >= 3


def test_a_client_that_falls_behind_is_cut_off_and_resumes(tmp_path: Path) -> None:
    """Bounded queues: a subscriber that does not read loses its place, not the server's memory;
    it ends with a comment saying so and resumes from the last id it got."""
    settings = site_settings(tmp_path)
    Base.metadata.create_all(make_engine(settings.database_url))
    runtime = Runtime(settings)
    hub = EventHub(runtime.read_sessions, EventSettings(stream_queue_size=10, stream_poll_interval_s=0.05))

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        stream = hub.subscribe(StreamFilter(), None, None)
        assert (await anext(stream)).startswith(b"retry:")  # subscribed, and not reading
        with transaction(runtime.write_sessions) as session:
            for n in range(30):
                events.record(session, types.STAGE_FAILED, reason=f"event {n}")
        await asyncio.sleep(1.0)  # the poller hands out all 30 meanwhile
        first = [frame async for frame in stream]
        last_id = max(int(f.split(b"\n")[0].removeprefix(b"id: ")) for f in first if f.startswith(b"id:"))
        rest = [frame async for frame in hub.subscribe(StreamFilter(), None, last_id, timeout_s=1.0)]
        await hub.close()
        return first, rest

    first, rest = asyncio.run(scenario())
    runtime.close()
    delivered = [f for f in first if f.startswith(b"id:")]
    assert len(delivered) == 10 and first[-1].startswith(b": too far behind")
    resumed = [f for f in rest if f.startswith(b"id:")]
    assert len(resumed) == 20


def test_open_streams_do_not_hold_request_threads(site: Site) -> None:
    """More open streams than the server's threadpool has threads (40), and requests still pass."""
    readers = [StreamReader(site.url).start() for _ in range(50)]
    started = time.monotonic()
    assert site.http.get("/api/v1/submissions").status_code == 200
    assert time.monotonic() - started < 5
    identifier = site.submit(site.tokens["owner"])
    for reader in readers:
        reader.wait_for(lambda got: len(got) >= 4, "the events")
    with site.runtime.read_sessions() as session:
        assert repository.by_identifier(session, identifier) is not None


def test_a_stopping_server_ends_its_streams(tmp_path: Path) -> None:
    """SIGTERM to `openxiv serve`: the server waits for open responses before it stops, so the
    streams end themselves (with a comment) and the process exits promptly."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENXIV_")}
    env.update(
        {
            "OPENXIV_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "OPENXIV_STORAGE__ROOT": str(tmp_path / "blobs"),
            "OPENXIV_QUEUE__URL": "immediate",
            "OPENXIV_REVIEW__ENABLED": "false",
            "OPENXIV_MODE": "dev",
            "OPENXIV_SECRET_KEY": "events-serve-test-secret-0123456789abcdef",
            "OPENXIV_LITERATURE__INDEX_DIR": str(tmp_path / "index"),
        }
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "openxiv.cli", "serve", "--port", str(port), "--no-access-log"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v1/submissions", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start: " + (tmp_path / "server.log").read_text())
        token = register(httpx.Client(base_url=url))["key"]["token"]
        readers = [StreamReader(url, headers=auth(token)).start() for _ in range(3)]
        process.send_signal(signal.SIGTERM)
        for reader in readers:
            assert reader.ended.wait(15), "a stream stayed open after SIGTERM"
            assert reader.error is None and any("stopping" in c for c in reader.comments)
        # uvicorn raises the captured signal again once it has shut down cleanly.
        assert process.wait(15) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in (tmp_path / "server.log").read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_a_full_server_asks_new_subscribers_to_come_back(tmp_path: Path) -> None:
    for site in serve_site(tmp_path / "site", events={"stream_max_subscribers": 2}):
        open_streams = [StreamReader(site.url).start() for _ in range(2)]
        refused = site.http.get("/api/v1/events")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "5"
        site.app.state.event_hub.stop_streams()
        for reader in open_streams:
            assert reader.ended.wait(15)
        deadline = time.monotonic() + 15
        while site.app.state.event_hub.subscriber_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        # Ended streams leave room, and the hub goes on serving new ones.
        reader = StreamReader(site.url).start()
        identifier = site.submit(site.tokens["owner"])
        reader.wait_for(lambda got: len(got) >= 4, "the events of a new paper")
        assert {e.data["submission"] for e in reader.events if e.data} == {identifier}


def test_an_event_committed_after_a_later_one_is_still_sent(
    db_backend: str, database_url: str, engine: Any, tmp_path: Path
) -> None:
    """PostgreSQL hands out ids before commit: a transaction holding id N can commit after N+1 was
    read. The poller looks for the missing id again and sends it late, once."""
    if db_backend != "postgres":
        pytest.skip("SQLite serialises writers: ids commit in order")
    runtime = Runtime(site_settings(tmp_path, database_url=database_url))
    hub = EventHub(runtime.read_sessions, EventSettings(stream_poll_interval_s=0.05))

    async def scenario() -> list[int]:
        with transaction(runtime.write_sessions) as session:
            events.record(session, types.STAGE_FAILED, reason="before")  # the poller's head is past 0
        stream = hub.subscribe(StreamFilter(), None, None, timeout_s=3.0)
        assert (await anext(stream)).startswith(b"retry:")
        slow = runtime.write_sessions()
        events.record(slow, types.STAGE_FAILED, reason="slow")
        slow.flush()  # takes its id now, commits later
        with transaction(runtime.write_sessions) as session:
            events.record(session, types.STAGE_FAILED, reason="fast")
        await asyncio.sleep(0.5)  # the poller reads "fast" and notes the missing id
        slow.commit()
        slow.close()
        frames = [frame async for frame in stream]
        await hub.close()
        return [int(f.split(b"\n")[0].removeprefix(b"id: ")) for f in frames if f.startswith(b"id:")]

    received = asyncio.run(scenario())
    runtime.close()
    assert len(received) == 2 and received[0] == received[1] + 1  # "fast", then the late "slow"
