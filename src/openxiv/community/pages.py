"""Browser forms of the community: like an item, comment and reply, and the moderators' actions
on reported items and comments. The same services as the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.community import moderation, service
from openxiv.community.deps import CommunityLimits
from openxiv.errors import DomainError, InvalidInput
from openxiv.http.deps import DatabaseDep
from openxiv.http.rendering import check_csrf, render_error

router = APIRouter(include_in_schema=False)


@router.post("/abs/{identifier}/like", response_model=None)
def like(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    limits: CommunityLimits,
    csrf: Annotated[str, Form()],
    liked: Annotated[str, Form()] = "1",
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        with database.writing() as session:
            service.like_item(session, principal, identifier, limits, liked=liked == "1")
    except DomainError as error:
        return render_error(request, error)
    return RedirectResponse(f"/abs/{identifier}", status_code=303)


@router.post("/abs/{identifier}/comments", response_model=None)
def comment(
    request: Request,
    identifier: str,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    limits: CommunityLimits,
    body: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    parent_id: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        if parent_id and not parent_id.isdigit():
            raise InvalidInput("parent_id must be a comment id", field="parent_id")
        with database.writing() as session:
            created = service.create_comment(
                session, principal, identifier, body, limits, parent_id=int(parent_id) if parent_id else None
            )
            anchor = f"comment-{created.id}"
    except DomainError as error:
        return render_error(request, error)
    return RedirectResponse(f"/abs/{identifier}#{anchor}", status_code=303)


@router.post("/moderation/act", response_model=None)
def act(
    request: Request,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    action: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    identifier: Annotated[str, Form()] = "",
    comment_id: Annotated[str, Form()] = "",
) -> Response:
    """Hide, restore or dismiss the reports of an item or a comment, with a reason."""
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        if action not in ("hide", "restore", "dismiss"):
            raise InvalidInput("action is hide, restore or dismiss", field="action")
        with database.writing() as session:
            target = moderation.resolve_target(
                session,
                principal,
                identifier=identifier or None,
                comment_id=int(comment_id) if comment_id.isdigit() else None,
            )
            moderation.act(session, principal, target, action, reason)  # type: ignore[arg-type]
    except DomainError as error:
        return render_error(request, error)
    return RedirectResponse("/moderation", status_code=303)


@router.post("/moderation/appeals/{appeal_id}", response_model=None)
def decide_appeal(
    request: Request,
    appeal_id: int,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        if decision not in ("grant", "deny"):
            raise InvalidInput("decision is grant or deny", field="decision")
        with database.writing() as session:
            moderation.decide_appeal(session, principal, appeal_id, decision, reason)  # type: ignore[arg-type]
    except DomainError as error:
        return render_error(request, error)
    return RedirectResponse("/moderation", status_code=303)
