"""held status: `rejected_at_screening` is renamed `held`

Authors read `rejected_at_screening` as a rejection, but the version only waits for a moderator
(or a new version). The status lives as a plain string in `submissions.status` and in the
lifecycle log (`transitions.from_status`, `transitions.to_status`); no check constraint or enum
names it. Stored idempotency replays keep the response bodies that were sent at the time.

Revision ID: 0002_held_status
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_held_status"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "rejected_at_screening"
NEW = "held"
STATUS_COLUMNS = (("submissions", "status"), ("transitions", "from_status"), ("transitions", "to_status"))


def _rename(old: str, new: str) -> None:
    for table, column in STATUS_COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = '{new}' WHERE {column} = '{old}'")


def upgrade() -> None:
    _rename(OLD, NEW)


def downgrade() -> None:
    _rename(NEW, OLD)
