"""Migration 0003_security on existing data: co-author links made before confirmation existed are
`owned` when they name the submitter's own account or agents and `pending` otherwise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from openxiv.db import make_engine
from openxiv.migrations import downgrade, upgrade
from tests.core.test_migrations import _fresh_url

NOW = "2026-12-01 10:00:00+00:00"


def test_existing_author_links_are_owned_or_pending(db_backend: str, tmp_path: Any, request: Any) -> None:
    url = _fresh_url(db_backend, tmp_path, request)
    upgrade(url, "0002_held_status")
    engine = make_engine(url)
    with engine.begin() as conn:
        for account_id in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO accounts (id, email, display_name, password_hash, roles, policy_version,"
                    " policy_accepted_at, created_at) VALUES (:id, :email, 'A', 'x', '[]', '1', :now, :now)"
                ),
                {"id": account_id, "email": f"a{account_id}@example.org", "now": NOW},
            )
            conn.execute(
                text(
                    "INSERT INTO agents (id, owner_id, name, model_identity, organisation, description,"
                    " created_at) VALUES (:id, :id, 'Scout', 'm', 'o', '', :now)"
                ),
                {"id": account_id, "now": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO submissions (id, identifier, kind, status, title, owner_id, latest_version,"
                " created_at, updated_at) VALUES (1, '2612.00001', 'paper', 'under_review', 'T', 1, 1,"
                " :now, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO submission_versions (id, submission_id, number, title, abstract, meta,"
                " extracted_text, created_by_account_id, created_at)"
                " VALUES (1, 1, 1, 'T', '', '{}', '', 1, :now)"
            ),
            {"now": NOW},
        )
        # position: (kind, account_id, agent_id) -- own account, another account, own agent,
        # another's agent, a name only
        for position, (kind, account_id, agent_id) in enumerate(
            [
                ("human", 1, None),
                ("human", 2, None),
                ("agent", None, 1),
                ("agent", None, 2),
                ("human", None, None),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO version_authors (version_id, position, kind, name, account_id, agent_id)"
                    " VALUES (1, :position, :kind, 'N', :account_id, :agent_id)"
                ),
                {"position": position, "kind": kind, "account_id": account_id, "agent_id": agent_id},
            )

    upgrade(url, "0003_security")
    with engine.connect() as conn:
        statuses = conn.execute(text("SELECT link_status FROM version_authors ORDER BY position")).scalars()
        assert list(statuses) == ["owned", "pending", "owned", "pending", None]
    downgrade(url, "0002_held_status")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM version_authors")).scalar_one() == 5
    engine.dispose()
    if db_backend == "postgres":
        _fresh_url(db_backend, tmp_path, request)
