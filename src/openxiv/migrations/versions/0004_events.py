"""events: the outbox of what happened to submissions (event stream, subscriber jobs)

Revision ID: 0004_events
Revises: 0003_security
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openxiv.models.base import JSONDocument, UTCDateTime

revision: str = "0004_events"
down_revision: str | Sequence[str] | None = "0003_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSONDocument(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"], name=op.f("fk_events_owner_id_accounts")),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_events_submission_id_submissions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_undispatched", "events", ["dispatched_at", "id"], unique=False)
    op.create_index("ix_events_submission_id", "events", ["submission_id", "id"], unique=False)
    op.create_index("ix_events_owner_id", "events", ["owner_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_owner_id", table_name="events")
    op.drop_index("ix_events_submission_id", table_name="events")
    op.drop_index("ix_events_undispatched", table_name="events")
    op.drop_table("events")
