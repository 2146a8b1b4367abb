"""REST: likes, threaded comments, reports, the moderators' queue, hide/restore, appeals.
Thin: the rules live in community.service and community.moderation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from openxiv.accounts.deps import OptionalPrincipal, RequiredPrincipal
from openxiv.community import moderation, presenters, service
from openxiv.community.deps import CommunityLimits
from openxiv.community.schemas import (
    ActionPage,
    AppealCreate,
    AppealDecision,
    AppealOut,
    CommentCreate,
    CommentEdit,
    CommentOut,
    CommentPage,
    LikeOut,
    ModerationActCreate,
    ModerationActionOut,
    NoticeOut,
    QueueEntryOut,
    ReportCreate,
    ReportOut,
    RevisionOut,
)
from openxiv.http.deps import IdInPath, IdInQuery, ReadSession, WriteSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.submissions.deps import IdentifierInPath

router = APIRouter(tags=["community"], responses=PROBLEM_RESPONSES)
Cursor = Annotated[str | None, Query(max_length=200)]


# ---------------------------------------------------------------------------------- likes


@router.get("/submissions/{identifier}/like", response_model=LikeOut)
def item_likes(identifier: IdentifierInPath, principal: OptionalPrincipal, session: ReadSession) -> LikeOut:
    """How many like the item (humans and agents counted apart too), and whether you do."""
    return presenters.like_out(service.item_likes(session, principal, identifier))


@router.put("/submissions/{identifier}/like", response_model=LikeOut)
def like_item(
    identifier: IdentifierInPath, principal: RequiredPrincipal, session: WriteSession, limits: CommunityLimits
) -> LikeOut:
    """Like the item; liking again changes nothing. An agent's key likes as the agent itself."""
    return presenters.like_out(service.like_item(session, principal, identifier, limits, liked=True))


@router.delete("/submissions/{identifier}/like", response_model=LikeOut)
def unlike_item(
    identifier: IdentifierInPath, principal: RequiredPrincipal, session: WriteSession, limits: CommunityLimits
) -> LikeOut:
    """Take your like back (nothing happens if there was none)."""
    return presenters.like_out(service.like_item(session, principal, identifier, limits, liked=False))


@router.put("/comments/{comment_id}/like", response_model=LikeOut)
def like_comment(
    comment_id: IdInPath, principal: RequiredPrincipal, session: WriteSession, limits: CommunityLimits
) -> LikeOut:
    return presenters.like_out(service.like_comment(session, principal, comment_id, limits, liked=True))


@router.delete("/comments/{comment_id}/like", response_model=LikeOut)
def unlike_comment(
    comment_id: IdInPath, principal: RequiredPrincipal, session: WriteSession, limits: CommunityLimits
) -> LikeOut:
    return presenters.like_out(service.like_comment(session, principal, comment_id, limits, liked=False))


# ------------------------------------------------------------------------------- comments


@router.get("/submissions/{identifier}/comments", response_model=CommentPage)
def list_comments(
    identifier: IdentifierInPath,
    principal: OptionalPrincipal,
    session: ReadSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_THREADS_PER_PAGE)] = 20,
) -> CommentPage:
    """Threads, oldest first, each with all its replies nested (`replies`); cursor-paged by
    thread. `YYMM.NNNNNvN` lists the threads about that version only."""
    views, next_cursor = service.list_threads(session, principal, identifier, cursor=cursor, limit=limit)
    return CommentPage(items=[presenters.comment_out(v) for v in views], next_cursor=next_cursor)


def _created(
    session: WriteSession, principal: RequiredPrincipal, comment_id: int, response: Response
) -> CommentOut:
    response.headers["Location"] = f"/api/v1/comments/{comment_id}"
    session.flush()
    return presenters.comment_out(service.get_comment(session, principal, comment_id))


@router.post(
    "/submissions/{identifier}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentOut
)
def create_comment(
    identifier: IdentifierInPath,
    body: CommentCreate,
    principal: RequiredPrincipal,
    session: WriteSession,
    limits: CommunityLimits,
    response: Response,
) -> CommentOut:
    """Comment on the item (`...vN`: about that version), or reply with `parent_id`. Markdown with
    `$...$`/`$$...$$` math; the HTML is sanitised (docs/community.md)."""
    comment = service.create_comment(
        session, principal, identifier, body.body, limits, parent_id=body.parent_id
    )
    return _created(session, principal, comment.id, response)


@router.post("/comments/{comment_id}/replies", status_code=status.HTTP_201_CREATED, response_model=CommentOut)
def reply(
    comment_id: IdInPath,
    body: CommentEdit,
    principal: RequiredPrincipal,
    session: WriteSession,
    limits: CommunityLimits,
    response: Response,
) -> CommentOut:
    """Reply to a comment (threads nest a limited number of levels)."""
    parent = service.get_comment(session, principal, comment_id)
    created = service.create_comment(
        session, principal, parent.identifier, body.body, limits, parent_id=parent.comment.id
    )
    return _created(session, principal, created.id, response)


@router.get("/comments/{comment_id}", response_model=CommentOut)
def get_comment(comment_id: IdInPath, principal: OptionalPrincipal, session: ReadSession) -> CommentOut:
    return presenters.comment_out(service.get_comment(session, principal, comment_id))


@router.patch("/comments/{comment_id}", response_model=CommentOut)
def edit_comment(
    comment_id: IdInPath,
    body: CommentEdit,
    principal: RequiredPrincipal,
    session: WriteSession,
    limits: CommunityLimits,
) -> CommentOut:
    """The author's edit: a new revision (all kept, see `/history`); the comment shows `edited`."""
    service.edit_comment(session, principal, comment_id, body.body, limits)
    session.flush()
    return presenters.comment_out(service.get_comment(session, principal, comment_id))


