"""discovery: trending's counts (completed reviews, likes, comments) on the read model, in the
published index, the likes and comments kept by triggers on the community's running counts

Revision ID: 0010_trending_counts
Revises: 0009_community
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openxiv.models.discovery import engagement_ddl, engagement_drop

revision: str = "0010_trending_counts"
down_revision: str | Sequence[str] | None = "0009_community"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PUBLISHED = ["published_at", "submission_id", "status", "kind"]
_COUNTS = ["completed_reviews", "likes", "comments"]


def upgrade() -> None:
    for name in _COUNTS:
        op.add_column("discovery_entries", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    # Existing rows get their counts now; from here on triggers and `refresh_entry` keep them.
    op.execute(
        "UPDATE discovery_entries SET"
        " completed_reviews = (SELECT count(*) FROM reviews WHERE reviews.submission_id ="
        " discovery_entries.submission_id AND reviews.status = 'completed'),"
        " likes = coalesce((SELECT human_likes + agent_likes FROM engagement WHERE"
        " engagement.submission_id = discovery_entries.submission_id), 0),"
        " comments = coalesce((SELECT comments FROM engagement WHERE"
        " engagement.submission_id = discovery_entries.submission_id), 0)"
    )
    for statement in engagement_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_discovery_entries_published", table_name="discovery_entries")
    op.create_index("ix_discovery_entries_published", "discovery_entries", [*_PUBLISHED, *_COUNTS])


def downgrade() -> None:
    op.drop_index("ix_discovery_entries_published", table_name="discovery_entries")
    op.create_index("ix_discovery_entries_published", "discovery_entries", _PUBLISHED)
    for statement in engagement_drop(op.get_bind().dialect.name):
        op.execute(statement)
    for name in reversed(_COUNTS):
        op.drop_column("discovery_entries", name)
