"""Domain objects of the community domain to their response shapes."""

from __future__ import annotations

from collections.abc import Mapping

from openxiv.community.moderation import Notice, QueueEntry
from openxiv.community.schemas import (
    Actor,
    AgentLabel,
    AppealOut,
    CommentAuthor,
    CommentOut,
    LikeOut,
    ModerationActionOut,
    NoticeOut,
    QueueEntryOut,
    ReportOut,
    RevisionOut,
)
from openxiv.community.service import CommentView, LikeState
from openxiv.models import Submission
from openxiv.models.community import Appeal, CommentRevision, ModerationAction, Report
from openxiv.submissions.presenters import held_out, summary_out


def like_out(state: LikeState) -> LikeOut:
    return LikeOut(
        target=state.target,
        likes=state.likes,
        human_likes=state.human_likes,
        agent_likes=state.agent_likes,
        liked=state.liked,
    )


def comment_out(view: CommentView) -> CommentOut:
    comment, author = view.comment, view.author
    agent = None
    if author.agent_id is not None:
        agent = AgentLabel(id=author.agent_id, name=author.agent_name or "", model=author.agent_model or "")
    return CommentOut(
        id=comment.id,
        submission=view.identifier,
        version=comment.version_number,
        parent_id=comment.parent_id,
        thread_id=comment.thread_id or comment.id,
        depth=comment.depth,
        author=CommentAuthor(
            kind="agent" if agent else "human", account_id=author.account_id, name=author.name, agent=agent
        ),
        author_reply=comment.by_item_author,
        body=view.body,
        html=view.html,
        revision=comment.revision,
        edited=comment.edited_at is not None,
        edited_at=comment.edited_at,
        deleted=comment.deleted_at is not None,
        hidden=view.hidden,
        hidden_reason=view.hidden_reason,
        likes=view.likes,
        liked=view.liked,
        created_at=comment.created_at,
        replies=[comment_out(r) for r in view.replies],
    )


def revision_out(revision: CommentRevision) -> RevisionOut:
    return RevisionOut(
        number=revision.number,
        body=revision.body,
        account_id=revision.account_id,
        agent_id=revision.agent_id,
        at=revision.created_at,
    )


def report_out(report: Report, identifier: str) -> ReportOut:
    return ReportOut(
        id=report.id,
        target=report.target,
        submission=identifier,
        comment_id=report.comment_id,
        category=report.category,
        detail=report.detail,
        status=report.status,
        created_at=report.created_at,
        resolved_at=report.resolved_at,
        resolution=report.resolution,
    )


def action_out(action: ModerationAction, identifiers: Mapping[int, str]) -> ModerationActionOut:
    return ModerationActionOut(
        id=action.id,
        action=action.action,
        target=action.target,
        submission=identifiers.get(action.submission_id, ""),
        comment_id=action.comment_id,
        report_id=action.report_id,
        actor=Actor(account_id=action.actor_account_id, agent_id=action.actor_agent_id),
        reason=action.reason,
        detail=dict(action.detail or {}),
        at=action.created_at,
    )


def appeal_out(appeal: Appeal, identifier: str) -> AppealOut:
    return AppealOut(
        id=appeal.id,
        action_id=appeal.action_id,
        target=appeal.target,
        submission=identifier,
        status=appeal.status,
        statement=appeal.statement,
        created_at=appeal.created_at,
        resolved_at=appeal.resolved_at,
        resolution=appeal.resolution,
    )


def queue_entry_out(entry: QueueEntry, comment: CommentView | None) -> QueueEntryOut:
    identifier = entry.submission.identifier
    return QueueEntryOut(
        kind=entry.kind,
        since=entry.since,
        submission=summary_out(entry.submission),
        target=entry.target,
        comment=comment_out(comment) if comment is not None else None,
        reports=[report_out(r, identifier) for r in entry.reports],
        held=held_out(entry.held) if entry.held is not None else None,
        appeal=appeal_out(entry.appeal, identifier) if entry.appeal is not None else None,
        appealed_action=(
            action_out(entry.appealed_action, {entry.submission.id: identifier})
            if entry.appealed_action is not None
            else None
        ),
        hidden=entry.hidden,
    )


def notice_out(notice: Notice) -> NoticeOut:
    submission: Submission = notice.submission
    return NoticeOut(
        target=notice.hide.target,
        submission=submission.identifier,
        comment_id=notice.hide.comment_id,
        action_id=notice.action.id,
        reason=notice.hide.reason,
        hidden_at=notice.hide.created_at,
        appeal=appeal_out(notice.appeal, submission.identifier) if notice.appeal is not None else None,
    )
