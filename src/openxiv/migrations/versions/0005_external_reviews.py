"""external reviews: reviews and accept/reject votes from reviewers outside the platform's panel

Revision ID: 0005_external_reviews
Revises: 0004_events
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openxiv.models.base import JSONDocument, UTCDateTime

revision: str = "0005_external_reviews"
down_revision: str | Sequence[str] | None = "0004_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_COMPLETED_AI = sa.text("status = 'completed' AND reviewer_kind = 'ai'")
# An external agent's review is written by a model too (reviewer_kind 'ai'), so the one-per-mode rule
# of the platform's own reviews must leave it out.
_COMPLETED_INTERNAL_AI = sa.text(
    "status = 'completed' AND reviewer_kind = 'ai' AND reviewer_origin = 'internal'"
)
_EXTERNAL_AGENT = sa.text("status = 'completed' AND reviewer_origin = 'external_agent'")
_EXTERNAL_HUMAN = sa.text("status = 'completed' AND reviewer_origin = 'external_human'")
_VOTE_AGENT = sa.text("reviewer_origin = 'external_agent'")
_VOTE_HUMAN = sa.text("reviewer_origin = 'external_human'")


def upgrade() -> None:
    # SQLite rebuilds the table for the foreign key; a partial index must not be carried through that
    # rebuild (its WHERE clause would be lost), so it is dropped first and made again afterwards.
    op.drop_index("uq_reviews_completed_ai", table_name="reviews")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviewer_origin", sa.String(length=16), server_default="internal", nullable=False)
        )
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("model_provider", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("model_family", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("conflict_of_interest", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reviews_owner_id_accounts"), "accounts", ["owner_id"], ["id"]
        )
    op.create_index(
        "uq_reviews_completed_ai",
        "reviews",
        ["version_id", "mode"],
        unique=True,
        sqlite_where=_COMPLETED_INTERNAL_AI,
        postgresql_where=_COMPLETED_INTERNAL_AI,
    )
    op.create_index(
        "uq_reviews_external_agent",
        "reviews",
        ["version_id", "agent_id"],
        unique=True,
        sqlite_where=_EXTERNAL_AGENT,
        postgresql_where=_EXTERNAL_AGENT,
    )
    op.create_index(
        "uq_reviews_external_human",
        "reviews",
        ["version_id", "account_id"],
        unique=True,
        sqlite_where=_EXTERNAL_HUMAN,
        postgresql_where=_EXTERNAL_HUMAN,
    )

    op.create_table(
        "external_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_origin", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("model_provider", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("model_family", sa.String(length=100), nullable=True),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reasons", JSONDocument(), nullable=False),
        sa.Column("conflict_of_interest", sa.Text(), nullable=False),
        sa.Column("status_at_vote", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_external_votes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_external_votes_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["accounts.id"], name=op.f("fk_external_votes_owner_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_external_votes_submission_id_submissions")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["submission_versions.id"],
            name=op.f("fk_external_votes_version_id_submission_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_votes")),
    )
    op.create_index("ix_external_votes_version_id_id", "external_votes", ["version_id", "id"], unique=False)
    op.create_index(
        op.f("ix_external_votes_submission_id"), "external_votes", ["submission_id"], unique=False
    )
    op.create_index(
        "uq_external_votes_agent",
        "external_votes",
        ["version_id", "agent_id"],
        unique=True,
        sqlite_where=_VOTE_AGENT,
        postgresql_where=_VOTE_AGENT,
    )
    op.create_index(
        "uq_external_votes_human",
        "external_votes",
        ["version_id", "account_id"],
        unique=True,
        sqlite_where=_VOTE_HUMAN,
        postgresql_where=_VOTE_HUMAN,
    )


def downgrade() -> None:
    op.drop_index("uq_external_votes_human", table_name="external_votes")
    op.drop_index("uq_external_votes_agent", table_name="external_votes")
    op.drop_index(op.f("ix_external_votes_submission_id"), table_name="external_votes")
    op.drop_index("ix_external_votes_version_id_id", table_name="external_votes")
    op.drop_table("external_votes")
    op.drop_index("uq_reviews_external_human", table_name="reviews")
    op.drop_index("uq_reviews_external_agent", table_name="reviews")
    op.drop_index("uq_reviews_completed_ai", table_name="reviews")
    # External reviews go with the columns that tell them apart; the old index would refuse them.
    op.execute("DELETE FROM reviews WHERE reviewer_origin <> 'internal'")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reviews_owner_id_accounts"), type_="foreignkey")
        batch_op.drop_column("conflict_of_interest")
        batch_op.drop_column("model_family")
        batch_op.drop_column("model_provider")
        batch_op.drop_column("owner_id")
        batch_op.drop_column("reviewer_origin")
    op.create_index(
        "uq_reviews_completed_ai",
        "reviews",
        ["version_id", "mode"],
        unique=True,
        sqlite_where=_OLD_COMPLETED_AI,
        postgresql_where=_OLD_COMPLETED_AI,
    )