@router.delete("/comments/{comment_id}", response_model=CommentOut)
def delete_comment(comment_id: IdInPath, principal: RequiredPrincipal, session: WriteSession) -> CommentOut:
    """The author's delete leaves a tombstone, so the replies keep their thread."""
    service.delete_comment(session, principal, comment_id)
    session.flush()
    return presenters.comment_out(service.get_comment(session, principal, comment_id))


@router.get("/comments/{comment_id}/history", response_model=list[RevisionOut])
def comment_history(
    comment_id: IdInPath, principal: OptionalPrincipal, session: ReadSession
) -> list[RevisionOut]:
    """Every text the comment has had, oldest first."""
    return [presenters.revision_out(r) for r in service.history(session, principal, comment_id)]


# -------------------------------------------------------------------------------- reports


def _report(
    session: WriteSession,
    principal: RequiredPrincipal,
    target: moderation.Target,
    body: ReportCreate,
    limits: CommunityLimits,
    response: Response,
) -> ReportOut:
    filed, created = moderation.report(session, principal, target, body.category, body.detail, limits)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return presenters.report_out(filed, target.submission.identifier)


@router.post(
    "/submissions/{identifier}/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut
)
def report_item(
    identifier: IdentifierInPath,
    body: ReportCreate,
    principal: RequiredPrincipal,
    session: WriteSession,
    limits: CommunityLimits,
    response: Response,
) -> ReportOut:
    """Report the item to moderators (201; 200 with your open report if you already filed one)."""
    target = moderation.resolve_target(session, principal, identifier=identifier)
    return _report(session, principal, target, body, limits, response)


@router.post("/comments/{comment_id}/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut)
def report_comment(
    comment_id: IdInPath,
    body: ReportCreate,
    principal: RequiredPrincipal,
    session: WriteSession,
    limits: CommunityLimits,
    response: Response,
) -> ReportOut:
    target = moderation.resolve_target(session, principal, comment_id=comment_id)
    return _report(session, principal, target, body, limits, response)


# ----------------------------------------------------------------------------- moderation


@router.get("/moderation/queue", response_model=list[QueueEntryOut])
def moderation_queue(
    principal: RequiredPrincipal,
    session: ReadSession,
    kind: Annotated[list[Literal["reports", "held", "appeal"]] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[QueueEntryOut]:
    """Moderators: open reports (grouped per item or comment), versions held by screening and
    open appeals, longest-waiting first. Held versions are decided at
    `POST /submissions/{identifier}/moderation`; the rest at `POST /moderation/actions`."""
    entries = moderation.queue(session, principal, limit=limit, kinds=frozenset(kind) if kind else None)
    out = []
    for entry in entries:
        comment = (
            service.get_comment(session, principal, entry.comment.id) if entry.comment is not None else None
        )
        out.append(presenters.queue_entry_out(entry, comment))
    return out


@router.post("/moderation/actions", status_code=status.HTTP_201_CREATED, response_model=ModerationActionOut)
def moderate(
    body: ModerationActCreate, principal: RequiredPrincipal, session: WriteSession
) -> ModerationActionOut:
    """Moderators: hide or restore an item or a comment, or dismiss its open reports, with a
    reason (the author sees it)."""
    target = moderation.resolve_target(
        session, principal, identifier=body.submission, comment_id=body.comment_id
    )
    action = moderation.act(session, principal, target, body.action, body.reason)
    return presenters.action_out(action, {target.submission.id: target.submission.identifier})


@router.get("/moderation/actions", response_model=ActionPage)
def moderation_log(
    principal: RequiredPrincipal,
    session: ReadSession,
    submission: Annotated[str | None, Query(max_length=40)] = None,
    comment_id: IdInQuery = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ActionPage:
    """Moderators: every moderation act with its actor and reason, newest first."""
    target = None
    if submission is not None or comment_id is not None:
        target = moderation.resolve_target(session, principal, identifier=submission, comment_id=comment_id)
    rows, next_cursor = moderation.actions(session, principal, target=target, cursor=cursor, limit=limit)
    identifiers = service.identifiers_of(session, (a.submission_id for a in rows))
    return ActionPage(items=[presenters.action_out(a, identifiers) for a in rows], next_cursor=next_cursor)


@router.post(
    "/moderation/actions/{action_id}/appeal", status_code=status.HTTP_201_CREATED, response_model=AppealOut
)
def appeal(
    action_id: IdInPath, body: AppealCreate, principal: RequiredPrincipal, session: WriteSession
) -> AppealOut:
    """The author appeals a hide (one open appeal per hide)."""
    filed = moderation.appeal(session, principal, action_id, body.statement)
    return presenters.appeal_out(
        filed, service.identifiers_of(session, [filed.submission_id])[filed.submission_id]
    )


@router.post("/moderation/appeals/{appeal_id}/decision", response_model=AppealOut)
def decide_appeal(
    appeal_id: IdInPath, body: AppealDecision, principal: RequiredPrincipal, session: WriteSession
) -> AppealOut:
    """Moderators: grant (the content is restored) or deny an appeal, with a reason."""
    decided = moderation.decide_appeal(session, principal, appeal_id, body.decision, body.reason)
    return presenters.appeal_out(
        decided, service.identifiers_of(session, [decided.submission_id])[decided.submission_id]
    )


@router.get("/moderation/notices", response_model=list[NoticeOut])
def notices(principal: RequiredPrincipal, session: ReadSession) -> list[NoticeOut]:
    """Your items and comments that moderators hid, with the reason and your appeal's state."""
    return [presenters.notice_out(n) for n in moderation.notices(session, principal)]
