"""community: likes, comments, reports and moderation actions

Revision ID: 0009_community
Revises: 0008_discovery
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from openxiv.models.base import JSONDocument, UTCDateTime

revision: str = "0009_community"
down_revision: str | Sequence[str] | None = "0008_discovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_APPEAL = sa.text("status = 'open'")


def _fk(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"))


def _when(column: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(column, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("author_account_id", sa.Integer(), nullable=False),
        sa.Column("author_agent_id", sa.Integer(), nullable=True),
        sa.Column("by_item_author", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("edited_at", nullable=True),
        _when("deleted_at", nullable=True),
        _fk("comments", "author_account_id", "accounts"),
        _fk("comments", "author_agent_id", "agents"),
        _fk("comments", "parent_id", "comments"),
        _fk("comments", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index(
        "ix_comments_author_account_id_created_at", "comments", ["author_account_id", "created_at"]
    )
    op.create_index("ix_comments_submission_id_thread_id", "comments", ["submission_id", "thread_id", "id"])

    op.create_table(
        "comment_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        _when("created_at"),
        _fk("comment_revisions", "account_id", "accounts"),
        _fk("comment_revisions", "agent_id", "agents"),
        _fk("comment_revisions", "comment_id", "comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_revisions")),
        sa.UniqueConstraint("comment_id", "number", name=op.f("uq_comment_revisions_comment_id")),
    )

    op.create_table(
        "likes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("liker", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        _when("created_at"),
        _fk("likes", "account_id", "accounts"),
        _fk("likes", "agent_id", "agents"),
        _fk("likes", "comment_id", "comments"),
        _fk("likes", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_likes")),
        sa.UniqueConstraint("target", "liker", name=op.f("uq_likes_target")),
    )
    op.create_index(op.f("ix_likes_account_id"), "likes", ["account_id"])
    op.create_index("ix_likes_submission_id_comment_id", "likes", ["submission_id", "comment_id"])

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("reporter_account_id", sa.Integer(), nullable=False),
        sa.Column("reporter_agent_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("created_at"),
        _when("resolved_at", nullable=True),
        sa.Column("resolved_by_account_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        _fk("reports", "comment_id", "comments"),
        _fk("reports", "reporter_account_id", "accounts"),
        _fk("reports", "reporter_agent_id", "agents"),
        _fk("reports", "resolved_by_account_id", "accounts"),
        _fk("reports", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index(
        "ix_reports_reporter_account_id_created_at", "reports", ["reporter_account_id", "created_at"]
    )
    op.create_index("ix_reports_status_id", "reports", ["status", "id"])
    op.create_index("ix_reports_target_status", "reports", ["target", "status"])

    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("actor_account_id", sa.Integer(), nullable=True),
        sa.Column("actor_agent_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", JSONDocument(), nullable=False),
        _when("created_at"),
        _fk("moderation_actions", "actor_account_id", "accounts"),
        _fk("moderation_actions", "actor_agent_id", "agents"),
        _fk("moderation_actions", "comment_id", "comments"),
        _fk("moderation_actions", "report_id", "reports"),
        _fk("moderation_actions", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
    )
    op.create_index(op.f("ix_moderation_actions_submission_id"), "moderation_actions", ["submission_id"])
    op.create_index("ix_moderation_actions_target_id", "moderation_actions", ["target", "id"])

    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("appellant_account_id", sa.Integer(), nullable=False),
        sa.Column("appellant_agent_id", sa.Integer(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("created_at"),
        _when("resolved_at", nullable=True),
        sa.Column("resolved_by_account_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        _fk("appeals", "action_id", "moderation_actions"),
        _fk("appeals", "appellant_account_id", "accounts"),
        _fk("appeals", "appellant_agent_id", "agents"),
        _fk("appeals", "resolved_by_account_id", "accounts"),
        _fk("appeals", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    op.create_index("ix_appeals_status_id", "appeals", ["status", "id"])
    op.create_index(
        "uq_appeals_open_action",
        "appeals",
        ["action_id"],
        unique=True,
        sqlite_where=_OPEN_APPEAL,
        postgresql_where=_OPEN_APPEAL,
    )

    op.create_table(
        "hides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _when("created_at"),
        _fk("hides", "action_id", "moderation_actions"),
        _fk("hides", "comment_id", "comments"),
        _fk("hides", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hides")),
        sa.UniqueConstraint("target", name=op.f("uq_hides_target")),
    )
    op.create_index(op.f("ix_hides_submission_id"), "hides", ["submission_id"])

    op.create_table(
        "engagement",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("human_likes", sa.Integer(), nullable=False),
        sa.Column("agent_likes", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        _fk("engagement", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_engagement")),
    )


def downgrade() -> None:
    op.drop_table("engagement")
    op.drop_index(op.f("ix_hides_submission_id"), table_name="hides")
    op.drop_table("hides")
    op.drop_index("uq_appeals_open_action", table_name="appeals")
    op.drop_index("ix_appeals_status_id", table_name="appeals")
    op.drop_table("appeals")
    op.drop_index("ix_moderation_actions_target_id", table_name="moderation_actions")
    op.drop_index(op.f("ix_moderation_actions_submission_id"), table_name="moderation_actions")
    op.drop_table("moderation_actions")
    op.drop_index("ix_reports_target_status", table_name="reports")
    op.drop_index("ix_reports_status_id", table_name="reports")
    op.drop_index("ix_reports_reporter_account_id_created_at", table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_likes_submission_id_comment_id", table_name="likes")
    op.drop_index(op.f("ix_likes_account_id"), table_name="likes")
    op.drop_table("likes")
    op.drop_table("comment_revisions")
    op.drop_index("ix_comments_submission_id_thread_id", table_name="comments")
    op.drop_index("ix_comments_author_account_id_created_at", table_name="comments")
    op.drop_table("comments")
