"""discovery: full-text search, trending and digests

Revision ID: 0008_discovery
Revises: 0007_publishing
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_discovery"
down_revision: str | Sequence[str] | None = "0007_publishing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved in the chain; the tables arrive with the feature's first commit


def downgrade() -> None:
    pass
