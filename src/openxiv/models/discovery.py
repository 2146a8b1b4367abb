"""Discovery's read model: one row per item the public can find (feeds, OAI-PMH, search, trending),
rebuilt from the submission by a job whenever its status changes, and the e-mail digest outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from openxiv.models.base import Base, JSONType, utcnow
from openxiv.models.community import Engagement

# PostgreSQL keeps the weighted search document in this column (GIN-indexed); SQLite leaves it
# empty and searches the `discovery_fts` FTS5 table that triggers keep in step with the rows.
SearchVectorType = Text().with_variant(TSVECTOR(), "postgresql")


class DiscoveryEntry(Base):
    __tablename__ = "discovery_entries"
    __table_args__ = (
        # Newest-first pages walk these backwards and stop after a page (most rows qualify); a
        # window's trending candidates are a range of the second. Status, kind and trending's
        # counts ride along so that neither reads the wide rows to filter or to score.
        Index("ix_discovery_entries_listed", "listed_at", "submission_id", "status", "kind"),
        Index(
            "ix_discovery_entries_published",
            "published_at",
            "submission_id",
            "status",
            "kind",
            "completed_reviews",
            "likes",
            "comments",
        ),
        Index("ix_discovery_entries_datestamp", "datestamp", "submission_id"),
        Index("ix_discovery_entries_search_vector", "search_vector", postgresql_using="gin"),
        # A category filter's bitmap on PostgreSQL, ANDed with the search vector's when few items
        # match (`search.PostgresTsvectorIndex`); SQLite, as for the vector, never reads it.
        Index(
            "ix_discovery_entries_categories",
            "categories",
            postgresql_using="gin",
            postgresql_ops={"categories": "jsonb_path_ops"},
        ),
        # What a search filters and sorts its matches on, without reading the wide rows (title,
        # abstract and full text make a row span several pages): SQLite answers the join with
        # its full-text matches from this index alone.
        Index("ix_discovery_entries_filter", "submission_id", "status", "kind", "listed_at", "published_at"),
    )

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    version_number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    # Loaded only when asked for: pages, feeds and harvests never show them, and on PostgreSQL the
    # search vector of a long paper is kilobytes to fetch and parse per row.
    body: Mapped[str] = mapped_column(Text, default="", deferred=True)  # extracted full text, capped
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # [{"name", "kind", "orcid", "affiliation"}] of the latest version, in order.
    authors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    licence: Mapped[str] = mapped_column(String(100), default="")
    ai_involvement: Mapped[str] = mapped_column(Text, default="")
    submitter_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    submitter_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    listed_at: Mapped[datetime | None]  # first time it passed screening
    published_at: Mapped[datetime | None]  # first time it became provisionally accepted
    datestamp: Mapped[datetime] = mapped_column(default=utcnow)  # last change of what is shown
    # Trending's inputs, so that scoring a window reads one index range and nothing else:
    # completed reviews of any version (counted by `refresh_entry`), and likes and visible
    # comments, copies of the community's running counts (`engagement`) that triggers keep in
    # the transaction of each change (ENGAGEMENT_DDL below).
    completed_reviews: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    search_vector: Mapped[str | None] = mapped_column(SearchVectorType, deferred=True)


class DiscoveryCategory(Base):
    """The categories of an entry, one row each, so a category filter is an index range scan."""

    __tablename__ = "discovery_categories"
    __table_args__ = (Index("ix_discovery_categories_category_submission", "category", "submission_id"),)

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("discovery_entries.submission_id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(64), primary_key=True)


class DigestSubscription(Base):
    """An account's e-mail digest: the categories it follows and when it last got one."""

    __tablename__ = "digest_subscriptions"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    last_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestMessage(Base):
    """The outbox: every digest written, with its `.eml` file and whether SMTP took it."""

    __tablename__ = "digest_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    item_count: Mapped[int] = mapped_column(Integer)
    eml_path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


