from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from openxiv.db import after_commit, transaction


def test_after_commit_waits_for_the_outermost_transaction(session_factory: Any) -> None:
    ran: list[str] = []
    with transaction(session_factory) as session:
        after_commit(session, lambda: ran.append("job"))
        with session.begin_nested():  # releasing a savepoint is not the commit
            session.execute(text("SELECT 1"))
        assert ran == []
        try:
            with session.begin_nested():
                raise ValueError("a savepoint rolled back")
        except ValueError:
            pass
        assert ran == []
    assert ran == ["job"]


def test_after_commit_never_runs_on_rollback(session_factory: Any) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), transaction(session_factory) as session:
        after_commit(session, lambda: ran.append("job"))
        raise RuntimeError("abort")
    with transaction(session_factory) as session:
        session.execute(text("SELECT 1"))
    assert ran == []
