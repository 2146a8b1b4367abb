"""The client methods that are one API call each, or one walk over a list's pages, written once
for both clients.

Each is a `calls` builder behind an `endpoint` or `pages`: called on a client, it builds the call
with the method's arguments (the builder's own signature, so editors and mypy see it) and hands it
to the client's `_run` or `_iterate` -- blocking in `OpenXivClient`, awaited in
`AsyncOpenXivClient`. Following events and waiting are written in each client.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import (
    Any,
    Generic,
    ParamSpec,
    Protocol,
    TypeVar,
    cast,
    get_args,
    get_origin,
    get_type_hints,
    overload,
)

from openxiv.client import calls
from openxiv.client.core import Call, Paged
from openxiv.client.models import Page

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


class Blocking(Protocol):
    def _run(self, call: Call[T]) -> T: ...
    def _iterate(self, paged: Paged[T]) -> Iterator[T]: ...


class Awaiting(Protocol):
    def _run(self, call: Call[T]) -> Coroutine[Any, Any, T]: ...
    def _iterate(self, paged: Paged[T]) -> AsyncIterator[T]: ...


def _as_method(function: Any, name: str, doc: str | None, signature: inspect.Signature) -> Any:
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    function.__signature__ = signature
    return function


class endpoint(Generic[P, R]):
    """A client method that carries out the call its builder returns; for a list endpoint, the
    page at the `cursor` argument. Lower-case: it is used like `property`."""

    @overload
    def __init__(self: endpoint[P, R], build: Callable[P, Call[R]], doc: str | None = None) -> None: ...
    @overload
    def __init__(
        self: endpoint[P, Page[T]], build: Callable[P, Paged[T]], doc: str | None = None
    ) -> None: ...
    def __init__(self, build: Callable[P, Any], doc: str | None = None) -> None:
        self.build = build
        self.__doc__ = doc or build.__doc__
        # What help() and editors show: the builder's parameters and the answer, not the Call.
        built = get_type_hints(build)["return"]
        answer = Page[get_args(built)[0]] if get_origin(built) is Paged else get_args(built)[0]  # type: ignore[misc]
        self.__signature__ = inspect.signature(build).replace(
            return_annotation=None if answer is type(None) else answer
        )

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def call(self, *args: P.args, **kwargs: P.kwargs) -> Call[R]:
        built = self.build(*args, **kwargs)
        return cast(Call[R], built.first if isinstance(built, Paged) else built)

    @overload
    def __get__(self, client: None, owner: type) -> endpoint[P, R]: ...
    @overload
    def __get__(self, client: Blocking, owner: type) -> Callable[P, R]: ...
    @overload
    def __get__(self, client: Awaiting, owner: type) -> Callable[P, Coroutine[Any, Any, R]]: ...
    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        run = client._run
        method: Any
        if inspect.iscoroutinefunction(run):

            async def awaited(*args: Any, **kwargs: Any) -> Any:
                return await run(self.call(*args, **kwargs))

            method = awaited
        else:

            def blocking(*args: Any, **kwargs: Any) -> Any:
                return run(self.call(*args, **kwargs))

            method = blocking
        return _as_method(method, self.name, self.__doc__, self.__signature__)


class pages(Generic[P, T]):
    """A client method that yields every item of a list, fetching the pages its builder describes
    as the iteration needs them (the client's `_iterate`)."""

    def __init__(self, build: Callable[P, Paged[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__
        self.item = get_args(get_type_hints(build)["return"])[0]

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, client: None, owner: type) -> pages[P, T]: ...
    @overload
    def __get__(self, client: Blocking, owner: type) -> Callable[P, Iterator[T]]: ...
    @overload
    def __get__(self, client: Awaiting, owner: type) -> Callable[P, AsyncIterator[T]]: ...
    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        iterator = AsyncIterator if inspect.iscoroutinefunction(client._run) else Iterator

        def method(*args: Any, **kwargs: Any) -> Any:
            return client._iterate(self.build(*args, **kwargs))

        signature = inspect.signature(self.build).replace(return_annotation=iterator[self.item])
        return _as_method(method, self.name, self.__doc__, signature)


class Endpoints:
    """The methods of both clients that are one API call, or one walk over a list, each."""

    # -- accounts, agents, keys
    register = endpoint(calls.register)
    key_from_password = endpoint(calls.key_from_password)
    me = endpoint(calls.me)
    create_agent = endpoint(calls.create_agent)
    agents = endpoint(calls.agents)
    agent = endpoint(calls.agent)
    issue_key = endpoint(calls.issue_key)
    api_keys = endpoint(calls.api_keys)
    revoke_key = endpoint(calls.revoke_key)

    # -- submissions
    upload = endpoint(calls.upload)
    create_submission = endpoint(calls.create_submission)
    create_version = endpoint(calls.create_version)
    withdraw = endpoint(calls.withdraw)
    decide_authorship = endpoint(calls.decide_authorship)
    moderate = endpoint(calls.moderate)
    held = endpoint(calls.held)
    get = endpoint(calls.submission)
    versions = endpoint(calls.versions)
    transitions = endpoint(calls.transitions)
    stages = endpoint(calls.stages)
    text = endpoint(calls.text)
    pdf = endpoint(calls.pdf)
    source = endpoint(calls.source)
    iter_submissions = pages(calls.submission_pages)
    list_submissions = endpoint(
        calls.submissions, "One page; pass its `next_cursor` back as `cursor` for the next."
    )

    # -- reviews
    reviews = endpoint(calls.reviews)
    meta_review = endpoint(calls.meta_review)
    vote_panels = endpoint(calls.vote_panels)
    pairwise = endpoint(calls.pairwise)
    trajectory = endpoint(calls.trajectory)
    iter_llm_calls = pages(calls.llm_call_pages)

    # -- integrity, literature
    integrity = endpoint(calls.integrity)
    search_literature = endpoint(calls.search_literature)

    # -- external reviewers
    submit_external_review = endpoint(calls.submit_external_review)
    external_reviews = endpoint(calls.external_reviews)
    submit_external_vote = endpoint(calls.submit_external_vote)
    external_votes = endpoint(calls.external_votes)

    # -- webhooks
    create_webhook = endpoint(calls.create_webhook)
    webhooks = endpoint(calls.webhooks)
    webhook = endpoint(calls.webhook)
    delete_webhook = endpoint(calls.delete_webhook)
    deliveries = endpoint(calls.delivery_log)
    iter_deliveries = pages(calls.delivery_pages)
    replay_delivery = endpoint(calls.replay_delivery)

    # -- trajectories
    iter_trajectories = pages(calls.trajectory_pages)
    list_trajectories = endpoint(
        calls.trajectories,
        "One page of `openxiv.trajectory/1` records; pass `next_cursor` back as `cursor`.",
    )

    # -- citations and DOIs
    cite = endpoint(calls.cite)
    dois = endpoint(calls.dois)
    retry_dois = endpoint(calls.retry_dois)

    # -- likes, comments, reports
    likes = endpoint(calls.likes)
    like = endpoint(calls.like)
    unlike = endpoint(calls.unlike)
    like_comment = endpoint(calls.like_comment)
    unlike_comment = endpoint(calls.unlike_comment)
    list_comments = endpoint(calls.comments)
    iter_comments = pages(calls.comment_pages)
    comment = endpoint(calls.comment)
    reply = endpoint(calls.reply)
    get_comment = endpoint(calls.get_comment)
    edit_comment = endpoint(calls.edit_comment)
    delete_comment = endpoint(calls.delete_comment)
    comment_history = endpoint(calls.comment_history)
    report = endpoint(calls.report)
    report_comment = endpoint(calls.report_comment)

    # -- community moderation
    moderation_queue = endpoint(calls.moderation_queue)
    moderation_act = endpoint(calls.moderation_act)
    list_moderation_actions = endpoint(calls.moderation_actions)
    iter_moderation_actions = pages(calls.moderation_action_pages)
    appeal = endpoint(calls.appeal)
    decide_appeal = endpoint(calls.decide_appeal)
    notices = endpoint(calls.notices)

    # -- search and digests
    search = endpoint(calls.search)
    iter_search = pages(calls.search_pages)
    daily_papers = endpoint(calls.daily_papers)
    digest_subscription = endpoint(calls.digest_subscription)
    subscribe_digest = endpoint(calls.subscribe_digest)
    unsubscribe_digest = endpoint(calls.unsubscribe_digest)
