"""discovery: full-text search, trending and digests

Revision ID: 0008_discovery
Revises: 0007_publishing
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openxiv.models.base import JSONDocument, UTCDateTime
from openxiv.models.discovery import SearchVectorType, search_ddl, search_drop

revision: str = "0008_discovery"
down_revision: str | Sequence[str] | None = "0007_publishing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discovery_entries",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("categories", JSONDocument(), nullable=False),
        sa.Column("keywords", JSONDocument(), nullable=False),
        sa.Column("authors", JSONDocument(), nullable=False),
        sa.Column("licence", sa.String(length=100), nullable=False),
        sa.Column("ai_involvement", sa.Text(), nullable=False),
        sa.Column("submitter_id", sa.Integer(), nullable=False),
        sa.Column("submitter_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("listed_at", UTCDateTime(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("datestamp", UTCDateTime(), nullable=False),
        sa.Column("search_vector", SearchVectorType, nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_discovery_entries_submission_id_submissions")
        ),
        sa.ForeignKeyConstraint(
            ["submitter_id"], ["accounts.id"], name=op.f("fk_discovery_entries_submitter_id_accounts")
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_discovery_entries")),
        sa.UniqueConstraint("identifier", name=op.f("uq_discovery_entries_identifier")),
    )
    op.create_index(
        "ix_discovery_entries_listed", "discovery_entries", ["listed_at", "submission_id", "status", "kind"]
    )
    op.create_index(
        "ix_discovery_entries_published",
        "discovery_entries",
        ["published_at", "submission_id", "status", "kind"],
    )
    op.create_index("ix_discovery_entries_datestamp", "discovery_entries", ["datestamp", "submission_id"])
    op.create_index(
        "ix_discovery_entries_search_vector", "discovery_entries", ["search_vector"], postgresql_using="gin"
    )
    op.create_index(op.f("ix_discovery_entries_submitter_id"), "discovery_entries", ["submitter_id"])
    op.create_index(
        "ix_discovery_entries_filter",
        "discovery_entries",
        ["submission_id", "status", "kind", "listed_at", "published_at"],
    )
    op.create_table(
        "discovery_categories",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["discovery_entries.submission_id"],
            name=op.f("fk_discovery_categories_submission_id_discovery_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "category", name=op.f("pk_discovery_categories")),
    )
    op.create_index(
        "ix_discovery_categories_category_submission", "discovery_categories", ["category", "submission_id"]
    )
    op.create_table(
        "digest_subscriptions",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("categories", JSONDocument(), nullable=False),
        sa.Column("last_sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_digest_subscriptions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_digest_subscriptions")),
    )
    op.create_table(
        "digest_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("eml_path", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_digest_messages_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_messages")),
    )
    op.create_index(op.f("ix_digest_messages_account_id"), "digest_messages", ["account_id"])
    for statement in search_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in search_drop(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index(op.f("ix_digest_messages_account_id"), table_name="digest_messages")
    op.drop_table("digest_messages")
    op.drop_table("digest_subscriptions")
    op.drop_index("ix_discovery_categories_category_submission", table_name="discovery_categories")
    op.drop_table("discovery_categories")
    op.drop_index("ix_discovery_entries_filter", table_name="discovery_entries")
    op.drop_index(op.f("ix_discovery_entries_submitter_id"), table_name="discovery_entries")
    op.drop_index("ix_discovery_entries_search_vector", table_name="discovery_entries")
    op.drop_index("ix_discovery_entries_datestamp", table_name="discovery_entries")
    op.drop_index("ix_discovery_entries_published", table_name="discovery_entries")
    op.drop_index("ix_discovery_entries_listed", table_name="discovery_entries")
    op.drop_table("discovery_entries")
