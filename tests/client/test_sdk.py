"""The Python client against a real `openxiv serve` process (SQLite, immediate queue, the
deterministic `test` model), plus a small loopback HTTP server for the retry behaviour that a
healthy server never shows (429 with Retry-After, 503)."""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import itertools
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from openxiv.client import (
    ApiError,
    AsyncOpenXivClient,
    ConnectionFailed,
    Forbidden,
    IdempotencyKeyReused,
    IllegalTransition,
    NotFound,
    OpenXivClient,
    PollSchedule,
    RateLimited,
    RetryPolicy,
    ServerError,
    StatusUnreachable,
    Unauthenticated,
    ValidationFailed,
    WaitTimeout,
    calls,
    models,
    webhooks,
)
from openxiv.client.core import EventStream, ServerSentEvent, SSEDecoder, retry_after_seconds
from tests.core.helpers import paper_body, pdf_bytes, proposal_body
from tests.core.processes import Instance, serve

FAST = RetryPolicy(base_delay=0.05, max_delay=0.2)
QUICK_POLL = PollSchedule(initial=0.1, factor=1.5, ceiling=0.5)


# ----------------------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Instance, str]]:
    instance = Instance(tmp_path_factory.mktemp("sdk") / "site", queue_url="immediate")
    try:
        yield instance, serve(instance, with_worker=False)
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def server(site: tuple[Instance, str]) -> str:
    return site[1]


@pytest.fixture(scope="module")
def token(server: str) -> str:
    with OpenXivClient(server) as anonymous:
        registered = anonymous.register("sdk@example.org", "correct horse battery", "Ada Example")
    assert isinstance(registered, models.Registration)
    assert registered.key.token.startswith("oxk_") and registered.key.scopes == ["read", "submit"]
    return registered.key.token


@pytest.fixture
def client(server: str, token: str) -> Iterator[OpenXivClient]:
    with OpenXivClient(server, token, retry=FAST) as client:
        yield client


@pytest.fixture(scope="module")
def reviewed(server: str, token: str) -> str:
    """One paper whose pipeline (screening, review, vote) has run."""
    with OpenXivClient(server, token) as client:
        item = client.create_submission(paper_body(title="Reviewed through the SDK"))
        settled = client.wait_for(item.id, timeout=300, poll=QUICK_POLL)
    assert settled.status in models.SETTLED_STATUSES
    return settled.id


def test_create_fetch_and_iterate_pages(client: OpenXivClient) -> None:
    me = client.me()
    assert me.account.email == "sdk@example.org" and "submit" in me.scopes
    upload = client.upload(pdf_bytes("Paged"), filename="paged.pdf")
    assert isinstance(upload, models.Upload) and upload.media_type == "application/pdf"
    created = [
        client.create_submission(paper_body(title="Paged A")),
        client.create_submission(paper_body(title="Paged B", source=None, pdf_sha256=upload.sha256)),
        client.create_submission(proposal_body(title="Paged C")),
    ]
    assert [c.version.identifier for c in created] == [f"{c.id}v1" for c in created]
    assert created[1].version.pdf is not None and created[1].version.pdf.sha256 == upload.sha256
    assert created[2].kind == "proposal" and created[2].version.proposal is not None

    fetched = client.get(created[0].id)
    assert isinstance(fetched, models.Submission)
    assert fetched.id == created[0].id and fetched.version.title == "Paged A"
    assert fetched.version.authors[0].name == "Ada Example"
    assert [v.version for v in client.versions(created[0].id)] == [1]
    assert "Warm-up" in client.text(created[0].id)
    assert client.pdf(created[1].id).startswith(b"%PDF")

    first = client.list_submissions(limit=2)
    assert len(first.items) == 2 and first.next_cursor
    second = client.list_submissions(limit=2, cursor=first.next_cursor)
    assert {i.id for i in first.items}.isdisjoint(i.id for i in second.items)

    every = list(client.iter_submissions(page_size=2))
    ids = [i.id for i in every]
    assert len(ids) == len(set(ids)), "a page boundary repeated an item"
    ours = [c.id for c in reversed(created)]  # newest first
    assert [i for i in ids if i in ours] == ours
    proposals = [i.id for i in client.iter_submissions(kind="proposal", page_size=1)]
    assert created[2].id in proposals and created[0].id not in proposals


def test_typed_reviews_after_the_pipeline(client: OpenXivClient, reviewed: str) -> None:
    stages = {s.stage: s.state for s in client.stages(reviewed)}
    assert stages == {"screening": "completed", "review": "completed", "vote": "completed"}
    log = client.transitions(reviewed)
    assert [t.to_status for t in log][:3] == ["submitted", "screening", "under_review"]
    assert all(isinstance(t.at, datetime) for t in log)

    reviews = client.reviews(f"{reviewed}v1")
    meta = reviews.meta_review
    assert meta is not None and meta.mode == "meta" and meta.status == "completed"
    assert meta.sub_reviews and all(isinstance(s, models.SubReview) for s in meta.sub_reviews)
    assert client.meta_review(reviewed) == meta
    panels = client.vote_panels(reviewed)
    assert len(panels) == 1 and len(panels[0].votes) == 5
    assert panels[0].accept_count == sum(v.decision == "accept" for v in panels[0].votes)
    assert client.pairwise(reviewed) == []  # one version: nothing to compare yet
    trajectory = client.trajectory(reviewed)
    assert [p.version_number for p in trajectory] == [1]

    llm_calls = list(client.iter_llm_calls(reviewed, page_size=3))
    assert len(llm_calls) >= 1 + 3 + 1 + 5  # plan, reviewers, synthesis, panel seats
    assert [c.id for c in llm_calls] == sorted({c.id for c in llm_calls})

    report = client.integrity(reviewed)
    assert report.action in {"pass", "note", "hold"} and report.char_count > 0
    summary = report.summary()
    assert summary["action"] == report.action and "visible_text" not in summary

    found = client.search_literature("warm-up batch size")
    assert isinstance(found, models.LiteratureResults) and found.query


