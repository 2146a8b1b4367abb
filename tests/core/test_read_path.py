"""The read path (issue 16): an item read in one statement, ETags and 304s, the in-process cache
of public responses and what evicts it, and readers that get no session cookie."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select
from starlette.routing import Match

from openxiv.accounts import service as accounts
from openxiv.app import API_ROUTERS
from openxiv.db import make_hot_reader
from openxiv.errors import NotFound
from openxiv.http.caching import CachedResponse, ResponseCache, etag_matches
from openxiv.models import Submission, SubmissionVersion
from openxiv.models.publishing import Doi
from openxiv.publishing.presenters import api_link_header, link_header
from openxiv.publishing.service import Site, citation_for
from openxiv.runtime import Runtime
from openxiv.submissions import presenters, service
from openxiv.submissions.lifecycle import Status
from tests.core.helpers import auth, paper_body, recorded_statements, register


def counted(runtime: Any) -> Any:
    return recorded_statements(*runtime.engines)


def _published(
    client: Any, title: str = "Warm-up and batch size", token: str | None = None
) -> tuple[str, str]:
    token = token or register(client)["key"]["token"]
    created = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(title=title))
    assert created.status_code == 201, created.text
    identifier = created.json()["id"]
    return identifier, token


def _wait_for(condition: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_an_item_read_is_one_statement_and_never_loads_the_text(client: Any, runtime: Any) -> None:
    identifier, _ = _published(client)
    runtime_cache = client.app.state.response_cache
    runtime_cache.clear()
    with counted(runtime) as statements:
        first = client.get(f"/api/v1/submissions/{identifier}")
    assert first.status_code == 200
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The item with its version, authors, files and registered DOIs (the Link header's).
    assert len(selects) == 1, selects
    assert "FROM submissions" in selects[0] and "FROM dois" in selects[0]
    # A reader runs without a transaction on both databases.
    assert not any(s.lstrip().upper().startswith(("BEGIN", "ROLLBACK")) for s in statements)
    assert not any("submission_versions.extracted_text AS" in s for s in statements)
    assert first.json()["version"]["text_characters"] > 100  # still reported, counted by the database


def test_the_plain_item_read_shows_what_the_mapped_read_shows(client: Any, runtime: Any) -> None:
    """`find_record` (the item's JSON) against `find_version` (everything else): the same JSON and
    the same Link header for the latest and a pinned version, the same registered DOIs (a pending
    one is not cited), and the same NotFound for a version that does not exist."""
    identifier, _ = _published(client)
    with runtime.write_sessions() as session, session.begin():
        submission = session.scalar(select(Submission).where(Submission.identifier == identifier))
        assert submission is not None
        first = session.scalar(
            select(SubmissionVersion).where(SubmissionVersion.submission_id == submission.id)
        )
        assert first is not None
        session.add(
            SubmissionVersion(
                submission_id=submission.id,
                number=2,
                title="Warm-up and batch size, revised",
                abstract="Second version.",
                meta=first.meta,
                source_format=first.source_format,
                source_sha256=first.source_sha256,
                extracted_text="text of the second version",
                response_letter="We reran every ablation.",
                created_by_account_id=first.created_by_account_id,
            )
        )
        submission.latest_version = 2
        for number, state in ((1, "registered"), (2, "pending"), (None, "registered")):
            suffix = f"v{number}" if number else ""
            session.add(
                Doi(
                    submission_id=submission.id,
                    version_number=number,
                    doi=f"10.5072/openxiv.{identifier}{suffix}",
                    state=state,
                    registrar="local",
                )
            )
    owner = runtime.read_sessions().scalar(
        select(Submission.owner_id).where(Submission.identifier == identifier)
    )
    site = Site.from_settings(runtime.settings)
    with runtime.read_sessions() as session:
        viewer = accounts.session_principal(session, owner)
        for name in (identifier, f"{identifier}v1", f"{identifier}v2"):
            for who in (None, viewer):
                mapped = service.find_version(session, name, who)
                plain = service.find_record(session, name, who)
                assert presenters.submission_out(session, plain.submission, plain.version, who) == (
                    presenters.submission_out(session, mapped.submission, mapped.version, who)
                )
                assert api_link_header(plain, site) == link_header(citation_for(session, mapped, site))
        latest = service.find_record(session, identifier, None)
        assert (latest.version.number, latest.version_doi) == (2, None)  # pending: not cited
        assert latest.concept_doi == f"10.5072/openxiv.{identifier}"
        pinned = service.find_record(session, f"{identifier}v1", None)
        assert pinned.version_doi == f"10.5072/openxiv.{identifier}v1"
        assert [a.position for a in pinned.version.authors] == sorted(
            a.position for a in pinned.version.authors
        )
        assert pinned.version.authors and pinned.version.source_blob is not None
        for find in (service.find_version, service.find_record):
            with pytest.raises(NotFound, match="has no v3"):
                find(session, f"{identifier}v3", None)
            with pytest.raises(NotFound, match="no submission"):
                find(session, "2001.99999", None)


def test_no_api_path_is_taken_by_a_router_tried_before_its_own() -> None:
    """The API routers are tried in order, the most requested first (`app.API_ROUTERS`): moving
    one forward must not let its paths take another router's (`/submissions/{identifier}`
    must not answer `/submissions/queue`)."""
    checked = 0
    for position, router in enumerate(API_ROUTERS):
        earlier = [route for before in API_ROUTERS[:position] for route in before.routes]
        for route in router.routes:
            sample = re.sub(r"\{[^}]+\}", "2501.00001", route.path)  # type: ignore[attr-defined]
            for method in route.methods or ():  # type: ignore[attr-defined]
                scope = {"type": "http", "path": sample, "method": method, "root_path": ""}
                taken = [r.path for r in earlier if r.matches(scope)[0] == Match.FULL]  # type: ignore[attr-defined]
                assert not taken, f"{method} {route.path} is taken by {taken}"  # type: ignore[attr-defined]
                checked += 1
    assert checked > 50  # every API route with each of its methods


def _threads_that_read(runtime: Any, client: Any, path: str) -> set[str]:
    names: set[str] = set()

    def record(*_: Any) -> None:
        names.add(threading.current_thread().name)

    for engine in runtime.engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        for engine in runtime.engines:
            event.remove(engine, "before_cursor_execute", record)
    return names


def test_hot_reads_run_on_the_event_loop_only_where_a_read_never_waits(
    client: Any, runtime: Any, db_backend: str
) -> None:
    identifier, _ = _published(client)
    client.app.state.response_cache.clear()
    item_threads = _threads_that_read(runtime, client, f"/api/v1/submissions/{identifier}")
    page_threads = _threads_that_read(runtime, client, "/api/v1/submissions?limit=5")
    # A filter no index serves may scan: never on the loop.
    scan_threads = _threads_that_read(runtime, client, "/api/v1/submissions?limit=5&author=Ada")
    workers = {name for name in item_threads | page_threads | scan_threads if name.startswith("AnyIO worker")}
    if db_backend == "sqlite":  # WAL: on the loop (TestClient's portal thread), no hand-off
        assert not any(name.startswith("AnyIO worker") for name in item_threads | page_threads)
        assert workers == scan_threads
    else:  # PostgreSQL waits on the network: worker threads only
        assert runtime.hot_reader is not None and not runtime.hot_reader.on_loop
        assert workers == item_threads | page_threads | scan_threads


def test_a_read_on_the_loop_does_not_wait_for_a_writer_holding_the_lock(
    client: Any, runtime: Any, db_backend: str, database_url: str
) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite's write lock")
    identifier, _ = _published(client)
    client.app.state.response_cache.clear()
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE submissions SET title = 'not yet committed'")
        # Under WAL the read sees the last commit at once; without it, it would wait for the lock
        # (the busy timeout, 10 s) and fail.
        answer = client.get(f"/api/v1/submissions/{identifier}")
        assert answer.status_code == 200 and answer.json()["title"] != "not yet committed"
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_only_sqlite_under_wal_reads_on_the_loop(tmp_path: Any) -> None:
    # Not WAL: reads would wait for writers, so they keep the app's engine, on threads.
    assert make_hot_reader("sqlite:///:memory:", threads=4, on_loop=True) is None
    assert make_hot_reader(f"sqlite:///{tmp_path / 'off.db'}", threads=4, on_loop=False) is None
    reader = make_hot_reader(f"sqlite:///{tmp_path / 'wal.db'}", threads=4, on_loop=True)
    assert reader is not None and reader.on_loop
    try:
        # A checkout on the loop must never wait: the pool may always open one more.
        held = [reader.engine.connect() for _ in range(3)]
        assert all(not c.closed for c in held)
        for connection in held:
            connection.close()
    finally:
        reader.engine.dispose()


def test_postgres_hot_reads_have_a_connection_per_thread_in_autocommit_from_the_start(
    runtime: Any, db_backend: str
) -> None:
    reader = make_hot_reader("postgresql://localhost/none", threads=3, on_loop=True)
    assert reader is not None and not reader.on_loop  # its reads wait on the network
    assert reader.engine.pool.size() == 3  # type: ignore[attr-defined]  # one per hot-read thread
    reader.engine.dispose()  # no connection was even tried
    if db_backend != "postgres":
        return
    sessions = runtime.hot_read_sessions
    assert sessions is not None and sessions.kw["bind"] is runtime.hot_reader.engine  # no switching
    statements: list[str] = []
    event.listen(runtime.hot_reader.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with sessions() as session:
        assert session.connection().connection.driver_connection.autocommit
        assert session.execute(select(Submission.id).limit(1)).all() is not None
    assert not any(s.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "SET")) for s in statements)


def test_reads_stay_on_threads_when_turned_off(settings: Any, db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("only SQLite reads on the loop")
    runtime = Runtime(
        settings.model_copy(update={"http": settings.http.model_copy(update={"reads_on_loop": False})})
    )
    try:
        assert runtime.hot_reader is None and runtime.engines == [runtime.engine]
    finally:
        runtime.close()


def test_public_reads_carry_etags_answer_304_and_come_from_memory(client: Any, runtime: Any) -> None:
    identifier, _ = _published(client)
    first = client.get(f"/api/v1/submissions/{identifier}")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert "x-openxiv-cache-group" not in first.headers
    with counted(runtime) as statements:
        again = client.get(f"/api/v1/submissions/{identifier}")
        revalidated = client.get(f"/api/v1/submissions/{identifier}", headers={"If-None-Match": etag})
        listed = client.get(
            f"/api/v1/submissions/{identifier}", headers={"If-None-Match": f'"other", W/{etag}'}
        )
    assert again.content == first.content and again.headers["etag"] == etag
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == etag and "link" in revalidated.headers
    assert listed.status_code == 304
    assert statements == []  # all three answered without the database
    client.app.state.response_cache.clear()
    with counted(runtime) as statements:
        assert client.get(f"/api/v1/submissions/{identifier}").status_code == 200
    assert statements  # the recorder does see the reads it must not see above


def test_a_status_change_shows_at_once_and_from_another_process_soon(
    client: Any, runtime: Any, settings: Any
) -> None:
    identifier, token = _published(client)
    etag = client.get(f"/api/v1/submissions/{identifier}").headers["etag"]
    withdrawn = client.post(
        f"/api/v1/submissions/{identifier}/withdraw",
        headers=auth(token),
        json={"reason": "a flaw in the proof"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # Withdrawn items stay public; the cached answer is gone the moment the change commits.
    after = client.get(f"/api/v1/submissions/{identifier}", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.json()["status"] == Status.WITHDRAWN.value

    # A change committed by another process (a worker) reaches this one through the event outbox.
    other_id, _ = _published(client, title="A second item", token=token)
    cached = client.get(f"/api/v1/submissions/{other_id}").json()
    other = Runtime(settings)
    try:
        with other.write_sessions.begin() as session:
            submission = service.get_submission(session, other_id, None)
            service.transition(
                session, submission, Status.WITHDRAWN, service.SystemActor("test"), "withdrawn elsewhere"
            )
    finally:
        other.close()
    assert cached["status"] != Status.WITHDRAWN.value
    assert _wait_for(
        lambda: client.get(f"/api/v1/submissions/{other_id}").json()["status"] == Status.WITHDRAWN.value
    )


def test_signed_in_readers_are_never_served_shared_answers(client: Any) -> None:
    identifier, token = _published(client)
    public = client.get(f"/api/v1/submissions/{identifier}")
    assert public.json()["version"]["screening"] is None
    owner = client.get(f"/api/v1/submissions/{identifier}", headers=auth(token))
    assert owner.json()["version"]["screening"] is not None  # the owner's own view, not the cached one
    assert owner.headers["cache-control"] == "private, no-store"


def test_listings_and_pages_are_public_for_readers_without_a_session(client: Any) -> None:
    identifier, _ = _published(client)
    client.cookies.clear()
    listing = client.get("/api/v1/submissions?limit=5")
    assert listing.headers["cache-control"].startswith("public") and "etag" in listing.headers
    page = client.get(f"/abs/{identifier}")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert page.headers["cache-control"].startswith("public") and "etag" in page.headers
    home = client.get("/")
    assert "set-cookie" not in home.headers and home.headers["cache-control"].startswith("public")
    # A new item shows in the next listing (every recorded change evicts the listings).
    token = register(client, email="grace@example.org")["key"]["token"]
    client.post("/api/v1/submissions", headers=auth(token), json=paper_body(title="Brand new"))
    client.cookies.clear()
    titles = [i["title"] for i in client.get("/api/v1/submissions?limit=5").json()["items"]]
    assert "Brand new" in titles


def test_pinned_files_are_immutable_and_revalidate(client: Any) -> None:
    identifier, _ = _published(client)
    pdf = client.get(f"/api/v1/submissions/{identifier}v1/source")
    assert pdf.status_code == 200
    assert pdf.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get(
        f"/api/v1/submissions/{identifier}v1/source", headers={"If-None-Match": pdf.headers["etag"]}
    )
    assert again.status_code == 304


# ------------------------------------------------------------------------------ the cache itself


def _entry(group: str, body: bytes = b"x") -> CachedResponse:
    return CachedResponse(
        status=200, headers=(), body=body, etag='"e"', group=group, stored_at=time.monotonic()
    )


def test_cache_is_bounded_by_entries_and_bytes_and_evicts_by_group() -> None:
    cache = ResponseCache(entries=3, ttl_s=60, max_bytes=10)
    for key in "abcd":
        assert cache.put(key, _entry("g1" if key in "ab" else "g2"), computed_at_generation=cache.generation)
    assert cache.get("a") is None and len(cache) == 3  # the least recently used went first
    cache.put("big", _entry("g3", b"123456789"), computed_at_generation=cache.generation)
    # 1 + 1 + 1 + 9 bytes exceed 10: the oldest go until the rest fit.
    assert len(cache) == 2 and cache.get("big") is not None and cache.get("d") is not None
    cache.evict_group("g2")
    assert cache.get("d") is None and cache.get("big") is not None


def test_an_answer_computed_before_an_eviction_is_not_kept() -> None:
    cache = ResponseCache(entries=10, ttl_s=60)
    started = cache.generation
    cache.evict_group("g")  # the item changed while the answer was being computed
    assert not cache.put("k", _entry("g"), computed_at_generation=started)
    assert cache.get("k") is None


def test_entries_expire() -> None:
    cache = ResponseCache(entries=10, ttl_s=0.01)
    cache.put("k", _entry("g"), computed_at_generation=cache.generation)
    time.sleep(0.02)
    assert cache.get("k") is None


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"a"', True),
        ('W/"a"', True),
        ('"b", "a"', True),
        ("*", True),
        ('"b"', False),
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_uses_weak_comparison(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"a"') is matches
