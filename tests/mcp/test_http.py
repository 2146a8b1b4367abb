"""The /mcp endpoint's own checks (bearer key, Origin, toolsets), both protocol eras over HTTP,
and rate limits as a clear tool error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from mcp import Client
from openxiv.config import RateLimitSettings
from openxiv.mcp import stdio
from tests.core.helpers import auth
from tests.mcp.conftest import Site, http_client

pytestmark = pytest.mark.anyio

DISCOVER = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post(site: Site, headers: dict[str, str], path: str = "/mcp") -> httpx.Response:
    return site.http.post(path, json=DISCOVER, headers={**MCP_HEADERS, **headers})


def test_a_missing_or_invalid_key_gets_401_with_a_bearer_challenge(site: Site) -> None:
    missing = post(site, {})
    assert missing.status_code == 401
    challenge = missing.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'scope="read submit"' in challenge
    assert "error=" not in challenge
    invalid = post(site, auth("oxk_0000_not-a-key"))
    assert invalid.status_code == 401
    assert 'error="invalid_token"' in invalid.headers["www-authenticate"]
    malformed = post(site, {"Authorization": "Basic abc"})
    assert malformed.status_code == 401


def test_a_revoked_key_gets_401(site: Site) -> None:
    issued = site.mint(site.tokens["owner"], ["read"])
    assert post(site, auth(issued["token"])).status_code != 401
    assert (
        site.http.delete(f"/api/v1/keys/{issued['id']}", headers=auth(site.tokens["owner"])).status_code
        == 200
    )
    revoked = post(site, auth(issued["token"]))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_foreign_origins_are_refused(site: Site) -> None:
    token = auth(site.tokens["reader"])
    foreign = post(site, {**token, "Origin": "http://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"] == "forbidden_origin"
    # Its own host, and the configured base URL, may call; so may clients that send no Origin.
    assert post(site, {**token, "Origin": site.url}).status_code not in (401, 403)
    assert post(site, {**token, "Origin": "http://127.0.0.1:8000"}).status_code not in (401, 403)
    assert post(site, token).status_code not in (401, 403)
    # Refused before authentication: a foreign page learns nothing about keys.
    assert post(site, {"Origin": "http://evil.example"}).status_code == 403


def test_unknown_toolsets_are_a_400(site: Site) -> None:
    response = post(site, auth(site.tokens["reader"]), "/mcp?toolsets=reader,admin")
    assert response.status_code == 400 and "admin" in response.json()["detail"]


async def test_a_toolset_narrows_the_list_and_the_calls(site: Site) -> None:
    async with http_client(site, site.tokens["owner"], "?toolsets=reader") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        with pytest.raises(MCPError, match="unknown tool"):
            await client.call_tool("submit", {})
    assert "submit" not in names and "pipeline_status" not in names
    assert names[:3] == ["search_submissions", "get_submission", "read_text"]
    assert "export_citation" in names


async def test_the_handshake_era_protocol_works_too(site: Site) -> None:
    async with http_client(site, site.tokens["reader"], mode="legacy") as legacy:
        assert legacy.protocol_version < "2026"
        result = await legacy.call_tool("get_submission", {"id": site.papers["public"]})
        assert not result.is_error
    async with http_client(site, site.tokens["reader"]) as modern:
        assert modern.protocol_version >= "2026"


async def test_rate_limits_come_back_as_a_clear_error_with_the_wait(site: Site) -> None:
    limited = site.runtime.settings.model_copy(
        update={"rate_limit": RateLimitSettings(enabled=True, per_minute=2, burst=2)}
    )
    server = stdio.build(limited, site.tokens["reader"], frozenset({"reader"}), runtime=site.runtime)
    async with Client(server.server) as client:
        results: list[Any] = [
            await client.call_tool("get_submission", {"id": site.papers["public"]}) for _ in range(3)
        ]
    assert [r.is_error for r in results] == [False, False, True]
    problem = results[2].structured_content["error"]
    assert problem["status"] == 429 and problem["retry_after"] >= 1
    assert f"retry after {problem['retry_after']} s" in results[2].content[0].text
