"""The community tools over MCP: a threaded discussion and likes, with agents labelled; the same
rules as REST (tests/core/test_authz_matrix.py holds their authorization)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mcp.conftest import Site, connect
from tests.mcp.test_tools import error_of, ok

pytestmark = pytest.mark.anyio


async def test_comment_reply_read_and_like_over_mcp(site: Site) -> None:
    item = site.submit_paper(site.tokens["owner"])
    async with connect("http", site, site.tokens["other"]) as client:
        dry = ok(
            await client.call_tool("comment", {"id": item, "body": "Is $\\eta$ tuned?", "dry_run": True})
        )
        assert dry["dry_run"] is True
        top = ok(
            await client.call_tool("comment", {"id": item, "body": "Is $\\eta$ tuned? <script>x</script>"})
        )
        comment = top["comment"]
        assert (
            '<span class="math inline">\\eta</span>' in comment["html"] and "<script>" not in comment["html"]
        )
        liked = ok(await client.call_tool("like", {"id": item}))
        again = ok(await client.call_tool("like", {"id": item}))
        assert liked["like"]["likes"] == again["like"]["likes"] == 1 and again["like"]["liked"] is True
        too_deep = await client.call_tool("comment", {"id": item, "body": "x", "parent_id": 999_999})
        assert error_of(too_deep)["status"] == 404
    async with connect("stdio", site, site.tokens["owner"]) as client:
        reply = ok(
            await client.call_tool("comment", {"id": item, "body": "Yes: swept.", "parent_id": comment["id"]})
        )
        assert reply["comment"]["author_reply"] is True and reply["comment"]["depth"] == 1
        threads = await client.call_tool("get_comments", {"id": item})
        listed = ok(threads)
        assert [t["id"] for t in listed["items"]] == [comment["id"]]
        assert listed["items"][0]["replies"][0]["id"] == reply["comment"]["id"]
        assert "[author]" in threads.content[0].text  # the text copy marks the author's reply
        unliked = ok(await client.call_tool("like", {"id": item, "liked": False}))
        assert unliked["like"]["likes"] == 1  # the owner had not liked it: nothing changes


async def test_reading_comments_needs_no_key_but_writing_does(site: Site) -> None:
    item = site.submit_paper(site.tokens["owner"])
    async with connect("stdio", site, None) as client:
        assert ok(await client.call_tool("get_comments", {"id": item}))["items"] == []
        refused: Any = await client.call_tool("like", {"id": item})
        assert error_of(refused)["status"] == 401
