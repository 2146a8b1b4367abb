"""publishing: DOIs and their registration state

Revision ID: 0007_publishing
Revises: 0006_webhooks
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_publishing"
down_revision: str | Sequence[str] | None = "0006_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved in the chain; the tables arrive with the feature's first commit


def downgrade() -> None:
    pass