# The full-text machinery each database needs beside the tables: SQLite an FTS5 index over the
# entries (external content, kept in step by triggers), PostgreSQL a trigger that weighs title (A),
# abstract (B) and full text (C) into `search_vector`. Both `create_all` and the migration run these,
# so a test database and a migrated one search the same way.
SQLITE_SEARCH_TABLE = "discovery_fts"  # FTS5 adds its own shadow tables named discovery_fts_*
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE discovery_fts USING fts5(title, abstract, body,"
    " content='discovery_entries', content_rowid='submission_id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER discovery_fts_insert AFTER INSERT ON discovery_entries BEGIN"
    " INSERT INTO discovery_fts(rowid, title, abstract, body)"
    " VALUES (new.submission_id, new.title, new.abstract, new.body); END",
    "CREATE TRIGGER discovery_fts_delete AFTER DELETE ON discovery_entries BEGIN"
    " INSERT INTO discovery_fts(discovery_fts, rowid, title, abstract, body)"
    " VALUES ('delete', old.submission_id, old.title, old.abstract, old.body); END",
    "CREATE TRIGGER discovery_fts_update AFTER UPDATE OF title, abstract, body ON discovery_entries BEGIN"
    " INSERT INTO discovery_fts(discovery_fts, rowid, title, abstract, body)"
    " VALUES ('delete', old.submission_id, old.title, old.abstract, old.body);"
    " INSERT INTO discovery_fts(rowid, title, abstract, body)"
    " VALUES (new.submission_id, new.title, new.abstract, new.body); END",
)
SQLITE_SEARCH_DROP = ("DROP TABLE IF EXISTS discovery_fts",)
POSTGRES_SEARCH_DDL = (
    """CREATE FUNCTION discovery_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(NEW.abstract, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.body, '')), 'C');
  RETURN NEW;
END $$""",
    "CREATE TRIGGER discovery_search_vector BEFORE INSERT OR UPDATE OF title, abstract, body"
    " ON discovery_entries FOR EACH ROW EXECUTE FUNCTION discovery_search_vector()",
)
POSTGRES_SEARCH_DROP = (
    "DROP TRIGGER IF EXISTS discovery_search_vector ON discovery_entries",
    "DROP FUNCTION IF EXISTS discovery_search_vector()",
)


# The community's running counts copied onto the entry as they change (an item without an entry
# yet gets them when `refresh_entry` creates it). Only the count columns are written, so neither
# full-text trigger fires.
_COPY_COUNTS = (
    "UPDATE discovery_entries SET likes = new.human_likes + new.agent_likes, comments = new.comments"
    " WHERE submission_id = new.submission_id"
)
SQLITE_ENGAGEMENT_DDL = (
    f"CREATE TRIGGER discovery_engagement_insert AFTER INSERT ON engagement BEGIN {_COPY_COUNTS}; END",
    f"CREATE TRIGGER discovery_engagement_update AFTER UPDATE ON engagement BEGIN {_COPY_COUNTS}; END",
)
POSTGRES_ENGAGEMENT_DDL = (
    f"""CREATE OR REPLACE FUNCTION discovery_engagement_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_COPY_COUNTS.replace("new.", "NEW.")};
  RETURN NULL;
END $$""",
    "CREATE TRIGGER discovery_engagement_counts AFTER INSERT OR UPDATE ON engagement"
    " FOR EACH ROW EXECUTE FUNCTION discovery_engagement_counts()",
)
SQLITE_ENGAGEMENT_DROP = (
    "DROP TRIGGER IF EXISTS discovery_engagement_insert",
    "DROP TRIGGER IF EXISTS discovery_engagement_update",
)
POSTGRES_ENGAGEMENT_DROP = (
    "DROP TRIGGER IF EXISTS discovery_engagement_counts ON engagement",
    "DROP FUNCTION IF EXISTS discovery_engagement_counts()",
)


def engagement_ddl(dialect: str) -> tuple[str, ...]:
    return {"sqlite": SQLITE_ENGAGEMENT_DDL, "postgresql": POSTGRES_ENGAGEMENT_DDL}.get(dialect, ())


def engagement_drop(dialect: str) -> tuple[str, ...]:
    return {"sqlite": SQLITE_ENGAGEMENT_DROP, "postgresql": POSTGRES_ENGAGEMENT_DROP}.get(dialect, ())


def search_ddl(dialect: str) -> tuple[str, ...]:
    return {"sqlite": SQLITE_SEARCH_DDL, "postgresql": POSTGRES_SEARCH_DDL}.get(dialect, ())


def search_drop(dialect: str) -> tuple[str, ...]:
    return {"sqlite": SQLITE_SEARCH_DROP, "postgresql": POSTGRES_SEARCH_DROP}.get(dialect, ())


@event.listens_for(DiscoveryEntry.__table__, "after_create")
def _create_search_index(_table: Any, connection: Connection, **_: Any) -> None:
    for statement in search_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


@event.listens_for(DiscoveryEntry.__table__, "before_drop")
def _drop_search_index(_table: Any, connection: Connection, **_: Any) -> None:
    for statement in search_drop(connection.dialect.name):
        connection.exec_driver_sql(statement)


@event.listens_for(Engagement.__table__, "after_create")
def _create_engagement_copy(_table: Any, connection: Connection, **_: Any) -> None:
    for statement in engagement_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


@event.listens_for(Engagement.__table__, "before_drop")
def _drop_engagement_copy(_table: Any, connection: Connection, **_: Any) -> None:
    for statement in engagement_drop(connection.dialect.name):
        connection.exec_driver_sql(statement)
