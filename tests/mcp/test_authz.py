"""The authorization matrix for MCP tools: every tool x every kind of caller gets what the REST
route it mirrors gives (tests/core/test_authz_matrix.py's own expectations, read from its table).

A tool call that succeeds counts as the route's 2xx; a tool error carries the problem status the
route answers with. Callers connect in-process to the server `openxiv mcp` builds (their key is
checked on every call, as over stdio); over HTTP a missing key is refused before any tool runs
(tests/mcp/test_http.py), so the anonymous column here is what stdio without a key gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from mcp import Client
from openxiv.mcp import stdio
from openxiv.mcp.registry import DEFAULT_TOOLSETS
from openxiv.mcp.tools import TOOLS
from tests.core.helpers import paper_body, version_body
from tests.core.test_authz_matrix import CALLERS, MATRIX, World
from tests.core.test_authz_matrix import world as world
from tests.review.external_helpers import published_paper, review_body, vote_body

Arguments = Callable[[World], dict[str, Any]]


def _revision(w: World) -> dict[str, Any]:
    return {**version_body(), "id": w.new_paper()}


def _submission(_: World) -> dict[str, Any]:
    return paper_body()


# tool -> (the REST route it mirrors, which of that route's cases, the tool's arguments)
MCP_MATRIX: list[tuple[str, tuple[str, str], str, Arguments]] = [
    ("search_submissions", ("GET", "/api/v1/submissions"), "", lambda w: {}),
    ("find_related_literature", ("GET", "/api/v1/literature/search"), "", lambda w: {"query": "warm-up"}),
    ("submit", ("POST", "/api/v1/submissions"), "", _submission),
    ("revise", ("POST", "/api/v1/submissions/{identifier}/versions"), "", _revision),
    (
        "withdraw",
        ("POST", "/api/v1/submissions/{identifier}/withdraw"),
        "",
        lambda w: {"id": w.new_paper(), "reason": "x"},
    ),
]
for _tool, _suffix, _body in [
    ("submit_external_review", "/external-reviews", review_body()),
    ("submit_external_vote", "/external-votes", vote_body()),
]:
    _route = ("POST", f"/api/v1/submissions/{{identifier}}{_suffix}")
    MCP_MATRIX.append(
        (_tool, _route, "provisionally accepted", lambda w, body=_body: {**body, "id": published_paper(w)})
    )
    MCP_MATRIX.append((_tool, _route, "held", lambda w, body=_body: {**body, "id": w.new_paper(held=True)}))
MCP_MATRIX.append(
    ("like", ("PUT", "/api/v1/submissions/{identifier}/like"), "", lambda w: {"id": w.public_id})
)
for _case, _item in [("public", "public_id"), ("held", "held_id")]:
    MCP_MATRIX.append(
        (
            "comment",
            ("POST", "/api/v1/submissions/{identifier}/comments"),
            _case,
            lambda w, item=_item: {"id": getattr(w, item), "body": "Nice"},
        )
    )
for _tool, _suffix in [
    ("get_comments", "/comments"),
    ("get_submission", ""),
    ("export_citation", ""),
    ("list_versions", "/versions"),
    ("read_text", "/text"),
    ("get_reviews", "/reviews"),
    ("get_trajectory", "/trajectory"),
    ("get_integrity", "/integrity"),
    ("pipeline_status", "/stages"),
]:
    _route = ("GET", f"/api/v1/submissions/{{identifier}}{_suffix}")
    MCP_MATRIX.append((_tool, _route, "public", lambda w: {"id": w.public_id}))
    MCP_MATRIX.append((_tool, _route, "held", lambda w: {"id": w.held_id}))


def test_every_tool_is_in_the_matrix() -> None:
    assert {name for name, *_ in MCP_MATRIX} == {spec.name for spec in TOOLS}


def _expected(route: tuple[str, str], case_name: str) -> dict[str, int]:
    cases = [case for case in MATRIX[route] if case.name == case_name]
    assert len(cases) == 1, f"{route} has no single case named {case_name!r}"
    return cases[0].expected


async def _call(w: World, caller: str, tool: str, arguments: dict[str, Any]) -> int:
    token = None if caller == "anonymous" else w.tokens[caller]
    server = stdio.build(w.runtime.settings, token, DEFAULT_TOOLSETS, runtime=w.runtime)
    async with Client(server.server) as client:
        result = await client.call_tool(tool, arguments)
    if not result.is_error:
        return 200
    return int(result.structured_content["error"]["status"])


@pytest.mark.parametrize(
    "tool,route,case_name,arguments",
    [pytest.param(*row, id=f"{row[0]} ({row[2]})" if row[2] else row[0]) for row in MCP_MATRIX],
)
def test_each_caller_gets_what_rest_gives(
    world: World, tool: str, route: tuple[str, str], case_name: str, arguments: Arguments
) -> None:
    expected = _expected(route, case_name)
    wrong = {}
    for caller in CALLERS:
        rest = expected[caller]
        got = anyio.run(_call, world, caller, tool, arguments(world))
        if got != (200 if rest in (200, 201) else rest):
            wrong[caller] = (rest, got)
    assert not wrong, f"{tool}: caller -> (REST status, MCP outcome): {wrong}"
