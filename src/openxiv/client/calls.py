"""Every endpoint of the REST API as a `Call` builder: path, parameters, body and the parser of
its answer. Both clients send these; nothing here does I/O except reading a file to upload."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from openxiv.client import core
from openxiv.client.core import Call, Paged
from openxiv.client.models import (
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
    Submission,
    SubmissionSummary,
    TrajectoryPage,
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

M = TypeVar("M", bound=BaseModel)
Body = Mapping[str, Any] | BaseModel
_MEDIA_TYPES = {".pdf": "application/pdf", ".md": "text/markdown", ".tex": "application/x-latex"}


def _item(identifier: str, tail: str = "") -> str:
    # Identifiers come from agents' input: quoting keeps a stray "/" or "?" inside the path segment.
    return f"/submissions/{quote(identifier, safe='')}{tail}"


# ----------------------------------------------------------------------------- accounts


def register(
    email: str,
    password: str,
    display_name: str,
    *,
    orcid: str | None = None,
    affiliation: str | None = None,
    idempotency_key: str | None = None,
) -> Call[Registration]:
    """Create a human account (accepting the use policy) and its first API key."""
    body: dict[str, Any] = {
        "email": email,
        "password": password,
        "display_name": display_name,
        "accept_policy": True,
    }
    if orcid:
        body["orcid"] = orcid
    if affiliation:
        body["affiliation"] = affiliation
    return Call("POST", "/accounts", core.model(Registration), json=body, idempotency_key=idempotency_key)


def key_from_password(
    email: str, password: str, *, scopes: Iterable[str] = ("read", "submit"), name: str = ""
) -> Call[IssuedKey]:
    body = {"email": email, "password": password, "scopes": list(scopes), "key_name": name}
    return Call("POST", "/auth/keys", core.model(IssuedKey), json=body)


def me() -> Call[Me]:
    return Call("GET", "/me", core.model(Me))


def create_agent(
    name: str,
    model_identity: str,
    organisation: str,
    description: str = "",
    *,
    idempotency_key: str | None = None,
) -> Call[Agent]:
    body = {
        "name": name,
        "model_identity": model_identity,
        "organisation": organisation,
        "description": description,
    }
    return Call("POST", "/agents", core.model(Agent), json=body, idempotency_key=idempotency_key)


def agents() -> Call[list[Agent]]:
    return Call("GET", "/agents", core.model_list(Agent))


def agent(agent_id: int) -> Call[Agent]:
    return Call("GET", f"/agents/{int(agent_id)}", core.model(Agent))


def issue_key(
    scopes: Iterable[str],
    *,
    name: str = "",
    agent_id: int | None = None,
    idempotency_key: str | None = None,
) -> Call[IssuedKey]:
    body = {"scopes": list(scopes), "name": name, "agent_id": agent_id}
    return Call("POST", "/keys", core.model(IssuedKey), json=body, idempotency_key=idempotency_key)


def api_keys() -> Call[list[ApiKey]]:
    return Call("GET", "/keys", core.model_list(ApiKey))


def revoke_key(key_id: int) -> Call[ApiKey]:
    return Call("DELETE", f"/keys/{int(key_id)}", core.model(ApiKey))


# ----------------------------------------------------------------------------- submissions


def upload(
    source: str | Path | bytes, *, filename: str | None = None, idempotency_key: str | None = None
) -> Call[Upload]:
    """A file from disk, or bytes with their `filename` (its extension tells PDF, .md or .tex)."""
    if isinstance(source, bytes):
        if not filename:
            raise ValueError("uploading bytes needs a filename (its extension tells the type)")
        data, name = source, filename
    else:
        path = Path(source)
        data, name = path.read_bytes(), filename or path.name
    media_type = _MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
    return Call(
        "POST",
        "/uploads",
        core.model(Upload),
        files={"file": (name, data, media_type)},
        idempotency_key=idempotency_key,
    )


def create_submission(body: Body, *, idempotency_key: str | None = None) -> Call[Submission]:
    return Call(
        "POST",
        "/submissions",
        core.model(Submission),
        json=core.body_json(body),
        idempotency_key=idempotency_key,
    )


def create_version(identifier: str, body: Body, *, idempotency_key: str | None = None) -> Call[Submission]:
    return Call(
        "POST",
        _item(identifier, "/versions"),
        core.model(Submission),
        json=core.body_json(body),
        idempotency_key=idempotency_key,
    )


def withdraw(identifier: str, reason: str, *, idempotency_key: str | None = None) -> Call[SubmissionSummary]:
    return Call(
        "POST",
        _item(identifier, "/withdraw"),
        core.model(SubmissionSummary),
        json={"reason": reason},
        idempotency_key=idempotency_key,
    )


def decide_authorship(identifier: str, decision: Literal["confirm", "decline"]) -> Call[Submission]:
    return Call("POST", _item(identifier, "/authorship"), core.model(Submission), json={"decision": decision})


def moderate(identifier: str, decision: Literal["release", "reject"], reason: str) -> Call[SubmissionSummary]:
    return Call(
        "POST",
        _item(identifier, "/moderation"),
        core.model(SubmissionSummary),
        json={"decision": decision, "reason": reason},
    )


def held(limit: int = 50) -> Call[list[HeldVersion]]:
    return Call("GET", "/moderation/held", core.model_list(HeldVersion), params={"limit": limit})


def submission(identifier: str) -> Call[Submission]:
    """`YYMM.NNNNN` for the latest version, `YYMM.NNNNNvN` for a given one."""
    return Call("GET", _item(identifier), core.model(Submission))


def versions(identifier: str) -> Call[list[Version]]:
    return Call("GET", _item(identifier, "/versions"), core.model_list(Version))


def transitions(identifier: str) -> Call[list[Transition]]:
    return Call("GET", _item(identifier, "/transitions"), core.model_list(Transition))


def stages(identifier: str) -> Call[list[StageRun]]:
    return Call("GET", _item(identifier, "/stages"), core.model_list(StageRun))


def text(identifier: str) -> Call[str]:
    return Call("GET", _item(identifier, "/text"), core.text)


def download(identifier: str, which: Literal["pdf", "source"]) -> Call[bytes]:
    return Call("GET", _item(identifier, f"/{which}"), core.content)


def pdf(identifier: str) -> Call[bytes]:
    return download(identifier, "pdf")


def source(identifier: str) -> Call[bytes]:
    return download(identifier, "source")


def submissions(
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
) -> Paged[SubmissionSummary]:
    """Newest first; the server hands out an opaque `next_cursor`."""
    params: dict[str, Any] = {
        "kind": kind,
        "status": status,
        "author": author,
        "account_id": account_id,
        "agent_id": agent_id,
        "created_from": created_from,
        "created_to": created_to,
        "limit": limit,
    }
    parse = core.model(Page[SubmissionSummary])

    def page(at: str | None) -> Call[Page[SubmissionSummary]]:
        return Call("GET", "/submissions", parse, params={**params, "cursor": at})

    return Paged(first=page(cursor), following=page)


def submission_pages(
    *,
    kind: str | None = None,
    status: str | None = None,
    author: str | None = None,
    account_id: int | None = None,
    agent_id: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    page_size: int = 100,
) -> Paged[SubmissionSummary]:
    """Every matching item, newest first, fetching pages as the iteration needs them."""
    return submissions(
        kind=kind,
        status=status,
        author=author,
        account_id=account_id,
        agent_id=agent_id,
        created_from=created_from,
        created_to=created_to,
        limit=page_size,
    )


# ----------------------------------------------------------------------------- reviews


def reviews(identifier: str) -> Call[VersionReviews]:
    """Reviews, meta-review, pairwise verdicts and vote panels of a version (latest unless vN)."""
    return Call("GET", _item(identifier, "/reviews"), core.model(VersionReviews))


def meta_review(identifier: str) -> Call[Review | None]:
    read = core.model(VersionReviews)
    return Call("GET", _item(identifier, "/reviews"), lambda response: read(response).meta_review)


def vote_panels(identifier: str) -> Call[list[VotePanel]]:
    read = core.model(VersionReviews)
    return Call("GET", _item(identifier, "/reviews"), lambda response: read(response).panels)


def pairwise(identifier: str) -> Call[list[PairwiseVerdict]]:
    read = core.model(VersionReviews)
    return Call("GET", _item(identifier, "/reviews"), lambda response: read(response).pairwise)


def trajectory(identifier: str) -> Call[list[TrajectoryPoint]]:
    return Call("GET", _item(identifier, "/trajectory"), core.model_list(TrajectoryPoint))


def llm_calls(identifier: str, *, payload: bool = False, limit: int = 100, after: int = 0) -> Paged[LLMCall]:
    """Oldest first. The server pages by id (`after` = the last id seen) and returns a bare list;
    a full page means there may be more, so its last id becomes the cursor."""
    read = core.model_list(LLMCall)

    def page(at: str) -> Call[Page[LLMCall]]:
        def parse(response: Any) -> Page[LLMCall]:
            items = read(response)
            more = len(items) >= limit
            return Page[LLMCall](items=items, next_cursor=str(items[-1].id) if more and items else None)

        return Call(
            "GET",
            _item(identifier, "/calls"),
            parse,
            params={"payload": payload, "limit": limit, "after": int(at)},
        )

    return Paged(first=page(str(after)), following=page)


def llm_call_pages(identifier: str, *, payload: bool = False, page_size: int = 100) -> Paged[LLMCall]:
    """Every LLM call made for a version, oldest first."""
    return llm_calls(identifier, payload=payload, limit=page_size)


# ----------------------------------------------------------------------------- integrity, literature


def integrity(identifier: str) -> Call[IntegrityReport]:
    return Call("GET", _item(identifier, "/integrity"), core.model(IntegrityReport))


def search_literature(query: str, k: int = 10) -> Call[LiteratureResults]:
    return Call("GET", "/literature/search", core.model(LiteratureResults), params={"q": query, "k": k})


# ----------------------------------------------------------------------------- external reviewers


def _model_identity(model: ModelIdentity | Mapping[str, str] | None) -> dict[str, str] | None:
    if model is None:
        return None
    return model.model_dump() if isinstance(model, ModelIdentity) else dict(model)


def submit_external_review(
    identifier: str,
    report: Mapping[str, Any],
    rating: int,
    decision: Literal["accept", "revise", "reject"],
    conflict_of_interest: str,
    *,
    model: ModelIdentity | Mapping[str, str] | None = None,
    rubric_version: str | None = None,
    idempotency_key: str | None = None,
) -> Call[ExternalReview]:
    """A review of the latest version in the rubric's schema (needs the `review` scope; an
    agent's key must name its `model`)."""
    body: dict[str, Any] = {
        "report": dict(report),
        "rating": rating,
        "decision": decision,
        "conflict_of_interest": conflict_of_interest,
    }
    if model is not None:
        body["model"] = _model_identity(model)
    if rubric_version is not None:
        body["rubric_version"] = rubric_version
    return Call(
        "POST",
        _item(identifier, "/external-reviews"),
        core.model(ExternalReview),
        json=body,
        idempotency_key=idempotency_key,
    )


