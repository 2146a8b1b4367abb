"""Browser forms of the community: like an item, comment and reply, and the moderators' actions
on reported items and comments. The same services as the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.community import moderation, service
from openxiv.community.deps import CommunityLimits
from openxiv.errors import InvalidInput
from openxiv.http.forms import FormPostDep, see_other

router = APIRouter(include_in_schema=False)


@router.post("/abs/{identifier}/like", response_model=None)
def like(
    identifier: str,
    principal: OptionalPrincipal,
    form: FormPostDep,
    limits: CommunityLimits,
    liked: Annotated[str, Form()] = "1",
) -> Response:
    if principal is None:
        return see_other("/login")

    def record(session: Session) -> str:
        service.like_item(session, principal, identifier, limits, liked=liked == "1")
        return f"/abs/{identifier}"

    return form.write(record)


@router.post("/abs/{identifier}/comments", response_model=None)
def comment(
    identifier: str,
    principal: OptionalPrincipal,
    form: FormPostDep,
    limits: CommunityLimits,
    body: Annotated[str, Form()],
    parent_id: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return see_other("/login")

    def post(session: Session) -> str:
        if parent_id and not parent_id.isdigit():
            raise InvalidInput("parent_id must be a comment id", field="parent_id")
        created = service.create_comment(
            session, principal, identifier, body, limits, parent_id=int(parent_id) if parent_id else None
        )
        return f"/abs/{identifier}#comment-{created.id}"

    return form.write(post)


@router.post("/moderation/act", response_model=None)
def act(
    principal: OptionalPrincipal,
    form: FormPostDep,
    action: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    identifier: Annotated[str, Form()] = "",
    comment_id: Annotated[str, Form()] = "",
) -> Response:
    """Hide, restore or dismiss the reports of an item or a comment, with a reason."""
    if principal is None:
        return see_other("/login")

    def apply(session: Session) -> str:
        if action not in ("hide", "restore", "dismiss"):
            raise InvalidInput("action is hide, restore or dismiss", field="action")
        target = moderation.resolve_target(
            session,
            principal,
            identifier=identifier or None,
            comment_id=int(comment_id) if comment_id.isdigit() else None,
        )
        moderation.act(session, principal, target, action, reason)  # type: ignore[arg-type]
        return "/moderation"

    return form.write(apply)


@router.post("/moderation/appeals/{appeal_id}", response_model=None)
def decide_appeal(
    appeal_id: int,
    principal: OptionalPrincipal,
    form: FormPostDep,
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form()],
) -> Response:
    if principal is None:
        return see_other("/login")

    def decide(session: Session) -> str:
        if decision not in ("grant", "deny"):
            raise InvalidInput("decision is grant or deny", field="decision")
        moderation.decide_appeal(session, principal, appeal_id, decision, reason)  # type: ignore[arg-type]
        return "/moderation"

    return form.write(decide)
