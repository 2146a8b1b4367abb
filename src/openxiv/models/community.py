"""Tables of the community domain: likes, threaded comments and their edit history, reports,
hidden content, appeals and the log of moderation actions.

A target (what a like, report or hide is about) is named by one string, `submission:<id>` or
`comment:<id>`, so that one unique key covers both kinds without NULLs in it (NULLs are distinct
in a unique index on both databases, which would let a second like slip in).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from openxiv.models.base import Base, JSONType, unique_where, utcnow

_OPEN_APPEAL = text("status = 'open'")


class _Resolved:
    """Open from when it is filed until a moderator resolves it: when, by whom, and why."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    resolution: Mapped[str | None] = mapped_column(Text)


class Like(Base):
    """One like of an item or a comment by one liker: a human account, or an agent (an agent's
    like is its own, not its owner's: `liker` is `account:<id>` or `agent:<id>`)."""

    __tablename__ = "likes"
    __table_args__ = (
        UniqueConstraint("target", "liker"),
        # Counting an item's likes (comment_id IS NULL) and a page of comments' likes.
        Index("ix_likes_submission_id_comment_id", "submission_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(32))
    liker: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A comment on an item (optionally about one version), or a reply to another comment.

    `thread_id` is the id of the thread's top comment (its own id for a top comment), so a page
    of threads and all their replies come back in two indexed queries. `body` is the latest
    Markdown and `body_html` its sanitised rendering; every text it ever had is a row of
    `comment_revisions`. A deleted comment keeps its row (a tombstone) so replies keep their place.
    """

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_submission_id_thread_id", "submission_id", "thread_id", "id"),
        # The per-account caps count recent comments of one account (across its agents).
        Index("ix_comments_author_account_id_created_at", "author_account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    version_number: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    thread_id: Mapped[int | None] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    author_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The commenter was the item's owner or one of its (confirmed) authors when writing.
    by_item_author: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CommentRevision(Base):
    """Every text a comment has had, the first included; only ever inserted."""

    __tablename__ = "comment_revisions"
    __table_args__ = (UniqueConstraint("comment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Report(_Resolved, Base):
    """Somebody flagged an item or a comment for moderators, with a category and their words."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_id", "status", "id"),
        Index("ix_reports_reporter_account_id_created_at", "reporter_account_id", "created_at"),
        Index("ix_reports_target_status", "target", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    reporter_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reporter_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    category: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | actioned | dismissed


class ModerationAction(Base):
    """The log: every moderation act (a report filed or resolved, a hide, a restore, an appeal
    opened or decided) with who did it, to what, and why. Only ever inserted."""

    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_target_id", "target", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Hide(Base):
    """An item or a comment that moderators hid, while it stays hidden (restoring deletes the
    row; the log keeps both acts). The reason is shown to the author."""

    __tablename__ = "hides"

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(32), unique=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    action_id: Mapped[int] = mapped_column(ForeignKey("moderation_actions.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Appeal(_Resolved, Base):
    """The author's appeal against a moderation action; at most one open per action."""

    __tablename__ = "appeals"
    __table_args__ = (
        unique_where("uq_appeals_open_action", "action_id", where=_OPEN_APPEAL),
        Index("ix_appeals_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("moderation_actions.id"))
    target: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    appellant_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    appellant_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    statement: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | granted | denied


class Engagement(Base):
    """Running counts per item, kept in the transaction of each like, comment, delete, hide and
    restore, so that a feed of many items reads them by primary key instead of counting rows
    (docs/community.md has the measurement that chose this)."""

    __tablename__ = "engagement"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    human_likes: Mapped[int] = mapped_column(Integer, default=0)
    agent_likes: Mapped[int] = mapped_column(Integer, default=0)
    # Comments neither deleted nor hidden.
    comments: Mapped[int] = mapped_column(Integer, default=0)