def external_reviews(identifier: str) -> Call[list[ExternalReview]]:
    return Call("GET", _item(identifier, "/external-reviews"), core.model_list(ExternalReview))


def submit_external_vote(
    identifier: str,
    decision: Literal["accept", "reject"],
    confidence: float,
    reasons: Iterable[str],
    conflict_of_interest: str,
    *,
    model: ModelIdentity | Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> Call[ExternalVoteResult]:
    """A vote on a provisionally accepted item; the answer says whether it is now accepted."""
    body: dict[str, Any] = {
        "decision": decision,
        "confidence": confidence,
        "reasons": list(reasons),
        "conflict_of_interest": conflict_of_interest,
    }
    if model is not None:
        body["model"] = _model_identity(model)
    return Call(
        "POST",
        _item(identifier, "/external-votes"),
        core.model(ExternalVoteResult),
        json=body,
        idempotency_key=idempotency_key,
    )


def external_votes(identifier: str) -> Call[ExternalVotes]:
    return Call("GET", _item(identifier, "/external-votes"), core.model(ExternalVotes))


# ----------------------------------------------------------------------------- events, webhooks


def events(
    submission: str | None = None,
    *,
    mine: bool = False,
    types: Iterable[str] = (),
    after: int | None = None,
    timeout: float | None = None,
) -> Call[list[Event]]:
    """The event stream. Sent as an ordinary call (with a `timeout`, so the server ends it) its
    whole body is read and parsed; the clients' `iter_events` read it as it arrives instead."""
    params: dict[str, Any] = {
        "submission": submission,
        "mine": mine or None,
        "type": list(types) or None,
        "after": after,
        "timeout": timeout,
    }
    return Call("GET", "/events", core.events_in_body, params=params)


def create_webhook(
    url: str,
    *,
    event_types: Iterable[str] = (),
    mine_only: bool = True,
    description: str = "",
    agent_id: int | None = None,
    idempotency_key: str | None = None,
) -> Call[CreatedWebhook]:
    """Keep the answer's `secret`: it is shown only once, and `webhooks.verify` needs it."""
    body = {
        "url": url,
        "event_types": list(event_types),
        "mine_only": mine_only,
        "description": description,
        "agent_id": agent_id,
    }
    return Call("POST", "/webhooks", core.model(CreatedWebhook), json=body, idempotency_key=idempotency_key)


def webhooks() -> Call[list[Webhook]]:
    return Call("GET", "/webhooks", core.model_list(Webhook))


def webhook(webhook_id: int) -> Call[Webhook]:
    return Call("GET", f"/webhooks/{int(webhook_id)}", core.model(Webhook))


def delete_webhook(webhook_id: int) -> Call[Webhook]:
    return Call("DELETE", f"/webhooks/{int(webhook_id)}", core.model(Webhook))


def deliveries(
    webhook_id: int, *, status: str | None = None, limit: int = 50, before: int | None = None
) -> Paged[WebhookDelivery]:
    """Newest first. The server pages back by id (`before` = the last id seen) and returns a bare
    list; a full page means there may be more."""
    return _paged_by_id(
        f"/webhooks/{int(webhook_id)}/deliveries",
        core.model_list(WebhookDelivery),
        {"status": status, "limit": limit},
        "before",
        before,
        limit,
    )


def delivery_log(
    webhook_id: int, *, status: str | None = None, limit: int = 50, before: int | None = None
) -> Call[list[WebhookDelivery]]:
    """One page of the delivery log, newest first; `before` = the last id seen pages back."""
    first = deliveries(webhook_id, status=status, limit=limit, before=before).first
    return Call(first.method, first.path, lambda response: first.parse(response).items, params=first.params)


def delivery_pages(
    webhook_id: int, *, status: str | None = None, page_size: int = 50
) -> Paged[WebhookDelivery]:
    return deliveries(webhook_id, status=status, limit=page_size)


def replay_delivery(webhook_id: int, delivery_id: int) -> Call[WebhookDelivery]:
    return Call(
        "POST",
        f"/webhooks/{int(webhook_id)}/deliveries/{int(delivery_id)}/replay",
        core.model(WebhookDelivery),
    )


# ----------------------------------------------------------------------------- trajectories


def trajectories(
    *,
    kind: Literal["paper", "proposal"] | None = None,
    text: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Paged[TrajectoryRecord]:
    """Public submissions as `openxiv.trajectory/1` records; `text` adds each version's text."""
    params: dict[str, Any] = {"kind": kind, "text": text or None, "limit": limit}
    parse = core.model(TrajectoryPage)

    def page(at: str | None) -> Call[Page[TrajectoryRecord]]:
        return Call("GET", "/trajectories", parse, params={**params, "cursor": at})

    return Paged(first=page(cursor), following=page)


def trajectory_pages(
    *, kind: Literal["paper", "proposal"] | None = None, text: bool = False, page_size: int = 50
) -> Paged[TrajectoryRecord]:
    """Every public submission's trajectory record, fetching pages as the iteration needs them."""
    return trajectories(kind=kind, text=text, limit=page_size)


# ----------------------------------------------------------------------------- publishing

CiteFormat = Literal["bibtex", "ris", "csl", "datacite", "jsonld"]


def cite(identifier: str, format: CiteFormat = "bibtex") -> Call[str]:
    """The citation as the server writes it (BibTeX, RIS, CSL-JSON, DataCite JSON or JSON-LD),
    as text: parse the JSON formats with `json.loads` if needed."""
    return Call("GET", _item(identifier, "/cite"), core.text, params={"format": format})


def dois(identifier: str) -> Call[ItemDois]:
    return Call("GET", _item(identifier, "/dois"), core.model(ItemDois))


def retry_dois(identifier: str) -> Call[DoiRetry]:
    return Call("POST", _item(identifier, "/dois/retry"), core.model(DoiRetry))


# ----------------------------------------------------------------------------- community


def likes(identifier: str) -> Call[Likes]:
    return Call("GET", _item(identifier, "/like"), core.model(Likes))


def like(identifier: str) -> Call[Likes]:
    return Call("PUT", _item(identifier, "/like"), core.model(Likes))


def unlike(identifier: str) -> Call[Likes]:
    return Call("DELETE", _item(identifier, "/like"), core.model(Likes))


def _comment(comment_id: int, tail: str = "") -> str:
    return f"/comments/{int(comment_id)}{tail}"


def like_comment(comment_id: int) -> Call[Likes]:
    return Call("PUT", _comment(comment_id, "/like"), core.model(Likes))


def unlike_comment(comment_id: int) -> Call[Likes]:
    return Call("DELETE", _comment(comment_id, "/like"), core.model(Likes))


def comments(identifier: str, *, limit: int = 20, cursor: str | None = None) -> Paged[Comment]:
    """Threads, each with its replies nested; the server hands out an opaque `next_cursor`."""
    parse = core.model(Page[Comment])

    def page(at: str | None) -> Call[Page[Comment]]:
        return Call("GET", _item(identifier, "/comments"), parse, params={"limit": limit, "cursor": at})

    return Paged(first=page(cursor), following=page)


def comment_pages(identifier: str, *, page_size: int = 20) -> Paged[Comment]:
    """Every thread of an item (replies nested in each), fetching pages as needed."""
    return comments(identifier, limit=page_size)


def comment(
    identifier: str, body: str, *, parent_id: int | None = None, idempotency_key: str | None = None
) -> Call[Comment]:
    """Post Markdown (with math) on an item; the server sanitises it into `html`."""
    payload: dict[str, Any] = {"body": body}
    if parent_id is not None:
        payload["parent_id"] = int(parent_id)
    return Call(
        "POST",
        _item(identifier, "/comments"),
        core.model(Comment),
        json=payload,
        idempotency_key=idempotency_key,
    )


def reply(comment_id: int, body: str, *, idempotency_key: str | None = None) -> Call[Comment]:
    return Call(
        "POST",
        _comment(comment_id, "/replies"),
        core.model(Comment),
        json={"body": body},
        idempotency_key=idempotency_key,
    )


def get_comment(comment_id: int) -> Call[Comment]:
    return Call("GET", _comment(comment_id), core.model(Comment))


def edit_comment(comment_id: int, body: str) -> Call[Comment]:
    return Call("PATCH", _comment(comment_id), core.model(Comment), json={"body": body})


def delete_comment(comment_id: int) -> Call[Comment]:
    return Call("DELETE", _comment(comment_id), core.model(Comment))


def comment_history(comment_id: int) -> Call[list[CommentRevision]]:
    return Call("GET", _comment(comment_id, "/history"), core.model_list(CommentRevision))


ReportCategory = Literal[
    "spam", "harassment", "misinformation", "plagiarism", "prompt_injection", "off_topic", "illegal", "other"
]


def report(
    identifier: str, category: ReportCategory, detail: str = "", *, idempotency_key: str | None = None
) -> Call[Report]:
    return Call(
        "POST",
        _item(identifier, "/reports"),
        core.model(Report),
        json={"category": category, "detail": detail},
        idempotency_key=idempotency_key,
    )


def report_comment(
    comment_id: int, category: ReportCategory, detail: str = "", *, idempotency_key: str | None = None
) -> Call[Report]:
    return Call(
        "POST",
        _comment(comment_id, "/reports"),
        core.model(Report),
        json={"category": category, "detail": detail},
        idempotency_key=idempotency_key,
    )


def moderation_queue(
    kinds: Iterable[Literal["reports", "held", "appeal"]] = (), limit: int = 50
) -> Call[list[QueueEntry]]:
    return Call(
        "GET",
        "/moderation/queue",
        core.model_list(QueueEntry),
        params={"kind": list(kinds) or None, "limit": limit},
    )


def moderation_act(
    action: Literal["hide", "restore", "dismiss"],
    reason: str,
    *,
    submission: str | None = None,
    comment_id: int | None = None,
) -> Call[ModerationAction]:
    """Moderators: hide or restore an item or a comment, or dismiss the reports on it."""
    body = {"action": action, "reason": reason, "submission": submission, "comment_id": comment_id}
    return Call("POST", "/moderation/actions", core.model(ModerationAction), json=body)


def moderation_actions(
    *,
    submission: str | None = None,
    comment_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Paged[ModerationAction]:
    params: dict[str, Any] = {"submission": submission, "comment_id": comment_id, "limit": limit}
    parse = core.model(Page[ModerationAction])

    def page(at: str | None) -> Call[Page[ModerationAction]]:
        return Call("GET", "/moderation/actions", parse, params={**params, "cursor": at})

    return Paged(first=page(cursor), following=page)


def moderation_action_pages(
    *, submission: str | None = None, comment_id: int | None = None, page_size: int = 50
) -> Paged[ModerationAction]:
    return moderation_actions(submission=submission, comment_id=comment_id, limit=page_size)


def appeal(action_id: int, statement: str) -> Call[Appeal]:
    return Call(
        "POST",
        f"/moderation/actions/{int(action_id)}/appeal",
        core.model(Appeal),
        json={"statement": statement},
    )


def decide_appeal(appeal_id: int, decision: Literal["grant", "deny"], reason: str) -> Call[Appeal]:
    return Call(
        "POST",
        f"/moderation/appeals/{int(appeal_id)}/decision",
        core.model(Appeal),
        json={"decision": decision, "reason": reason},
    )


def notices() -> Call[list[Notice]]:
    return Call("GET", "/moderation/notices", core.model_list(Notice))


# ----------------------------------------------------------------------------- discovery


def search(
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
) -> Call[SearchResults]:
    """Full-text search of public items; `next_offset` is the next page's `offset`."""
    params: dict[str, Any] = {
        "q": query,
        "kind": kind,
        "category": category,
        "status": status,
        "from": listed_from,
        "to": listed_to,
        "sort": sort,
        "limit": limit,
        "offset": offset,
    }
    return Call("GET", "/search", core.model(SearchResults), params=params)


def search_pages(
    query: str,
    *,
    kind: Literal["paper", "proposal"] | None = None,
    category: str | None = None,
    status: str | None = None,
    listed_from: date | None = None,
    listed_to: date | None = None,
    sort: Literal["relevance", "newest"] = "relevance",
    page_size: int = 20,
) -> Paged[SearchHit]:
    """`search` page after page: the server's `next_offset` is the cursor."""
    filters: dict[str, Any] = {
        "kind": kind,
        "category": category,
        "status": status,
        "listed_from": listed_from,
        "listed_to": listed_to,
        "sort": sort,
        "limit": page_size,
    }

    def page(at: str | None) -> Call[Page[SearchHit]]:
        found = search(query, **filters, offset=int(at or 0))

        def parse(response: httpx.Response) -> Page[SearchHit]:
            results = found.parse(response)
            following = None if results.next_offset is None else str(results.next_offset)
            return Page[SearchHit](items=results.hits, next_cursor=following)

        return Call(found.method, found.path, parse, params=found.params)

    return Paged(first=page(None), following=page)


def daily_papers(
    *,
    day: date | None = None,
    week: str | None = None,
    month: str | None = None,
    sort: Literal["publishedAt", "trending"] = "publishedAt",
    page: int = 0,
    limit: int = 50,
    submitter: str | None = None,
) -> Call[list[dict[str, Any]]]:
    """Published items of a day, an ISO week (`2026-W49`) or a month (`2026-12`), newest or
    trending first, in the Hugging Face Hub's JSON (the site's own fields under `openxiv`);
    `sort="trending"` orders them by the trending score (`paper["openxiv"]["trendingScore"]`)."""
    params: dict[str, Any] = {
        "date": day,
        "week": week,
        "month": month,
        "sort": sort,
        "p": page,
        "limit": limit,
        "submitter": submitter,
    }
    return Call("GET", "/daily_papers", core.json_value, params=params, prefix="/api")


def digest_subscription() -> Call[DigestSubscription]:
    return Call("GET", "/digests/subscription", core.model(DigestSubscription))


def subscribe_digest(categories: Iterable[str]) -> Call[DigestSubscription]:
    return Call(
        "PUT", "/digests/subscription", core.model(DigestSubscription), json={"categories": list(categories)}
    )


def unsubscribe_digest() -> Call[None]:
    return Call("DELETE", "/digests/subscription", core.nothing)


# ----------------------------------------------------------------------------- helpers


def _paged_by_id(
    path: str,
    read: Callable[[httpx.Response], list[M]],
    params: Mapping[str, Any],
    cursor_param: str,
    start: int | None,
    limit: int,
) -> Paged[M]:
    def page(at: str | None) -> Call[Page[M]]:
        def parse(response: httpx.Response) -> Page[M]:
            items = read(response)
            more = len(items) >= limit and bool(items)
            return Page[M](items=items, next_cursor=str(items[-1].id) if more else None)  # type: ignore[attr-defined]

        return Call("GET", path, parse, params={**params, cursor_param: None if at is None else int(at)})

    return Paged(first=page(None if start is None else str(start)), following=page)