def test_problems_become_typed_exceptions(server: str, client: OpenXivClient) -> None:
    with pytest.raises(NotFound) as missing:
        client.get("2611.99999")
    assert missing.value.status == 404 and missing.value.slug == "not-found"
    assert missing.value.problem["instance"].endswith("2611.99999")

    with (
        OpenXivClient(server, "oxk_0000_not-a-key", retry=FAST) as stranger,
        pytest.raises(Unauthenticated) as who,
    ):
        stranger.me()
    assert who.value.status == 401

    read_only = client.issue_key(["read"], name="reader")
    assert read_only.scopes == ["read"]
    with OpenXivClient(server, read_only.token, retry=FAST) as reader, pytest.raises(Forbidden) as refused:
        reader.create_submission(paper_body())
    assert refused.value.status == 403

    with pytest.raises(ValidationFailed) as invalid:
        client.create_submission({"kind": "paper", "title": "no authors"})
    assert invalid.value.status == 422 and invalid.value.errors
    assert {tuple(e["loc"])[-1] for e in invalid.value.errors} >= {"authors"}

    item = client.create_submission(paper_body(title="Withdrawn twice"))
    assert client.withdraw(item.id, "changed my mind").status == "withdrawn"
    with pytest.raises(IllegalTransition) as again:
        client.withdraw(item.id, "twice")
    assert again.value.status == 409 and isinstance(again.value, ApiError)


def test_agents_and_keys(server: str, client: OpenXivClient) -> None:
    agent = client.create_agent("Scout", "det-1 via the test provider", "Example Lab", "reads papers")
    assert isinstance(agent, models.Agent) and agent in client.agents()
    assert client.agent(agent.id) == agent
    issued = client.issue_key(["read", "submit"], name="scout", agent_id=agent.id)
    assert issued.agent_id == agent.id and issued.token.startswith(f"oxk_{issued.prefix}_")
    with OpenXivClient(server, issued.token, retry=FAST) as scout:
        assert scout.me().agent == agent
    assert issued.id in {k.id for k in client.api_keys()}
    assert client.revoke_key(issued.id).revoked_at is not None
    with OpenXivClient(server, issued.token, retry=FAST) as scout, pytest.raises(Unauthenticated):
        scout.me()
    with OpenXivClient(server, retry=FAST) as anonymous:
        by_password = anonymous.key_from_password(
            "sdk@example.org", "correct horse battery", scopes=["read"], name="pw"
        )
        assert by_password.scopes == ["read"] and by_password.name == "pw"
        with pytest.raises(Unauthenticated):
            anonymous.key_from_password("sdk@example.org", "wrong password, surely")


STAFF = ("staff@example.org", "a long staff password")


