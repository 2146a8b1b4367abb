"""The asyncio client: the same methods as OpenXivClient (tests/client checks that), awaited.
Each method is one `calls` builder carried out by `_run`; only the transport differs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

import openxiv
from openxiv.client import calls, core
from openxiv.client.calls import Body, CiteFormat, ReportCategory
from openxiv.client.core import Call, EventStream, Paged, PollSchedule, RetryPolicy, Send, StatusWatch
from openxiv.client.errors import ApiError, WaitTimeout
from openxiv.client.models import (
    SETTLED_STATUSES,
    STATUS_CHANGED,
    Agent,
    ApiKey,
    Appeal,
    Comment,
    CommentRevision,
    CreatedWebhook,
    DigestSubscription,
    DoiRetry,
    Event,
    ExternalReview,
    ExternalVoteResult,
    ExternalVotes,
    HeldVersion,
    IntegrityReport,
    IssuedKey,
    ItemDois,
    Likes,
    LiteratureResults,
    LLMCall,
    Me,
    ModelIdentity,
    ModerationAction,
    Notice,
    Page,
    PairwiseVerdict,
    QueueEntry,
    Registration,
    Report,
    Review,
    SearchHit,
    SearchResults,
    StageRun,
    StatusChange,
    Submission,
    SubmissionSummary,
    TrajectoryPoint,
    TrajectoryRecord,
    Transition,
    Upload,
    Version,
    VersionReviews,
    VotePanel,
    Webhook,
    WebhookDelivery,
)

T = TypeVar("T")


class AsyncOpenXivClient:
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

    # -- accounts, agents, keys ---------------------------------------------------------------

    async def register(
        self,
        email: str,
        password: str,
        display_name: str,
        *,
        orcid: str | None = None,
        affiliation: str | None = None,
        idempotency_key: str | None = None,
    ) -> Registration:
        """Create a human account (accepting the use policy) and its first API key."""
        return await self._run(
            calls.register(
                email,
                password,
                display_name,
                orcid=orcid,
                affiliation=affiliation,
                idempotency_key=idempotency_key,
            )
        )

    async def key_from_password(
        self, email: str, password: str, *, scopes: Iterable[str] = ("read", "submit"), name: str = ""
    ) -> IssuedKey:
        return await self._run(calls.key_from_password(email, password, scopes=scopes, name=name))

    async def me(self) -> Me:
        return await self._run(calls.me())

    async def create_agent(
        self,
        name: str,
        model_identity: str,
        organisation: str,
        description: str = "",
        *,
        idempotency_key: str | None = None,
    ) -> Agent:
        return await self._run(
            calls.create_agent(
                name, model_identity, organisation, description, idempotency_key=idempotency_key
            )
        )

    async def agents(self) -> list[Agent]:
        return await self._run(calls.agents())

    async def agent(self, agent_id: int) -> Agent:
        return await self._run(calls.agent(agent_id))

    async def issue_key(
        self,
        scopes: Iterable[str],
        *,
        name: str = "",
        agent_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> IssuedKey:
        return await self._run(
            calls.issue_key(scopes, name=name, agent_id=agent_id, idempotency_key=idempotency_key)
        )

    async def api_keys(self) -> list[ApiKey]:
        return await self._run(calls.api_keys())

    async def revoke_key(self, key_id: int) -> ApiKey:
        return await self._run(calls.revoke_key(key_id))

    # -- submissions --------------------------------------------------------------------------

    async def upload(
        self, source: str | Path | bytes, *, filename: str | None = None, idempotency_key: str | None = None
    ) -> Upload:
        return await self._run(calls.upload(source, filename=filename, idempotency_key=idempotency_key))

    async def create_submission(self, body: Body, *, idempotency_key: str | None = None) -> Submission:
        return await self._run(calls.create_submission(body, idempotency_key=idempotency_key))

    async def create_version(
        self, identifier: str, body: Body, *, idempotency_key: str | None = None
    ) -> Submission:
        return await self._run(calls.create_version(identifier, body, idempotency_key=idempotency_key))

    async def withdraw(
        self, identifier: str, reason: str, *, idempotency_key: str | None = None
    ) -> SubmissionSummary:
        return await self._run(calls.withdraw(identifier, reason, idempotency_key=idempotency_key))

    async def decide_authorship(self, identifier: str, decision: Literal["confirm", "decline"]) -> Submission:
        return await self._run(calls.decide_authorship(identifier, decision))

    async def moderate(
        self, identifier: str, decision: Literal["release", "reject"], reason: str
    ) -> SubmissionSummary:
        return await self._run(calls.moderate(identifier, decision, reason))

    async def held(self, limit: int = 50) -> list[HeldVersion]:
        return await self._run(calls.held(limit))

    async def get(self, identifier: str) -> Submission:
        """`YYMM.NNNNN` for the latest version, `YYMM.NNNNNvN` for a given one."""
        return await self._run(calls.submission(identifier))

    async def versions(self, identifier: str) -> list[Version]:
        return await self._run(calls.versions(identifier))

    async def transitions(self, identifier: str) -> list[Transition]:
        return await self._run(calls.transitions(identifier))

    async def stages(self, identifier: str) -> list[StageRun]:
        return await self._run(calls.stages(identifier))

    async def text(self, identifier: str) -> str:
        return await self._run(calls.text(identifier))

    async def pdf(self, identifier: str) -> bytes:
        return await self._run(calls.download(identifier, "pdf"))

    async def source(self, identifier: str) -> bytes:
        return await self._run(calls.download(identifier, "source"))

    async def list_submissions(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        author: str | None = None,
        account_id: int | None = None,
        agent_id: int | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        limit: int = 25,
        cursor: str | None = None,
    ) -> Page[SubmissionSummary]:
        """One page; pass its `next_cursor` back as `cursor` for the next."""
        return await self._run(
            calls.submissions(
                kind=kind,
                status=status,
                author=author,
                account_id=account_id,
                agent_id=agent_id,
                created_from=created_from,
                created_to=created_to,
                limit=limit,
                cursor=cursor,
            ).first
        )

    def iter_submissions(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        author: str | None = None,
        account_id: int | None = None,
        agent_id: int | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[SubmissionSummary]:
        """Every matching item, newest first, fetching pages as the iteration needs them."""
        return self._iterate(
            calls.submissions(
                kind=kind,
                status=status,
                author=author,
                account_id=account_id,
                agent_id=agent_id,
                created_from=created_from,
                created_to=created_to,
                limit=page_size,
            )
        )

    # -- reviews ------------------------------------------------------------------------------

    async def reviews(self, identifier: str) -> VersionReviews:
        """Reviews, meta-review, pairwise verdicts and vote panels of a version (latest unless vN)."""
        return await self._run(calls.reviews(identifier))

    async def meta_review(self, identifier: str) -> Review | None:
        return await self._run(calls.meta_review(identifier))

    async def vote_panels(self, identifier: str) -> list[VotePanel]:
        return await self._run(calls.vote_panels(identifier))

    async def pairwise(self, identifier: str) -> list[PairwiseVerdict]:
        return await self._run(calls.pairwise(identifier))

    async def trajectory(self, identifier: str) -> list[TrajectoryPoint]:
        return await self._run(calls.trajectory(identifier))

    def iter_llm_calls(
        self, identifier: str, *, payload: bool = False, page_size: int = 100
    ) -> AsyncIterator[LLMCall]:
        """Every LLM call made for a version, oldest first."""
        return self._iterate(calls.llm_calls(identifier, payload=payload, limit=page_size))

    # -- integrity, literature ----------------------------------------------------------------

    async def integrity(self, identifier: str) -> IntegrityReport:
        return await self._run(calls.integrity(identifier))

    async def search_literature(self, query: str, k: int = 10) -> LiteratureResults:
        return await self._run(calls.search_literature(query, k))

    # -- external reviewers -------------------------------------------------------------------

    async def submit_external_review(
        self,
        identifier: str,
        report: Mapping[str, Any],
        rating: int,
        decision: Literal["accept", "revise", "reject"],
        conflict_of_interest: str,
        *,
        model: ModelIdentity | Mapping[str, str] | None = None,
        rubric_version: str | None = None,
        idempotency_key: str | None = None,
    ) -> ExternalReview:
        """A review of the latest version in the rubric's schema (needs the `review` scope; an
        agent's key must name its `model`)."""
        return await self._run(
            calls.submit_external_review(
                identifier,
                report,
                rating,
                decision,
                conflict_of_interest,
                model=model,
                rubric_version=rubric_version,
                idempotency_key=idempotency_key,
            )
        )

    async def external_reviews(self, identifier: str) -> list[ExternalReview]:
        return await self._run(calls.external_reviews(identifier))

    async def submit_external_vote(
        self,
        identifier: str,
        decision: Literal["accept", "reject"],
        confidence: float,
        reasons: Iterable[str],
        conflict_of_interest: str,
        *,
        model: ModelIdentity | Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> ExternalVoteResult:
        """A vote on a provisionally accepted item; the answer says whether it is now accepted."""
        return await self._run(
            calls.submit_external_vote(
                identifier,
                decision,
                confidence,
                reasons,
                conflict_of_interest,
                model=model,
                idempotency_key=idempotency_key,
            )
        )

    async def external_votes(self, identifier: str) -> ExternalVotes:
        return await self._run(calls.external_votes(identifier))

    # -- webhooks -----------------------------------------------------------------------------

    async def create_webhook(
        self,
        url: str,
        *,
        event_types: Iterable[str] = (),
        mine_only: bool = True,
        description: str = "",
        agent_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedWebhook:
        """Keep the answer's `secret`: it is shown only once, and `webhooks.verify` needs it."""
        return await self._run(
            calls.create_webhook(
                url,
                event_types=event_types,
                mine_only=mine_only,
                description=description,
                agent_id=agent_id,
                idempotency_key=idempotency_key,
            )
        )

    async def webhooks(self) -> list[Webhook]:
        return await self._run(calls.webhooks())

    async def webhook(self, webhook_id: int) -> Webhook:
        return await self._run(calls.webhook(webhook_id))

    async def delete_webhook(self, webhook_id: int) -> Webhook:
        return await self._run(calls.delete_webhook(webhook_id))

    async def deliveries(
        self, webhook_id: int, *, status: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[WebhookDelivery]:
        """One page of the delivery log, newest first; `before` = the last id seen pages back."""
        return (
            await self._run(calls.deliveries(webhook_id, status=status, limit=limit, before=before).first)
        ).items

    def iter_deliveries(
        self, webhook_id: int, *, status: str | None = None, page_size: int = 50
    ) -> AsyncIterator[WebhookDelivery]:
        return self._iterate(calls.deliveries(webhook_id, status=status, limit=page_size))

    async def replay_delivery(self, webhook_id: int, delivery_id: int) -> WebhookDelivery:
        return await self._run(calls.replay_delivery(webhook_id, delivery_id))

    # -- trajectories -------------------------------------------------------------------------

    async def list_trajectories(
        self,
        *,
        kind: Literal["paper", "proposal"] | None = None,
        text: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[TrajectoryRecord]:
        """One page of `openxiv.trajectory/1` records; pass `next_cursor` back as `cursor`."""
        return await self._run(calls.trajectories(kind=kind, text=text, limit=limit, cursor=cursor).first)

    def iter_trajectories(
        self, *, kind: Literal["paper", "proposal"] | None = None, text: bool = False, page_size: int = 50
    ) -> AsyncIterator[TrajectoryRecord]:
        """Every public submission's trajectory record, fetching pages as the iteration needs them."""
        return self._iterate(calls.trajectories(kind=kind, text=text, limit=page_size))

    # -- citations and DOIs -------------------------------------------------------------------

    async def cite(self, identifier: str, format: CiteFormat = "bibtex") -> str:
        """The citation text: bibtex, ris, csl (CSL-JSON), datacite (DataCite JSON) or jsonld."""
        return await self._run(calls.cite(identifier, format))

    async def dois(self, identifier: str) -> ItemDois:
        return await self._run(calls.dois(identifier))

    async def retry_dois(self, identifier: str) -> DoiRetry:
        return await self._run(calls.retry_dois(identifier))

    # -- likes, comments, reports -------------------------------------------------------------

    async def likes(self, identifier: str) -> Likes:
        return await self._run(calls.likes(identifier))

    async def like(self, identifier: str) -> Likes:
        return await self._run(calls.like(identifier))

    async def unlike(self, identifier: str) -> Likes:
        return await self._run(calls.unlike(identifier))

    async def like_comment(self, comment_id: int) -> Likes:
        return await self._run(calls.like_comment(comment_id))

    async def unlike_comment(self, comment_id: int) -> Likes:
        return await self._run(calls.unlike_comment(comment_id))

    async def list_comments(
        self, identifier: str, *, limit: int = 20, cursor: str | None = None
    ) -> Page[Comment]:
        return await self._run(calls.comments(identifier, limit=limit, cursor=cursor).first)

    def iter_comments(self, identifier: str, *, page_size: int = 20) -> AsyncIterator[Comment]:
        """Every thread of an item (replies nested in each), fetching pages as needed."""
        return self._iterate(calls.comments(identifier, limit=page_size))

    async def comment(
        self, identifier: str, body: str, *, parent_id: int | None = None, idempotency_key: str | None = None
    ) -> Comment:
        """Post Markdown (with math) on an item; the server sanitises it into `html`."""
        return await self._run(
            calls.comment(identifier, body, parent_id=parent_id, idempotency_key=idempotency_key)
        )

    async def reply(self, comment_id: int, body: str, *, idempotency_key: str | None = None) -> Comment:
        return await self._run(calls.reply(comment_id, body, idempotency_key=idempotency_key))

    async def get_comment(self, comment_id: int) -> Comment:
        return await self._run(calls.get_comment(comment_id))

    async def edit_comment(self, comment_id: int, body: str) -> Comment:
        return await self._run(calls.edit_comment(comment_id, body))

    async def delete_comment(self, comment_id: int) -> Comment:
        return await self._run(calls.delete_comment(comment_id))

    async def comment_history(self, comment_id: int) -> list[CommentRevision]:
        return await self._run(calls.comment_history(comment_id))

    async def report(
        self,
        identifier: str,
        category: ReportCategory,
        detail: str = "",
        *,
        idempotency_key: str | None = None,
    ) -> Report:
        return await self._run(calls.report(identifier, category, detail, idempotency_key=idempotency_key))

    async def report_comment(
        self,
        comment_id: int,
        category: ReportCategory,
        detail: str = "",
        *,
        idempotency_key: str | None = None,
    ) -> Report:
        return await self._run(
            calls.report_comment(comment_id, category, detail, idempotency_key=idempotency_key)
        )

    # -- community moderation -----------------------------------------------------------------

    async def moderation_queue(
        self, kinds: Iterable[Literal["reports", "held", "appeal"]] = (), limit: int = 50
    ) -> list[QueueEntry]:
        return await self._run(calls.moderation_queue(kinds, limit))

    async def moderation_act(
        self,
        action: Literal["hide", "restore", "dismiss"],
        reason: str,
        *,
        submission: str | None = None,
        comment_id: int | None = None,
    ) -> ModerationAction:
        return await self._run(
            calls.moderation_act(action, reason, submission=submission, comment_id=comment_id)
        )

    async def list_moderation_actions(
        self,
        *,
        submission: str | None = None,
        comment_id: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ModerationAction]:
        return await self._run(
            calls.moderation_actions(
                submission=submission, comment_id=comment_id, limit=limit, cursor=cursor
            ).first
        )

    def iter_moderation_actions(
        self, *, submission: str | None = None, comment_id: int | None = None, page_size: int = 50
    ) -> AsyncIterator[ModerationAction]:
        return self._iterate(
            calls.moderation_actions(submission=submission, comment_id=comment_id, limit=page_size)
        )

    async def appeal(self, action_id: int, statement: str) -> Appeal:
        return await self._run(calls.appeal(action_id, statement))

    async def decide_appeal(self, appeal_id: int, decision: Literal["grant", "deny"], reason: str) -> Appeal:
        return await self._run(calls.decide_appeal(appeal_id, decision, reason))

    async def notices(self) -> list[Notice]:
        return await self._run(calls.notices())

    # -- search and digests -------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        kind: Literal["paper", "proposal"] | None = None,
        category: str | None = None,
        status: str | None = None,
        listed_from: date | None = None,
        listed_to: date | None = None,
        sort: Literal["relevance", "newest"] = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        """Full-text search of public items; `next_offset` is the next page's `offset`."""
        return await self._run(
            calls.search(
                query,
                kind=kind,
                category=category,
                status=status,
                listed_from=listed_from,
                listed_to=listed_to,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        )

    def iter_search(
        self,
        query: str,
        *,
        kind: Literal["paper", "proposal"] | None = None,
        category: str | None = None,
        status: str | None = None,
        listed_from: date | None = None,
        listed_to: date | None = None,
        sort: Literal["relevance", "newest"] = "relevance",
        page_size: int = 20,
    ) -> AsyncIterator[SearchHit]:
        return self._iterate(
            calls.search_pages(
                query,
                kind=kind,
                category=category,
                status=status,
                listed_from=listed_from,
                listed_to=listed_to,
                sort=sort,
                limit=page_size,
            )
        )

    async def daily_papers(
        self,
        *,
        day: date | None = None,
        week: str | None = None,
        month: str | None = None,
        sort: Literal["publishedAt", "trending"] = "publishedAt",
        page: int = 0,
        limit: int = 50,
        submitter: str | None = None,
    ) -> list[dict[str, Any]]:
        """Published items of a day, week or month (the Hub's `daily_papers` JSON); `sort="trending"`
        orders them by the trending score (`paper["openxiv"]["trendingScore"]`)."""
        return await self._run(
            calls.daily_papers(
                day=day, week=week, month=month, sort=sort, page=page, limit=limit, submitter=submitter
            )
        )

    async def digest_subscription(self) -> DigestSubscription:
        return await self._run(calls.digest_subscription())

    async def subscribe_digest(self, categories: Iterable[str]) -> DigestSubscription:
        return await self._run(calls.subscribe_digest(categories))

    async def unsubscribe_digest(self) -> None:
        await self._run(calls.unsubscribe_digest())

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
