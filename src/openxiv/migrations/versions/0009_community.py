"""community: likes, comments, reports and moderation actions

Revision ID: 0009_community
Revises: 0008_discovery
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_community"
down_revision: str | Sequence[str] | None = "0008_discovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved in the chain; the tables arrive with the feature's first commit


def downgrade() -> None:
    pass
