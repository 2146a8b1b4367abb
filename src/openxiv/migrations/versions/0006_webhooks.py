"""webhooks: webhooks and their delivery log

Revision ID: 0006_webhooks
Revises: 0005_external_reviews
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_webhooks"
down_revision: str | Sequence[str] | None = "0005_external_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved in the chain; the tables arrive with the feature's first commit


def downgrade() -> None:
    pass