@pytest.fixture(scope="module")
def staff(site: tuple[Instance, str]) -> str:
    """A moderator who is also a reviewer (made with the command line, as an operator would)."""
    instance, url = site
    email, password = STAFF
    made = instance.openxiv(
        "user",
        "create",
        email,
        "--name",
        "Mo",
        "--role",
        "moderator",
        "--role",
        "reviewer",
        "--password",
        password,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return url


def _staff_key(url: str, *scopes: str) -> str:
    with OpenXivClient(url, retry=FAST) as anonymous:
        return anonymous.key_from_password(*STAFF, scopes=scopes).token


def test_the_moderation_queue_is_typed_and_guarded(staff: str, client: OpenXivClient) -> None:
    with OpenXivClient(staff, _staff_key(staff, "read", "moderate"), retry=FAST) as moderator:
        held = moderator.held(limit=10)
    assert isinstance(held, list) and all(isinstance(h, models.HeldVersion) for h in held)
    with pytest.raises(Forbidden):
        client.held()
    with pytest.raises(Forbidden):
        client.moderate(client.create_submission(paper_body(title="Not held")).id, "reject", "no")


def test_a_report_a_hide_and_an_appeal(staff: str, client: OpenXivClient, reviewed: str) -> None:
    with OpenXivClient(staff, retry=FAST) as anonymous:
        reader_token = anonymous.register("reader@example.org", "another long password", "Rea Der").key.token
    with (
        OpenXivClient(staff, reader_token, retry=FAST) as reader,
        OpenXivClient(staff, _staff_key(staff, "read", "moderate"), retry=FAST) as moderator,
    ):
        spam = reader.comment(reviewed, "Buy cheap GPUs at example.com")
        filed = client.report_comment(spam.id, "spam", "an advert")
        assert isinstance(filed, models.Report) and filed.comment_id == spam.id and filed.status == "open"
        item_report = client.report(reviewed, "other", "testing the item report")
        assert item_report.submission == reviewed and item_report.comment_id is None

        queue = moderator.moderation_queue(["reports"])
        entry = next(e for e in queue if e.comment is not None and e.comment.id == spam.id)
        assert entry.kind == "reports" and [r.id for r in entry.reports] == [filed.id]
        hide = moderator.moderation_act("hide", "advertising", comment_id=spam.id)
        assert isinstance(hide, models.ModerationAction) and hide.action == "hide"
        assert client.get_comment(spam.id).hidden

        notice = next(n for n in reader.notices() if n.action_id == hide.id)
        assert notice.reason == "advertising" and notice.appeal is None
        appeal = reader.appeal(hide.id, "It was a joke among colleagues.")
        assert isinstance(appeal, models.Appeal) and appeal.status == "open"
        assert any(e.appeal and e.appeal.id == appeal.id for e in moderator.moderation_queue(["appeal"]))
        granted = moderator.decide_appeal(appeal.id, "grant", "fair enough")
        assert granted.status != "open" and granted.resolution
        assert not client.get_comment(spam.id).hidden

        log = list(moderator.iter_moderation_actions(comment_id=spam.id, page_size=1))
        assert hide.id in {a.id for a in log} and len(log) >= 2  # the hide and the restore
        with pytest.raises(Forbidden):
            client.moderation_queue()
        assert moderator.retry_dois(reviewed).requeued == 0  # nothing failed to register


def test_a_lost_answer_is_retried_with_the_same_key_and_creates_one_item(server: str, token: str) -> None:
    seen: list[str] = []

    class LoseFirstAnswer(httpx.BaseTransport):
        """Forwards to the real server, but drops the answer to the first write as if the
        connection broke after the server had acted."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":
                seen.append(request.headers["Idempotency-Key"])
            response = self.inner.handle_request(request)
            if request.method == "POST" and len(seen) == 1:
                response.read()
                raise httpx.ReadError("connection reset", request=request)
            return response

    title = "Sent once, answered twice"
    with OpenXivClient(server, token, retry=FAST, transport=LoseFirstAnswer()) as flaky:
        item = flaky.create_submission(paper_body(title=title))
    assert len(seen) == 2 and seen[0] == seen[1]
    with OpenXivClient(server, token) as client:
        same_title = [s.id for s in client.iter_submissions(page_size=200) if s.title == title]
        assert same_title == [item.id]

        # Two logical calls are two keys (two items); one key with two bodies is refused.
        twice = [client.create_submission(paper_body(title="Twice")).id for _ in range(2)]
        assert twice[0] != twice[1]
        client.create_submission(paper_body(title="Keyed"), idempotency_key="agent-run-17")
        with pytest.raises(IdempotencyKeyReused):
            client.create_submission(paper_body(title="Other"), idempotency_key="agent-run-17")


def test_wait_for_stops_on_timeout_and_on_an_unreachable_status(client: OpenXivClient, reviewed: str) -> None:
    now = client.get(reviewed).status
    assert client.wait_for(reviewed, now, timeout=5, poll=QUICK_POLL).status == now
    changes = list(client.status_changes(reviewed, timeout=0.5, poll=QUICK_POLL))
    assert [(c.status, c.previous) for c in changes] == [(now, None)]

    started = time.monotonic()
    with pytest.raises(WaitTimeout) as late:
        client.wait_for(reviewed, {"accepted"} - {now}, timeout=1.0, poll=QUICK_POLL)
    assert 1.0 <= time.monotonic() - started < 10 and late.value.last_status == now

    item = client.create_submission(paper_body(title="Gone"))
    client.withdraw(item.id, "not ready")
    with pytest.raises(StatusUnreachable) as never:
        client.wait_for(item.id, "accepted", timeout=30, poll=QUICK_POLL)
    assert never.value.status == "withdrawn"


def test_async_client_gives_the_same_answers(server: str, token: str, reviewed: str) -> None:
    with OpenXivClient(server, token) as sync:
        expected_item = sync.get(reviewed)
        expected_reviews = sync.reviews(reviewed)
        expected_ids = [s.id for s in sync.iter_submissions(page_size=3)]

    async def scenario() -> None:
        async with AsyncOpenXivClient(server, token, retry=FAST) as client:
            assert await client.get(reviewed) == expected_item
            assert await client.reviews(reviewed) == expected_reviews
            assert [s.id async for s in client.iter_submissions(page_size=3)] == expected_ids
            settled = await client.wait_for(reviewed, timeout=10, poll=QUICK_POLL)
            assert settled.status == expected_item.status
            with pytest.raises(NotFound):
                await client.get("2611.99999")
            created = await client.create_submission(paper_body(title="From asyncio"))
            assert (await client.get(created.id)).title == "From asyncio"

    asyncio.run(scenario())


def test_both_clients_have_the_same_methods() -> None:
    def public(cls: type) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(member).parameters)
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    assert public(OpenXivClient) == public(AsyncOpenXivClient)


# ----------------------------------------------------------------------------- the newer areas


def _set_status(instance: Instance, identifier: str, status: str) -> None:
    """Moves an item straight to `status` in the site's database (as the external-review tests
    do): the deterministic panel's own decision is not what these tests are about."""
    from sqlalchemy import create_engine, update

    from openxiv.models import Submission as SubmissionRow

    engine = create_engine(instance.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                update(SubmissionRow).where(SubmissionRow.identifier == identifier).values(status=status)
            )
    finally:
        engine.dispose()


def test_an_external_review_and_vote(site: tuple[Instance, str], staff: str, client: OpenXivClient) -> None:
    from tests.review.external_helpers import report

    item = client.create_submission(paper_body(title="Open to outside reviewers")).id
    _set_status(site[0], item, "provisionally_accepted")
    with OpenXivClient(staff, _staff_key(staff, "read", "review"), retry=FAST) as referee:
        review = referee.submit_external_review(item, report(), 7, "accept", "none")
        assert isinstance(review, models.ExternalReview)
        assert (review.submission, review.version, review.rating) == (item, 1, 7)
        assert review.reviewer.origin == "external_human" and review.reviewer.model is None
        vote = referee.submit_external_vote(item, "accept", 0.9, ["the runs support the claim"], "none")
    assert isinstance(vote, models.ExternalVoteResult) and vote.counted and not vote.upgraded
    # One human vote is not the diversity the upgrade policy asks for.
    assert vote.upgrade.outcome == "pending" and vote.upgrade.evaluations == 1 and vote.upgrade.reasons
    assert [r.id for r in client.external_reviews(item)] == [review.id]
    tally = client.external_votes(item)
    assert [v.id for v in tally.votes] == [vote.id] and tally.upgrade == vote.upgrade
    assert client.get(item).status == "provisionally_accepted"
    with pytest.raises(Forbidden):  # the owner has no review scope, and owns the work anyway
        client.submit_external_vote(item, "accept", 1.0, ["mine"], "none")


