"""publishing: DOIs and their registration state

Revision ID: 0007_publishing
Revises: 0006_webhooks
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openxiv.models.base import UTCDateTime

revision: str = "0007_publishing"
down_revision: str | Sequence[str] | None = "0006_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dois",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("doi", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registrar", sa.String(length=16), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("registered_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_dois_submission_id_submissions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dois")),
        sa.UniqueConstraint("doi", name=op.f("uq_dois_doi")),
        sa.UniqueConstraint("submission_id", "version_number", name=op.f("uq_dois_submission_id")),
    )
    op.create_index(op.f("ix_dois_submission_id"), "dois", ["submission_id"], unique=False)
    op.create_index("ix_dois_state_next_attempt", "dois", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dois_state_next_attempt", table_name="dois")
    op.drop_index(op.f("ix_dois_submission_id"), table_name="dois")
    op.drop_table("dois")
