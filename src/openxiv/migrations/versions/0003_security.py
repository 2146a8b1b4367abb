"""security: key lineage, and co-authorship that the linked account or agent confirms

Revision ID: 0003_security
Revises: 0002_held_status
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_security"
down_revision: str | Sequence[str] | None = "0002_held_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_by_key_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_issued_by_key_id"), ["issued_by_key_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_issued_by_key_id_api_keys"), "api_keys", ["issued_by_key_id"], ["id"]
        )
    with op.batch_alter_table("version_authors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_status", sa.String(length=16), nullable=True))
    # Links made before confirmation existed: the submitter's own account or agents are "owned";
    # every other link was never agreed to, so it waits for confirmation like a new one.
    op.execute(
        """
        UPDATE version_authors SET link_status = CASE
          WHEN (version_authors.account_id IS NOT NULL AND version_authors.account_id = (
                  SELECT s.owner_id FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
                  WHERE v.id = version_authors.version_id))
            OR (version_authors.agent_id IS NOT NULL AND (
                  SELECT a.owner_id FROM agents a WHERE a.id = version_authors.agent_id) = (
                  SELECT s.owner_id FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
                  WHERE v.id = version_authors.version_id))
          THEN 'owned' ELSE 'pending' END
        WHERE version_authors.account_id IS NOT NULL OR version_authors.agent_id IS NOT NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("version_authors", schema=None) as batch_op:
        batch_op.drop_column("link_status")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_keys_issued_by_key_id_api_keys"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_keys_issued_by_key_id"))
        batch_op.drop_column("issued_by_key_id")