def test_comments_and_likes(client: OpenXivClient, reviewed: str) -> None:
    first = client.comment(reviewed, "Does the warm-up result hold at $n = 10^4$ steps?")
    assert isinstance(first, models.Comment) and first.submission == reviewed
    assert first.html and "<script" not in first.html and first.author.kind == "human"
    answer = client.reply(first.id, "It does; see the second table.")
    assert answer.parent_id == first.id and answer.thread_id == first.id
    second = client.comment(reviewed, "A second thread.")

    threads = list(client.iter_comments(reviewed, page_size=1))  # one thread a page
    ids = [t.id for t in threads]
    assert len(ids) == len(set(ids)) and {first.id, second.id} <= set(ids)  # other tests comment too
    assert all(t.parent_id is None for t in threads)
    nested = next(t for t in threads if t.id == first.id)
    assert [r.id for r in nested.replies] == [answer.id]

    edited = client.edit_comment(second.id, "A second thread, reworded.")
    assert edited.edited and edited.revision == 2
    assert "A second thread." in {r.body for r in client.comment_history(second.id)}
    assert client.get_comment(second.id).body == "A second thread, reworded."

    before = client.likes(reviewed)
    liked = client.like(reviewed)
    assert liked.liked and liked.likes == before.likes + 1 and liked.human_likes == before.human_likes + 1
    assert client.like(reviewed).likes == liked.likes  # liking twice is one like
    assert client.unlike(reviewed).likes == before.likes
    comment_like = client.like_comment(answer.id)
    assert comment_like.liked and comment_like.likes == 1
    assert client.get_comment(answer.id).likes == 1
    assert client.unlike_comment(answer.id).likes == 0
    assert client.delete_comment(second.id).deleted


def test_citations_dois_and_search(client: OpenXivClient, reviewed: str) -> None:
    bibtex = client.cite(reviewed)
    assert bibtex.lstrip().startswith("@") and reviewed in bibtex
    ris = client.cite(f"{reviewed}v1", "ris")
    assert ris.startswith("TY  - ") and "ER  -" in ris and reviewed in ris
    csl = json.loads(client.cite(reviewed, "csl"))
    assert csl  # CSL-JSON: a list of items or one item
    dois = client.dois(reviewed)
    assert isinstance(dois, models.ItemDois) and all(d.version for d in dois.versions)

    found = client.search("warm-up", limit=1)
    assert isinstance(found, models.SearchResults) and found.query == "warm-up"
    hits = list(client.iter_search("warm-up", page_size=1))
    assert len({h.id for h in hits}) == len(hits)

    # The daily papers (the Hub's JSON) list what is published, by trending score when asked.
    month = datetime.now(UTC).strftime("%Y-%m")
    trending = client.daily_papers(month=month, sort="trending")
    published = client.get(reviewed).status in {"provisionally_accepted", "accepted"}
    assert (reviewed in {p["paper"]["id"] for p in trending}) == published
    scores = [p["openxiv"]["trendingScore"] for p in trending]
    assert scores == sorted(scores, reverse=True)

    followed = client.subscribe_digest(["cs.LG", "stat.ML"])
    assert sorted(followed.categories) == ["cs.LG", "stat.ML"] and followed.last_sent_at is None
    assert client.digest_subscription() == followed
    assert client.unsubscribe_digest() is None
    with pytest.raises(NotFound):
        client.digest_subscription()


def test_trajectories_are_iterated_page_by_page(client: OpenXivClient, reviewed: str) -> None:
    page = client.list_trajectories(limit=1)
    assert isinstance(page, models.TrajectoryPage) and page.schema_id == "openxiv.trajectory/1"
    records = list(client.iter_trajectories(page_size=1))
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)) and reviewed in ids
    record = next(r for r in records if r.id == reviewed)
    assert record.versions[0].identifier == f"{reviewed}v1" and record.versions[0].reviews
    assert [t.to_status for t in record.transitions][:2] == ["submitted", "screening"]


def _later(seconds: float, action: Any) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_the_event_stream_shows_a_status_change(client: OpenXivClient, server: str, token: str) -> None:
    item = client.create_submission(paper_body(title="Watched")).id
    with OpenXivClient(server, token, retry=FAST) as other:
        timer = _later(1.0, lambda: other.withdraw(item, "watched it go"))
        stream = client.iter_events(item, types=["submission.status_changed"], timeout=30)
        try:
            event = next(stream)
        finally:
            stream.close()
            timer.join()
    assert isinstance(event, models.Event) and event.type == "submission.status_changed"
    assert event.submission == item and event.payload["status"] == "withdrawn"

    # Replayed from the start: the whole lifecycle, oldest first, ending with that withdrawal.
    replayed = client.events(item, after=0, timeout=1.0)
    statuses = [e.payload["status"] for e in replayed if e.type == "submission.status_changed"]
    assert statuses[:2] == ["submitted", "screening"] and statuses[-1] == "withdrawn"
    assert [e.id for e in replayed] == sorted({e.id for e in replayed}) and replayed[-1].id == event.id


def test_wait_for_follows_the_event_stream(client: OpenXivClient, server: str, token: str) -> None:
    item = client.create_submission(paper_body(title="Waited on")).id
    never_polls = PollSchedule(initial=120, ceiling=120)  # a poll would come far too late
    with OpenXivClient(server, token, retry=FAST) as other:
        timer = _later(1.0, lambda: other.withdraw(item, "no longer needed"))
        started = time.monotonic()
        try:
            settled = client.wait_for(item, "withdrawn", timeout=60, poll=never_polls)
        finally:
            timer.join()
    assert settled.status == "withdrawn" and time.monotonic() - started < 15


