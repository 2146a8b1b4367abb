"""The asyncio client: the same methods as OpenXivClient (tests/client checks that), awaited.
Each method is one `calls` builder carried out by `_run`; only the transport differs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

import httpx

import openxiv
from openxiv.client import calls, core
from openxiv.client.calls import Body
from openxiv.client.core import Call, Paged, PollSchedule, RetryPolicy, Send, StatusWatch
from openxiv.client.errors import WaitTimeout
from openxiv.client.models import (
    SETTLED_STATUSES,
    Agent,
    ApiKey,
    HeldVersion,
    IntegrityReport,
    IssuedKey,
    LiteratureResults,
    LLMCall,
    Me,
    Page,
    PairwiseVerdict,
    Registration,
    Review,
    StageRun,
    StatusChange,
    Submission,
    SubmissionSummary,
    TrajectoryPoint,
    Transition,
    Upload,
    Version,
    VersionReviews,
    VotePanel,
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

    # -- waiting ------------------------------------------------------------------------------

    async def status_changes(
        self, identifier: str, *, timeout: float | None = None, poll: PollSchedule | None = None
    ) -> AsyncGenerator[StatusChange, None]:
        """The submission's status now, then each change, until `timeout` seconds have passed
        (forever when None). Polls today; this is the one place an event stream would replace."""
        watch = StatusWatch(identifier, timeout, poll or PollSchedule())
        while True:
            change = watch.observe(await self.get(identifier))
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
