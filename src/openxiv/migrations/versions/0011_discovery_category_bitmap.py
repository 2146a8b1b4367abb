"""discovery: a GIN index over the entries' categories (PostgreSQL), so that a search for rare
words in one category reads one bitmap of the matches in the category instead of testing every
item of the category

Revision ID: 0011_discovery_category_bitmap
Revises: 0010_trending_counts
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_discovery_category_bitmap"
down_revision: str | Sequence[str] | None = "0010_trending_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On SQLite a plain index, as for the search vector's GIN index: the models declare one
    # schema for both databases.
    op.create_index(
        "ix_discovery_entries_categories",
        "discovery_entries",
        ["categories"],
        postgresql_using="gin",
        postgresql_ops={"categories": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_discovery_entries_categories", table_name="discovery_entries")