def test_the_async_client_follows_the_event_stream(server: str, token: str) -> None:
    async def scenario() -> None:
        async with (
            AsyncOpenXivClient(server, token, retry=FAST) as client,
            AsyncOpenXivClient(server, token, retry=FAST) as other,
        ):
            item = (await client.create_submission(paper_body(title="Awaited"))).id

            async def withdraw_soon() -> None:
                await asyncio.sleep(1.0)
                await other.withdraw(item, "asyncio")

            task = asyncio.create_task(withdraw_soon())
            never_polls = PollSchedule(initial=120, ceiling=120)
            settled = await client.wait_for(item, "withdrawn", timeout=60, poll=never_polls)
            await task
            assert settled.status == "withdrawn"
            replayed = await client.events(item, types=["submission.status_changed"], after=0, timeout=1.0)
            assert replayed[-1].payload == {**replayed[-1].payload, "status": "withdrawn"}
            changes = [c async for c in client.status_changes(item, timeout=0.5)]
            assert [(c.status, c.previous) for c in changes] == [("withdrawn", None)]

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_webhook_delivery_verifies_with_the_client(client: OpenXivClient) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        hook = client.create_webhook(
            f"http://127.0.0.1:{httpd.server_address[1]}/hook",
            event_types=["submission.status_changed"],
            description="SDK test",
        )
        assert hook.secret.startswith("whsec_") and hook.id in {h.id for h in client.webhooks()}
        item = client.create_submission(paper_body(title="Delivered")).id
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert received, "no delivery arrived"
        headers, body = received[0]
        assert webhooks.verify(hook.secret, headers, body)
        event = webhooks.verified_event(hook.secret, headers, body)
        assert event.type == "submission.status_changed" and event.submission == item
        assert not webhooks.verify(hook.secret, headers, body.replace(b"status", b"Status"))
        assert not webhooks.verify("whsec_another", headers, body)
        signed_at = int(re.search(r"t=(\d+)", webhooks.signature(headers) or "").group(1))  # type: ignore[union-attr]
        assert not webhooks.verify(hook.secret, headers, body, now=signed_at + 301)
        assert webhooks.verify(hook.secret, headers, body, now=signed_at + 299)
        with pytest.raises(webhooks.InvalidSignature):
            webhooks.verified_event("whsec_another", headers, body)

        delivered = [d for d in client.iter_deliveries(hook.id, page_size=1) if d.event_id == event.id]
        assert len(delivered) == 1 and delivered[0].attempts >= 1
        assert delivered[0].status == "delivered"
        replayed = client.replay_delivery(hook.id, delivered[0].id)
        assert replayed.id == delivered[0].id and replayed.status in {"pending", "delivered"}
        assert client.webhook(hook.id).active
        assert client.delete_webhook(hook.id).id == hook.id
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_verify_matches_the_servers_signing() -> None:
    from openxiv.events import signing

    body = b'{"id":1,"type":"comment.posted","submission":"2612.00001","version":1,"payload":{}}'
    secret = signing.new_secret()
    header = signing.signature_header(secret, body)
    assert webhooks.verify(secret, {"openxiv-signature": header}, body)
    assert webhooks.verify(secret, header, body)
    assert not webhooks.verify(secret, {"OpenXiv-Signature": header}, body + b" ")
    assert not webhooks.verify(secret, {}, body) and not webhooks.verify(secret, "v1=abc", body)
    old = signing.signature_header(secret, body, timestamp=int(time.time()) - 600)
    assert not webhooks.verify(secret, old, body) and webhooks.verify(secret, old, body, tolerance_s=900)
    assert signing.verify(secret, header, body)  # the server agrees on the same header


# ----------------------------------------------------------------------------- retries, on loopback


