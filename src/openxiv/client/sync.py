"""The blocking client. Each method is one `calls` builder carried out by `_run`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
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

    # -- waiting ------------------------------------------------------------------------------

    def status_changes(
        self, identifier: str, *, timeout: float | None = None, poll: PollSchedule | None = None
    ) -> Iterator[StatusChange]:
        """The submission's status now, then each change, until `timeout` seconds have passed
        (forever when None). Polls today; this is the one place an event stream would replace."""
        watch = StatusWatch(identifier, timeout, poll or PollSchedule())
        while True:
            change = watch.observe(self.get(identifier))
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
        for change in self.status_changes(identifier, timeout=timeout, poll=poll):
            last = change.status
            if core.reached(change, wanted):
                return self.get(identifier)
        raise WaitTimeout(identifier, wanted, last)
