"""Migrations build exactly the schema the models describe, and go down and up cleanly."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from openxiv.db import make_engine
from openxiv.migrations import downgrade, upgrade
from openxiv.models import Base


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