class Script:
    """A loopback HTTP server answering each request with the next scripted (status, headers,
    body); it records when each request arrived."""

    def __init__(self, answers: list[tuple[int, dict[str, str], Any]]) -> None:
        self.answers = answers
        self.arrivals: list[tuple[float, str, dict[str, str]]] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                script.arrivals.append((time.monotonic(), self.path, dict(self.headers)))
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                status, headers, body = script.answers[min(len(script.arrivals), len(script.answers)) - 1]
                payload = json.dumps(body).encode()
                self.send_response(status)
                kind = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def gaps(self) -> list[float]:
        return [b[0] - a[0] for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


ME = {
    "account": {
        "id": 1,
        "email": "a@example.org",
        "display_name": "A",
        "roles": [],
        "created_at": "2026-11-01T00:00:00Z",
        "a_field_from_a_newer_server": 1,
    },
    "agent": None,
    "scopes": ["read"],
}
SUBMISSION = {
    "id": "2611.00001",
    "kind": "paper",
    "status": "submitted",
    "title": "T",
    "latest_version": 1,
    "owner_id": 1,
    "created_at": "2026-11-01T00:00:00Z",
    "updated_at": "2026-11-01T00:00:00Z",
    "version": {
        "version": 1,
        "identifier": "2611.00001v1",
        "title": "T",
        "authors": [],
        "created_at": "2026-11-01T00:00:00Z",
    },
}


def _problem(status: int, slug: str) -> dict[str, Any]:
    return {"type": f"urn:openxiv:problem:{slug}", "title": slug, "status": status, "detail": slug}


@pytest.fixture
def script() -> Iterator[Any]:
    made: list[Script] = []

    def make(answers: list[tuple[int, dict[str, str], Any]]) -> Script:
        made.append(Script(answers))
        return made[-1]

    yield make
    for one in made:
        one.close()


def test_retry_after_in_seconds_is_waited_for(script: Any) -> None:
    server = script([(429, {"Retry-After": "1"}, _problem(429, "rate-limited")), (200, {}, ME)])
    started = time.monotonic()
    with OpenXivClient(server.url, "k", retry=FAST) as client:
        me = client.me()
    assert time.monotonic() - started >= 1.0 and server.gaps()[0] >= 1.0
    assert me.account.model_extra == {"a_field_from_a_newer_server": 1}


def test_retry_after_as_a_date_is_waited_for_and_writes_keep_their_key(script: Any) -> None:
    # Whole seconds only: three ahead leaves at least two after the truncation and the round trip.
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    server = script([(503, {"Retry-After": later}, _problem(503, "http-error")), (201, {}, SUBMISSION)])
    with OpenXivClient(server.url, "k", retry=FAST) as client:
        item = client.create_submission(paper_body())
    assert item.id == "2611.00001" and server.gaps()[0] >= 1.0
    keys = [headers["Idempotency-Key"] for _, _, headers in server.arrivals]
    assert len(keys) == 2 and keys[0] == keys[1] and re.fullmatch(r"[0-9a-f-]{36}", keys[0])


def test_retry_limits(script: Any) -> None:
    too_long = script([(429, {"Retry-After": "3600"}, _problem(429, "rate-limited")), (200, {}, ME)])
    with OpenXivClient(too_long.url, "k", retry=FAST) as client, pytest.raises(RateLimited) as limited:
        client.me()
    assert limited.value.retry_after == 3600 and len(too_long.arrivals) == 1

    failing = script([(503, {}, _problem(503, "http-error"))])
    policy = RetryPolicy(max_attempts=3, base_delay=0.05)
    with OpenXivClient(failing.url, "k", retry=policy) as client, pytest.raises(ServerError) as down:
        client.me()
    assert down.value.status == 503 and len(failing.arrivals) == 3

    refused = script([(404, {}, _problem(404, "not-found")), (200, {}, ME)])
    with OpenXivClient(refused.url, "k", retry=FAST) as client, pytest.raises(NotFound):
        client.me()
    assert len(refused.arrivals) == 1  # a 404 is an answer, not a failure to retry


def test_async_client_honours_retry_after(script: Any) -> None:
    server = script([(429, {"Retry-After": "1"}, _problem(429, "rate-limited")), (200, {}, ME)])

    async def scenario() -> float:
        async with AsyncOpenXivClient(server.url, "k", retry=FAST) as client:
            started = time.monotonic()
            await client.me()
            return time.monotonic() - started

    assert asyncio.run(scenario()) >= 1.0 and len(server.arrivals) == 2


@pytest.mark.parametrize(
    ("status", "headers", "slug"),
    [(404, {}, "not-found"), (429, {"Retry-After": "60"}, "rate-limited")],
    ids=["no-stream", "streams-full"],
)
def test_status_changes_polls_a_server_without_an_event_stream(
    script: Any, status: int, headers: dict[str, str], slug: str
) -> None:
    server = script([(status, headers, _problem(status, slug)), (200, {}, SUBMISSION)])
    started = time.monotonic()
    with OpenXivClient(server.url, "k", retry=FAST) as client:
        changes = list(client.status_changes("2611.00001", timeout=0.3, poll=QUICK_POLL))
    assert time.monotonic() - started < 5  # polls at once rather than wait for the stream
    assert [(c.status, c.previous) for c in changes] == [("submitted", None)]
    paths = [path for _, path, _ in server.arrivals]
    assert paths[0].startswith("/api/v1/events?") and "submission=2611.00001" in paths[0]
    assert paths[1:] and all(p == "/api/v1/submissions/2611.00001" for p in paths[1:])

    awaited = script([(status, headers, _problem(status, slug)), (200, {}, SUBMISSION)])

    async def scenario() -> list[models.StatusChange]:
        async with AsyncOpenXivClient(awaited.url, "k", retry=FAST) as client:
            return [c async for c in client.status_changes("2611.00001", timeout=0.3, poll=QUICK_POLL)]

    assert [c.status for c in asyncio.run(scenario())] == ["submitted"]
    assert awaited.arrivals[0][1].startswith("/api/v1/events?") and len(awaited.arrivals) >= 2


def _event_frame(event_id: int, status: str) -> bytes:
    document = {
        "id": event_id,
        "type": "submission.status_changed",
        "submission": "2611.00001",
        "version": 1,
        "payload": {"previous": "x", "status": status, "reason": ""},
        "created_at": "2026-12-03T12:00:00+00:00",
    }
    return f"id: {event_id}\nevent: submission.status_changed\ndata: {json.dumps(document)}\n\n".encode()


class DroppingStream:
    """A loopback event stream whose first connection breaks in the middle of its body (chunked,
    never terminated) after one event; later connections send the next event and end."""

    def __init__(self) -> None:
        self.resumed_from: list[str | None] = []
        stream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                stream.resumed_from.append(self.headers.get("Last-Event-ID"))
                first = len(stream.resumed_from) == 1
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if first:
                    body = b"retry: 50\n\n: keep-alive\n\n" + _event_frame(1, "screening")
                else:
                    body = _event_frame(len(stream.resumed_from), "under_review") + b": bye\n\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
                if not first:
                    self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_event_stream_resumes_after_a_dropped_connection() -> None:
    stream = DroppingStream()
    try:
        with OpenXivClient(stream.url, "k", retry=FAST) as client:
            events = list(itertools.islice(client.iter_events(types=["submission.*"]), 3))

        async def scenario() -> list[int]:
            async with AsyncOpenXivClient(stream.url, "k", retry=FAST) as client:
                found = client.iter_events(after=7)
                return [(await anext(found)).id for _ in range(2)]

        resumed_async = asyncio.run(asyncio.wait_for(scenario(), 30))
    finally:
        stream.close()
    assert [e.id for e in events] == [1, 2, 3]
    assert [e.payload["status"] for e in events] == ["screening", "under_review", "under_review"]
    # Each reconnection resumes after the last event received (the first asked for nothing).
    assert stream.resumed_from[:3] == [None, "1", "2"]
    assert resumed_async == [4, 5] and stream.resumed_from[3:5] == ["7", "4"]


def test_the_event_stream_requests_and_reconnection_delays() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=1.0, random=lambda: 1.0)
    call = calls.events("2611.00001v2", types=["review.*", "vote.decided"], after=5)
    stream = EventStream(call, policy, timeout=200_000)
    with httpx.Client(base_url="http://openxiv.test") as http:
        request = stream.request(http)
    assert request is not None and request.headers["Last-Event-ID"] == "5"
    assert request.url.path == "/api/v1/events" and "after" not in request.url.params
    assert request.url.params.get_list("type") == ["review.*", "vote.decided"]
    assert request.url.params["submission"] == "2611.00001v2"
    assert float(request.url.params["timeout"]) == 86_400  # the most the server takes at once

    assert stream.line("retry: 700") is None and stream.line("id: 9") is None
    assert stream.line('data: {"id":9,"type":"vote.decided","submission":null,"version":null,') is None
    assert stream.line('data: "payload":{},"created_at":"2026-12-03T12:00:00Z"}') is None
    event = stream.line("")
    assert event is not None and event.id == 9 and stream.last_event_id == "9"
    assert stream.dropped(None) == 0.7  # the server's retry hint first
    broken = httpx.ReadError("reset")
    assert stream.dropped(broken) == 0.7 and stream.dropped(None) == 0.8  # then backing off
    stream.line(": keep-alive")  # a comment is not progress
    with pytest.raises(ConnectionFailed):
        stream.dropped(broken)
    event = EventStream(calls.events(), policy, timeout=0.01)
    time.sleep(0.02)
    with httpx.Client() as http:
        assert event.request(http) is None and event.dropped(None) is None  # past the deadline


