"""Every endpoint of the REST API as a `Call` builder: path, parameters, body and the parser of
its answer. Both clients send these; nothing here does I/O except reading a file to upload."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel

from openxiv.client import core
from openxiv.client.core import Call, Paged
from openxiv.client.models import (
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
    Submission,
    SubmissionSummary,
    TrajectoryPoint,
    Transition,
    Upload,
    Version,
    VersionReviews,
    VotePanel,
)

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


# ----------------------------------------------------------------------------- reviews


def reviews(identifier: str) -> Call[VersionReviews]:
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


# ----------------------------------------------------------------------------- integrity, literature


def integrity(identifier: str) -> Call[IntegrityReport]:
    return Call("GET", _item(identifier, "/integrity"), core.model(IntegrityReport))


def search_literature(query: str, k: int = 10) -> Call[LiteratureResults]:
    return Call("GET", "/literature/search", core.model(LiteratureResults), params={"q": query, "k": k})
