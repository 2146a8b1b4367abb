"""Migrations build exactly the schema the models describe, and go down and up cleanly."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from openxiv.db import make_engine
from openxiv.migrations import downgrade, upgrade
from openxiv.models import Base
from openxiv.models.discovery import SQLITE_SEARCH_TABLE


def _fresh_url(db_backend: str, tmp_path: Any, request: Any) -> str:
    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    url = str(request.getfixturevalue("postgres_database"))
    engine = make_engine(url)
    with engine.begin() as conn:  # the shared test database holds create_all tables: start empty
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    import tests.conftest as conftest

    conftest._pg_schema_ready.discard(url)
    return url


def test_upgrade_matches_models_and_downgrade_removes_everything(
    db_backend: str, tmp_path: Any, request: Any
) -> None:
    url = _fresh_url(db_backend, tmp_path, request)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # SQLite's FTS5 search index (a virtual table and its shadow tables) has no ORM model.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith(SQLITE_SEARCH_TABLE))]
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
    if db_backend == "postgres":
        cleanup = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with cleanup.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        cleanup.dispose()


def _statuses(engine: Any) -> tuple[str, list[tuple[str | None, str]]]:
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM submissions")).scalar_one()
        log = conn.execute(text("SELECT from_status, to_status FROM transitions ORDER BY id")).all()
    return status, [tuple(row) for row in log]


def test_held_status_migration_renames_stored_values_both_ways(
    db_backend: str, tmp_path: Any, request: Any
) -> None:
    url = _fresh_url(db_backend, tmp_path, request)
    upgrade(url, "0001")
    engine = make_engine(url)
    now = "2026-12-01 10:00:00+00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (id, email, display_name, password_hash, roles, policy_version,"
                " policy_accepted_at, created_at) VALUES (1, 'a@example.org', 'A', 'x', '[]', '1', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO submissions (id, identifier, kind, status, title, owner_id, latest_version,"
                " created_at, updated_at) VALUES (1, '2612.00001', 'paper', 'rejected_at_screening', 'T',"
                " 1, 1, :now, :now)"
            ),
            {"now": now},
        )
        for from_status, to_status in (
            ("submitted", "screening"),
            ("screening", "rejected_at_screening"),
            ("rejected_at_screening", "submitted"),
        ):
            conn.execute(
                text(
                    "INSERT INTO transitions (submission_id, version_number, from_status, to_status, reason,"
                    " created_at) VALUES (1, 1, :from_status, :to_status, '', :now)"
                ),
                {"from_status": from_status, "to_status": to_status, "now": now},
            )
    old = _statuses(engine)

    upgrade(url, "0002_held_status")
    assert _statuses(engine) == (
        "held",
        [("submitted", "screening"), ("screening", "held"), ("held", "submitted")],
    )
    downgrade(url, "0001")
    assert _statuses(engine) == old
    engine.dispose()
    if db_backend == "postgres":
        _fresh_url(db_backend, tmp_path, request)