def test_the_event_stream_decoder() -> None:
    decoder = SSEDecoder()
    lines = [
        "retry: 1500",
        ": a comment",
        "id: 5",
        "event: vote.decided",
        "data: {",
        "data:  1",
        "data",
        "ignored: an unknown field",
        "",
        ": keep-alive",
        "",
        "data: no id given",
        "",
    ]
    messages = [m for m in map(decoder.feed, lines) if m is not None]
    assert messages == [
        ServerSentEvent("5", "vote.decided", "{\n 1\n"),
        ServerSentEvent("5", "message", "no id given"),
    ]
    assert decoder.retry_ms == 1500 and decoder.last_event_id == "5"

    body = _event_frame(9, "accepted") + b": keep-alive\n\n" + _event_frame(10, "withdrawn")
    response = httpx.Response(200, content=body, headers={"Content-Type": "text/event-stream"})
    parsed = calls.events("2611.00001", timeout=1).parse(response)
    assert [(e.id, e.payload["status"]) for e in parsed] == [(9, "accepted"), (10, "withdrawn")]


def test_an_unreachable_server_is_retried_then_reported() -> None:
    policy = RetryPolicy(max_attempts=2, base_delay=0.05)
    with OpenXivClient("http://127.0.0.1:9", retry=policy) as client, pytest.raises(ConnectionFailed) as down:
        client.me()
    assert isinstance(down.value.__cause__, httpx.ConnectError) and "2 attempt" in str(down.value)


def test_retry_after_values() -> None:
    now = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Thu, 03 Dec 2026 12:00:30 GMT", lambda: now) == 30.0
    assert retry_after_seconds("Thu, 03 Dec 2026 11:00:00 GMT", lambda: now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("-3") is None


# ----------------------------------------------------------------------------- the server's schemas


def _openapi(tmp_path: Path) -> dict[str, Any]:
    from openxiv.app import create_app
    from openxiv.config import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        mode="dev",
        secret_key="openapi",
        storage={"root": tmp_path / "blobs"},
        queue={"url": "immediate"},
        review={"enabled": False},
    )
    return create_app(settings).openapi()


# Client model -> the server's schema name in the OpenAPI document.
MODELS: dict[type[BaseModel], str] = {
    models.Account: "AccountOut",
    models.Agent: "AgentOut",
    models.ApiKey: "KeyOut",
    models.IssuedKey: "IssuedKeyOut",
    models.Registration: "RegisteredOut",
    models.Me: "MeOut",
    models.Upload: "UploadOut",
    models.FileRef: "FileOut",
    models.Author: "AuthorOut",
    models.Actor: "openxiv__submissions__schemas__Actor",
    models.IPAttribution: "IPAttribution",
    models.Proposal: "ProposalBody",
    models.ScreeningFinding: "ScreeningFindingOut",
    models.Screening: "ScreeningOut",
    models.Version: "VersionOut",
    models.SubmissionSummary: "SubmissionSummary",
    models.Submission: "SubmissionOut",
    models.Transition: "TransitionOut",
    models.StageRun: "StageRunOut",
    models.HeldVersion: "HeldVersionOut",
    models.SubReview: "SubReviewOut",
    models.Review: "ReviewOut",
    models.PairwiseVerdict: "PairwiseOut",
    models.Vote: "VoteOut",
    models.VotePanel: "VotePanelOut",
    models.VersionReviews: "VersionReviewsOut",
    models.LLMCall: "LLMCallOut",
    models.TrajectoryPoint: "TrajectoryPoint",
    models.IntegrityFinding: "Finding",
    models.IntegrityReport: "IntegrityReport",
    models.LiteratureHit: "SearchHit",
    models.LiteratureResults: "openxiv__literature__schemas__SearchResponse",
    models.Problem: "Problem",
    models.ModelIdentity: "ModelIdentity",
    models.ExternalReviewer: "ReviewerOut",
    models.ExternalReview: "ExternalReviewOut",
    models.UpgradeCheck: "UpgradeOut",
    models.ExternalVote: "ExternalVoteOut",
    models.ExternalVoteResult: "ExternalVoteResult",
    models.ExternalVotes: "ExternalVotesOut",
    models.Webhook: "WebhookOut",
    models.CreatedWebhook: "CreatedWebhookOut",
    models.WebhookDelivery: "DeliveryOut",
    models.ActorRecord: "ActorRecord",
    models.AuthorRecord: "AuthorRecord",
    models.FileRecord: "FileRecord",
    models.SubReviewRecord: "SubReviewRecord",
    models.ReviewRecord: "ReviewRecord",
    models.VoteRecord: "VoteRecord",
    models.PanelRecord: "PanelRecord",
    models.PairwiseRecord: "PairwiseRecord",
    models.ExternalVoteRecord: "ExternalVoteRecord",
    models.VersionRecord: "VersionRecord",
    models.TransitionRecord: "TransitionRecord",
    models.TrajectoryRecord: "TrajectoryRecord",
    models.TrajectoryPage: "TrajectoryPage",
    models.Doi: "DoiOut",
    models.ItemDois: "ItemDoisOut",
    models.DoiRetry: "DoiRetryOut",
    models.Likes: "LikeOut",
    models.AgentLabel: "AgentLabel",
    models.CommentAuthor: "CommentAuthor",
    models.Comment: "CommentOut",
    models.Page[models.Comment]: "CommentPage",
    models.CommentRevision: "RevisionOut",
    models.Report: "ReportOut",
    models.ActionActor: "openxiv__community__schemas__Actor",
    models.ModerationAction: "ModerationActionOut",
    models.Page[models.ModerationAction]: "ActionPage",
    models.Appeal: "AppealOut",
    models.QueueEntry: "QueueEntryOut",
    models.Notice: "NoticeOut",
    models.SearchHit: "SearchItem",
    models.SearchResults: "openxiv__discovery__schemas__SearchResponse",
    models.DigestSubscription: "DigestSubscriptionOut",
}


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    # FastAPI qualifies a name two modules share (module__path__Name) and drops the
    # qualification when they stop sharing it: either spelling is the same schema.
    plain = name.rsplit("__", 1)[-1]
    for candidate in (name, f"{name}-Output", plain, f"{plain}-Output"):
        if candidate in schemas:
            return dict(schemas[candidate])
    raise AssertionError(f"the server no longer has a schema {name}")


