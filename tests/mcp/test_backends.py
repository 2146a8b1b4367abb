"""The write tools on SQLite and PostgreSQL: a dry run leaves nothing behind (identifier counter
included), an idempotency key returns the first result, a withdrawal is final. In-process client
on the server `openxiv mcp` builds."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from mcp import Client
from openxiv.accounts import service as accounts
from openxiv.db import transaction
from openxiv.mcp import stdio
from openxiv.mcp.registry import DEFAULT_TOOLSETS
from openxiv.models import IdempotencyRecord, Submission
from openxiv.runtime import Runtime
from tests.core.helpers import paper_body

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _token(runtime: Runtime) -> str:
    with transaction(runtime.write_sessions) as session:
        account = accounts.register_account(
            session,
            email=f"{uuid.uuid4().hex[:8]}@example.org",
            password="correct horse battery",
            display_name="Ada Example",
            accept_policy=True,
            policy_version=runtime.settings.policy_version,
        )
        return accounts.issue_key(session, account, scopes=["read", "submit"]).token


def _count(runtime: Runtime, model: Any) -> int:
    with runtime.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_writes_on_each_database(runtime: Runtime) -> None:
    server = stdio.build(runtime.settings, _token(runtime), DEFAULT_TOOLSETS, runtime=runtime)
    async with Client(server.server) as client:
        preview = await client.call_tool("submit", {**paper_body(), "dry_run": True})
        assert not preview.is_error, preview.content[0].text
        assert _count(runtime, Submission) == 0
        key = str(uuid.uuid4())
        first = await client.call_tool("submit", {**paper_body(), "idempotency_key": key})
        assert not first.is_error, first.content[0].text
        identifier = first.structured_content["submission"]["id"]
        # The dry run's identifier was rolled back with the rest: the real one is the same number.
        assert identifier == preview.structured_content["submission"]["id"]
        repeat = await client.call_tool("submit", {**paper_body(), "idempotency_key": key})
        assert repeat.structured_content["submission"]["id"] == identifier
        assert _count(runtime, Submission) == 1 and _count(runtime, IdempotencyRecord) == 1
        gone = await client.call_tool("withdraw", {"id": identifier, "reason": "test"})
        assert gone.structured_content["submission"]["status"] == "withdrawn"
        again = await client.call_tool("withdraw", {"id": identifier, "reason": "test"})
        assert again.is_error and again.structured_content["error"]["status"] == 409
