"""Shared fixtures. Database tests run on SQLite and on PostgreSQL (the `db_backend` parameter).

PostgreSQL is found at OPENXIV_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test)
and Redis at OPENXIV_TEST_REDIS_URL. When a server is missing the tests that need it are skipped
with a clear reason -- unless OPENXIV_REQUIRE_SERVICES=1 (CI), where a missing server is an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from openxiv.config import Settings
from openxiv.db import make_engine, make_session_factory
from openxiv.models import Base

POSTGRES_URL = os.environ.get("OPENXIV_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OPENXIV_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("OPENXIV_REQUIRE_SERVICES") == "1"


def service_unavailable(what: str, error: Exception) -> None:
    missing(f"{what} not reachable ({error.__class__.__name__}: {error})")


def missing(message: str) -> NoReturn:
    """Skip a test whose server, model or data set is absent -- a failure under
    OPENXIV_REQUIRE_SERVICES=1 (CI), so nothing passes there by skipping silently."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; OPENXIV_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `postgres` marker on every test that runs on PostgreSQL (the `db_backend` parameter),
    so `-m "not postgres"` deselects exactly those."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("db_backend") == "postgres":
            item.add_marker(pytest.mark.postgres)


def _pg_url(database: str) -> str:
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def postgres_database(worker_id: str) -> Iterator[str]:
    """A private PostgreSQL database for this test process, dropped at the end."""
    admin_url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        service_unavailable("PostgreSQL", error)
    name = f"openxiv_test_{worker_id}_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


_pg_schema_ready: set[str] = set()


@pytest.fixture(params=["sqlite", "postgres"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'openxiv.db'}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=5)
    if engine.dialect.name == "postgresql":
        if database_url not in _pg_schema_ready:
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
            _pg_schema_ready.add(database_url)
    else:
        Base.metadata.create_all(engine)
    yield engine
    if engine.dialect.name == "postgresql":
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        mode="dev",  # short secret, and the review tests' `test` model provider
        secret_key="test-secret",
        storage={"root": tmp_path / "blobs"},
        queue={"url": "immediate"},
        rate_limit={"enabled": False},
        literature={"index_dir": tmp_path / "literature-index", "index_refresh_interval_s": 0.0},
        # Core tests exercise the pipeline without models; review tests turn this on explicitly.
        review={"enabled": False},
    )


# ------------------------------------------------------------------------------ app fixtures


@pytest.fixture
def runtime(settings: Settings, engine: Engine) -> Iterator[object]:
    from openxiv.runtime import Runtime

    runtime = Runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def app(settings: Settings, runtime: object) -> object:
    from openxiv.app import create_app

    return create_app(settings, runtime)  # type: ignore[arg-type]


@pytest.fixture
def client(app: object) -> Iterator[object]:
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:  # type: ignore[arg-type]
        yield test_client