def _fields(model: type[BaseModel]) -> set[str]:
    # As serialised: the trajectory records' `schema` member is `schema_id` in Python.
    return {field.alias or name for name, field in model.model_fields.items()}


def _check_fields(model: type[BaseModel], schema: dict[str, Any], name: str) -> None:
    assert _fields(model) == set(schema["properties"]), f"{model.__name__} vs {name}"
    # Whatever the server requires, the client must not default to something invented.
    for field in schema.get("required", []):
        assert field in _fields(model), f"{model.__name__}.{field}"


def test_models_have_exactly_the_fields_the_server_documents(tmp_path: Path) -> None:
    from openxiv.events.schemas import EventOut

    document = _openapi(tmp_path)
    for model, name in MODELS.items():
        _check_fields(model, _schema(document, name), name)
    # The stream documents its events' schema inline (itemSchema), not among the components.
    _check_fields(models.Event, EventOut.model_json_schema(), "EventOut")


def test_every_call_targets_a_documented_endpoint_and_every_endpoint_has_a_call(tmp_path: Path) -> None:
    document = _openapi(tmp_path)
    # Every /api/v1 endpoint, and the Hugging Face compatible daily papers (trending) list.
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/") or path == "/api/daily_papers"
        for method in operations
    }
    made = [
        calls.register("a@b.org", "pw", "A"),
        calls.key_from_password("a@b.org", "pw"),
        calls.me(),
        calls.create_agent("a", "m", "o"),
        calls.agents(),
        calls.agent(1),
        calls.issue_key(["read"]),
        calls.api_keys(),
        calls.revoke_key(1),
        calls.upload(b"%PDF", filename="x.pdf"),
        calls.create_submission({}),
        calls.create_version("2611.00001", {}),
        calls.withdraw("2611.00001", "r"),
        calls.decide_authorship("2611.00001", "confirm"),
        calls.moderate("2611.00001", "release", "r"),
        calls.held(),
        calls.submission("2611.00001"),
        calls.versions("2611.00001"),
        calls.transitions("2611.00001"),
        calls.stages("2611.00001"),
        calls.text("2611.00001"),
        calls.download("2611.00001", "pdf"),
        calls.download("2611.00001", "source"),
        calls.submissions().first,
        calls.reviews("2611.00001"),
        calls.trajectory("2611.00001"),
        calls.llm_calls("2611.00001").first,
        calls.integrity("2611.00001"),
        calls.search_literature("q"),
        calls.submit_external_review("2611.00001", {}, 5, "accept", "none"),
        calls.external_reviews("2611.00001"),
        calls.submit_external_vote("2611.00001", "accept", 0.5, ["r"], "none"),
        calls.external_votes("2611.00001"),
        calls.events(),
        calls.create_webhook("https://example.org/hook"),
        calls.webhooks(),
        calls.webhook(1),
        calls.delete_webhook(1),
        calls.deliveries(1).first,
        calls.replay_delivery(1, 2),
        calls.trajectories().first,
        calls.cite("2611.00001", "ris"),
        calls.dois("2611.00001"),
        calls.retry_dois("2611.00001"),
        calls.likes("2611.00001"),
        calls.like("2611.00001"),
        calls.unlike("2611.00001"),
        calls.like_comment(1),
        calls.unlike_comment(1),
        calls.comments("2611.00001").first,
        calls.comment("2611.00001", "b"),
        calls.reply(1, "b"),
        calls.get_comment(1),
        calls.edit_comment(1, "b"),
        calls.delete_comment(1),
        calls.comment_history(1),
        calls.report("2611.00001", "spam"),
        calls.report_comment(1, "spam"),
        calls.moderation_queue(),
        calls.moderation_act("hide", "r", comment_id=1),
        calls.moderation_actions().first,
        calls.appeal(1, "s"),
        calls.decide_appeal(1, "grant", "r"),
        calls.notices(),
        calls.search("q"),
        calls.search_pages("q").first,
        calls.digest_subscription(),
        calls.subscribe_digest(["cs.LG"]),
        calls.unsubscribe_digest(),
        calls.daily_papers(sort="trending"),
    ]
    targeted = {
        (
            c.method,
            re.sub(r"/2611\.00001", "/{identifier}", re.sub(r"/\d+(?=/|$)", "/{id}", c.prefix + c.path)),
        )
        for c in made
    }
    normalised = {(m, re.sub(r"\{\w+_id\}", "{id}", p)) for m, p in documented}
    assert targeted <= normalised, targeted - normalised
    assert normalised <= targeted, f"endpoints without a client call: {sorted(normalised - targeted)}"


def test_the_client_knows_the_servers_final_statuses() -> None:
    from openxiv.submissions.lifecycle import REVISABLE, TERMINAL, Status

    assert {s.value for s in TERMINAL} == models.TERMINAL_STATUSES
    assert {s.value for s in Status} >= models.SETTLED_STATUSES
    # Settled: nothing more happens without a person or agent acting (a revision, a moderator,
    # external reviewers) -- everything but the pipeline's own transient statuses.
    transient = {Status.SUBMITTED, Status.SCREENING, Status.UNDER_REVIEW}
    assert {s.value for s in set(Status) - transient} == models.SETTLED_STATUSES
    assert Status.REVISION_REQUESTED in REVISABLE


def test_the_sdk_imports_nothing_of_the_server() -> None:
    """Agents install and import the client without the server's database or web stack."""
    probe = (
        "import sys, openxiv.client; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'fastapi', 'starlette'} "
        "or (m.startswith('openxiv.') and not m.startswith('openxiv.client'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
