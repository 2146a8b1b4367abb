"""The blocking client. Each method is one `calls` builder carried out by `_run`."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import closing
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


class OpenXivClient:
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

    # -- accounts, agents, keys ---------------------------------------------------------------

    def register(
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
        return self._run(
            calls.register(
                email,
                password,
                display_name,
                orcid=orcid,
                affiliation=affiliation,
                idempotency_key=idempotency_key,
            )
        )

    def key_from_password(
        self, email: str, password: str, *, scopes: Iterable[str] = ("read", "submit"), name: str = ""
    ) -> IssuedKey:
        return self._run(calls.key_from_password(email, password, scopes=scopes, name=name))

    def me(self) -> Me:
        return self._run(calls.me())

    def create_agent(
        self,
        name: str,
        model_identity: str,
        organisation: str,
        description: str = "",
        *,
        idempotency_key: str | None = None,
    ) -> Agent:
        return self._run(
            calls.create_agent(
                name, model_identity, organisation, description, idempotency_key=idempotency_key
            )
        )

    def agents(self) -> list[Agent]:
        return self._run(calls.agents())

    def agent(self, agent_id: int) -> Agent:
        return self._run(calls.agent(agent_id))

    def issue_key(
        self,
        scopes: Iterable[str],
        *,
        name: str = "",
        agent_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> IssuedKey:
        return self._run(
            calls.issue_key(scopes, name=name, agent_id=agent_id, idempotency_key=idempotency_key)
        )

    def api_keys(self) -> list[ApiKey]:
        return self._run(calls.api_keys())

    def revoke_key(self, key_id: int) -> ApiKey:
        return self._run(calls.revoke_key(key_id))

    # -- submissions --------------------------------------------------------------------------

    def upload(
        self, source: str | Path | bytes, *, filename: str | None = None, idempotency_key: str | None = None
    ) -> Upload:
        return self._run(calls.upload(source, filename=filename, idempotency_key=idempotency_key))

    def create_submission(self, body: Body, *, idempotency_key: str | None = None) -> Submission:
        return self._run(calls.create_submission(body, idempotency_key=idempotency_key))

    def create_version(
        self, identifier: str, body: Body, *, idempotency_key: str | None = None
    ) -> Submission:
        return self._run(calls.create_version(identifier, body, idempotency_key=idempotency_key))

    def withdraw(
        self, identifier: str, reason: str, *, idempotency_key: str | None = None
    ) -> SubmissionSummary:
        return self._run(calls.withdraw(identifier, reason, idempotency_key=idempotency_key))

    def decide_authorship(self, identifier: str, decision: Literal["confirm", "decline"]) -> Submission:
        return self._run(calls.decide_authorship(identifier, decision))

    def moderate(
        self, identifier: str, decision: Literal["release", "reject"], reason: str
    ) -> SubmissionSummary:
        return self._run(calls.moderate(identifier, decision, reason))

    def held(self, limit: int = 50) -> list[HeldVersion]:
        return self._run(calls.held(limit))

    def get(self, identifier: str) -> Submission:
        """`YYMM.NNNNN` for the latest version, `YYMM.NNNNNvN` for a given one."""
        return self._run(calls.submission(identifier))

    def versions(self, identifier: str) -> list[Version]:
        return self._run(calls.versions(identifier))

    def transitions(self, identifier: str) -> list[Transition]:
        return self._run(calls.transitions(identifier))

    def stages(self, identifier: str) -> list[StageRun]:
        return self._run(calls.stages(identifier))

    def text(self, identifier: str) -> str:
        return self._run(calls.text(identifier))

    def pdf(self, identifier: str) -> bytes:
        return self._run(calls.download(identifier, "pdf"))

    def source(self, identifier: str) -> bytes:
        return self._run(calls.download(identifier, "source"))

    def list_submissions(
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
        return self._run(
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
    ) -> Iterator[SubmissionSummary]:
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

    def reviews(self, identifier: str) -> VersionReviews:
        """Reviews, meta-review, pairwise verdicts and vote panels of a version (latest unless vN)."""
        return self._run(calls.reviews(identifier))

    def meta_review(self, identifier: str) -> Review | None:
        return self._run(calls.meta_review(identifier))

    def vote_panels(self, identifier: str) -> list[VotePanel]:
        return self._run(calls.vote_panels(identifier))

    def pairwise(self, identifier: str) -> list[PairwiseVerdict]:
        return self._run(calls.pairwise(identifier))

    def trajectory(self, identifier: str) -> list[TrajectoryPoint]:
        return self._run(calls.trajectory(identifier))

    def iter_llm_calls(
        self, identifier: str, *, payload: bool = False, page_size: int = 100
    ) -> Iterator[LLMCall]:
        """Every LLM call made for a version, oldest first."""
        return self._iterate(calls.llm_calls(identifier, payload=payload, limit=page_size))

    # -- integrity, literature ----------------------------------------------------------------

    def integrity(self, identifier: str) -> IntegrityReport:
        return self._run(calls.integrity(identifier))

    def search_literature(self, query: str, k: int = 10) -> LiteratureResults:
        return self._run(calls.search_literature(query, k))

    # -- external reviewers -------------------------------------------------------------------

    def submit_external_review(
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
        return self._run(
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

    def external_reviews(self, identifier: str) -> list[ExternalReview]:
        return self._run(calls.external_reviews(identifier))

    def submit_external_vote(
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
        return self._run(
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

    def external_votes(self, identifier: str) -> ExternalVotes:
        return self._run(calls.external_votes(identifier))

    # -- webhooks -----------------------------------------------------------------------------

    def create_webhook(
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
        return self._run(
            calls.create_webhook(
                url,
                event_types=event_types,
                mine_only=mine_only,
                description=description,
                agent_id=agent_id,
                idempotency_key=idempotency_key,
            )
        )

    def webhooks(self) -> list[Webhook]:
        return self._run(calls.webhooks())

    def webhook(self, webhook_id: int) -> Webhook:
        return self._run(calls.webhook(webhook_id))

    def delete_webhook(self, webhook_id: int) -> Webhook:
        return self._run(calls.delete_webhook(webhook_id))

    def deliveries(
        self, webhook_id: int, *, status: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[WebhookDelivery]:
        """One page of the delivery log, newest first; `before` = the last id seen pages back."""
        return self._run(calls.deliveries(webhook_id, status=status, limit=limit, before=before).first).items

    def iter_deliveries(
        self, webhook_id: int, *, status: str | None = None, page_size: int = 50
    ) -> Iterator[WebhookDelivery]:
        return self._iterate(calls.deliveries(webhook_id, status=status, limit=page_size))

    def replay_delivery(self, webhook_id: int, delivery_id: int) -> WebhookDelivery:
        return self._run(calls.replay_delivery(webhook_id, delivery_id))

    # -- trajectories -------------------------------------------------------------------------

    def list_trajectories(
        self,
        *,
        kind: Literal["paper", "proposal"] | None = None,
        text: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[TrajectoryRecord]:
        """One page of `openxiv.trajectory/1` records; pass `next_cursor` back as `cursor`."""
        return self._run(calls.trajectories(kind=kind, text=text, limit=limit, cursor=cursor).first)

    def iter_trajectories(
        self, *, kind: Literal["paper", "proposal"] | None = None, text: bool = False, page_size: int = 50
    ) -> Iterator[TrajectoryRecord]:
        """Every public submission's trajectory record, fetching pages as the iteration needs them."""
        return self._iterate(calls.trajectories(kind=kind, text=text, limit=page_size))

    # -- citations and DOIs -------------------------------------------------------------------

    def cite(self, identifier: str, format: CiteFormat = "bibtex") -> str:
        """The citation text: bibtex, ris, csl (CSL-JSON), datacite (DataCite JSON) or jsonld."""
        return self._run(calls.cite(identifier, format))

    def dois(self, identifier: str) -> ItemDois:
        return self._run(calls.dois(identifier))

    def retry_dois(self, identifier: str) -> DoiRetry:
        return self._run(calls.retry_dois(identifier))

    # -- likes, comments, reports -------------------------------------------------------------

    def likes(self, identifier: str) -> Likes:
        return self._run(calls.likes(identifier))

    def like(self, identifier: str) -> Likes:
        return self._run(calls.like(identifier))

    def unlike(self, identifier: str) -> Likes:
        return self._run(calls.unlike(identifier))

    def like_comment(self, comment_id: int) -> Likes:
        return self._run(calls.like_comment(comment_id))

    def unlike_comment(self, comment_id: int) -> Likes:
        return self._run(calls.unlike_comment(comment_id))

    def list_comments(self, identifier: str, *, limit: int = 20, cursor: str | None = None) -> Page[Comment]:
        return self._run(calls.comments(identifier, limit=limit, cursor=cursor).first)

    def iter_comments(self, identifier: str, *, page_size: int = 20) -> Iterator[Comment]:
        """Every thread of an item (replies nested in each), fetching pages as needed."""
        return self._iterate(calls.comments(identifier, limit=page_size))

    def comment(
        self, identifier: str, body: str, *, parent_id: int | None = None, idempotency_key: str | None = None
    ) -> Comment:
        """Post Markdown (with math) on an item; the server sanitises it into `html`."""
        return self._run(
            calls.comment(identifier, body, parent_id=parent_id, idempotency_key=idempotency_key)
        )

    def reply(self, comment_id: int, body: str, *, idempotency_key: str | None = None) -> Comment:
        return self._run(calls.reply(comment_id, body, idempotency_key=idempotency_key))

    def get_comment(self, comment_id: int) -> Comment:
        return self._run(calls.get_comment(comment_id))

    def edit_comment(self, comment_id: int, body: str) -> Comment:
        return self._run(calls.edit_comment(comment_id, body))

    def delete_comment(self, comment_id: int) -> Comment:
        return self._run(calls.delete_comment(comment_id))

    def comment_history(self, comment_id: int) -> list[CommentRevision]:
        return self._run(calls.comment_history(comment_id))

    def report(
        self,
        identifier: str,
        category: ReportCategory,
        detail: str = "",
        *,
        idempotency_key: str | None = None,
    ) -> Report:
        return self._run(calls.report(identifier, category, detail, idempotency_key=idempotency_key))

    def report_comment(
        self,
        comment_id: int,
        category: ReportCategory,
        detail: str = "",
        *,
        idempotency_key: str | None = None,
    ) -> Report:
        return self._run(calls.report_comment(comment_id, category, detail, idempotency_key=idempotency_key))

    # -- community moderation -----------------------------------------------------------------

    def moderation_queue(
        self, kinds: Iterable[Literal["reports", "held", "appeal"]] = (), limit: int = 50
    ) -> list[QueueEntry]:
        return self._run(calls.moderation_queue(kinds, limit))

    def moderation_act(
        self,
        action: Literal["hide", "restore", "dismiss"],
        reason: str,
        *,
        submission: str | None = None,
        comment_id: int | None = None,
    ) -> ModerationAction:
        return self._run(calls.moderation_act(action, reason, submission=submission, comment_id=comment_id))

    def list_moderation_actions(
        self,
        *,
        submission: str | None = None,
        comment_id: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[ModerationAction]:
        return self._run(
            calls.moderation_actions(
                submission=submission, comment_id=comment_id, limit=limit, cursor=cursor
            ).first
        )

    def iter_moderation_actions(
        self, *, submission: str | None = None, comment_id: int | None = None, page_size: int = 50
    ) -> Iterator[ModerationAction]:
        return self._iterate(
            calls.moderation_actions(submission=submission, comment_id=comment_id, limit=page_size)
        )

    def appeal(self, action_id: int, statement: str) -> Appeal:
        return self._run(calls.appeal(action_id, statement))

    def decide_appeal(self, appeal_id: int, decision: Literal["grant", "deny"], reason: str) -> Appeal:
        return self._run(calls.decide_appeal(appeal_id, decision, reason))

    def notices(self) -> list[Notice]:
        return self._run(calls.notices())

    # -- search and digests -------------------------------------------------------------------

    def search(
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
        return self._run(
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
    ) -> Iterator[SearchHit]:
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

    def daily_papers(
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
        return self._run(
            calls.daily_papers(
                day=day, week=week, month=month, sort=sort, page=page, limit=limit, submitter=submitter
            )
        )

    def digest_subscription(self) -> DigestSubscription:
        return self._run(calls.digest_subscription())

    def subscribe_digest(self, categories: Iterable[str]) -> DigestSubscription:
        return self._run(calls.subscribe_digest(categories))

    def unsubscribe_digest(self) -> None:
        self._run(calls.unsubscribe_digest())

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
