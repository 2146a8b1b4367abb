"""A real MCP client (the `mcp` SDK) against both transports: the web app's /mcp over streamable
HTTP, and `openxiv mcp` over stdio. Every tool is called; results are checked against REST."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from tests.core.helpers import auth, paper_body, pdf_bytes, proposal_body
from tests.mcp.conftest import Site, connect

pytestmark = pytest.mark.anyio

TRANSPORTS = ["http", "stdio"]
EXPECTED_TOOLS = [
    "search_submissions",
    "get_submission",
    "read_text",
    "list_versions",
    "get_reviews",
    "get_trajectory",
    "get_integrity",
    "find_related_literature",
    "export_citation",
    "pipeline_status",
    "submit",
    "revise",
    "withdraw",
    "submit_external_review",
    "submit_external_vote",
    "get_comments",
    "comment",
    "like",
]
WRITES = {"submit", "revise", "withdraw", "submit_external_review", "submit_external_vote", "comment", "like"}


def content_args(**overrides: Any) -> dict[str, Any]:
    """paper_body() as tool arguments."""
    return paper_body(**overrides)


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    assert result.content and result.content[0].text.strip()
    structured: dict[str, Any] = result.structured_content
    return structured


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error, f"expected an error, got {result.structured_content}"
    problem: dict[str, Any] = result.structured_content["error"]
    assert problem["detail"] in result.content[0].text
    return problem


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_tool_list_has_annotations_and_schemas(site: Site, transport: str) -> None:
    async with connect(transport, site, site.tokens["owner"]) as client:
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == EXPECTED_TOOLS
    for entry in listed:
        hints = entry.annotations
        assert hints is not None
        # Every hint is set explicitly (MCP's defaults would call every tool destructive).
        assert hints.read_only_hint is (entry.name not in WRITES)
        assert hints.destructive_hint is (entry.name == "withdraw")
        assert hints.idempotent_hint is not None
        assert entry.output_schema is not None and entry.output_schema["type"] == "object"
        assert entry.input_schema["type"] == "object"
        assert entry.input_schema.get("additionalProperties") is False
        assert entry.description and entry.title
        if entry.name in WRITES:
            assert {"idempotency_key", "dry_run"} <= set(entry.input_schema["properties"])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_read_tools(site: Site, transport: str) -> None:
    public = site.papers["public"]
    rest_text = site.http.get(f"/api/v1/submissions/{public}/text").text
    rest_item = site.http.get(f"/api/v1/submissions/{public}").json()
    async with connect(transport, site, site.tokens["owner"]) as client:
        found = ok(
            await client.call_tool("search_submissions", {"query": "warm-up BATCH", "category": "CS.lg"})
        )
        assert public in [item["id"] for item in found["items"]]
        none = ok(await client.call_tool("search_submissions", {"query": "no such words anywhere"}))
        assert none["items"] == [] and none["next_cursor"] is None
        by_status = ok(
            await client.call_tool("search_submissions", {"status": rest_item["status"], "kind": "paper"})
        )
        assert public in [item["id"] for item in by_status["items"]]

        item = ok(await client.call_tool("get_submission", {"id": public}))
        assert item["submission"]["status"] == rest_item["status"]
        assert item["submission"]["version"]["identifier"] == f"{public}v1"
        v1 = ok(await client.call_tool("get_submission", {"id": f"{public}v1"}))
        assert v1["submission"]["version"]["version"] == 1

        # Chunked reading reassembles exactly the REST text; each chunk is marked untrusted.
        start: int | None = 0
        pieces = []
        while start is not None:
            chunk = ok(await client.call_tool("read_text", {"id": public, "start": start, "max_chars": 300}))
            assert chunk["total"] == len(rest_text)
            assert chunk["untrusted"] is True and chunk["integrity"]["scanned"] is True
            assert chunk["integrity"]["action"] in ("pass", "note")
            body = chunk["content"].split("\n", 1)[1].rsplit("\n", 1)[0]
            assert chunk["content"].startswith("<<<BEGIN UNTRUSTED_CONTENT_OF_")
            pieces.append(body)
            start = chunk["next_start"]
        assert "".join(pieces) == rest_text

        versions = ok(await client.call_tool("list_versions", {"id": public}))
        assert [v["version"] for v in versions["versions"]] == [1]

        reviews = ok(await client.call_tool("get_reviews", {"id": public}))
        rest_reviews = site.http.get(f"/api/v1/submissions/{public}/reviews").json()
        assert len(reviews["reviews"]) == len(rest_reviews["reviews"]) >= 1
        assert reviews["meta_review"] is not None and reviews["meta_review"]["mode"] == "meta"
        assert reviews["panels"] and reviews["panels"][0]["votes"]

        trajectory = ok(await client.call_tool("get_trajectory", {"id": public}))
        rest_trajectory = site.http.get(f"/api/v1/submissions/{public}/trajectory").json()
        assert trajectory["points"] == rest_trajectory and trajectory["points"][0]["rating"] is not None

        integrity = ok(await client.call_tool("get_integrity", {"id": public}))
        assert integrity["verdict"]["scanned"] is True and integrity["document_type"]

        related = ok(await client.call_tool("find_related_literature", {"query": "learning rate warm-up"}))
        assert related["query"] == "learning rate warm-up"
        for_paper = ok(await client.call_tool("find_related_literature", {"id": public, "k": 3}))
        assert len(for_paper["hits"]) <= 3

        bibtex = ok(await client.call_tool("export_citation", {"id": public}))
        assert bibtex["citation"].startswith(f"@misc{{{bibtex['key']},")  # publishing's exporter
        assert (
            "author = {Example, Ada}" in bibtex["citation"]
            and f"eprint = {{{public}v1}}" in bibtex["citation"]
        )
        ris = ok(await client.call_tool("export_citation", {"id": public, "format": "ris"}))
        assert ris["citation"].startswith("TY  - ") and "AU  - Example, Ada" in ris["citation"]
        plain = ok(await client.call_tool("export_citation", {"id": public, "format": "text"}))
        assert plain["citation"].startswith("Ada Example (")

        status = ok(await client.call_tool("pipeline_status", {"id": public}))
        assert status["total_stages"] == 3 and 0 <= status["progress"] <= 1
        assert [s["stage"] for s in status["stages"]][:1] == ["screening"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_search_pages_with_a_cursor(site: Site, transport: str) -> None:
    marker = uuid.uuid4().hex[:8]
    made = [site.submit_paper(site.tokens["other"], title=f"Paging probe {marker} {n}") for n in range(3)]
    async with connect(transport, site, site.tokens["reader"]) as client:
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            arguments: dict[str, Any] = {"query": marker, "limit": 2}
            if cursor:
                arguments["cursor"] = cursor
            page = ok(await client.call_tool("search_submissions", arguments))
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == list(reversed(made))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_write_tools(site: Site, transport: str) -> None:
    owner = site.tokens["owner"]
    count = len(site.http.get("/api/v1/submissions", params={"limit": 200}).json()["items"])
    async with connect(transport, site, owner) as client:
        preview = ok(await client.call_tool("submit", {**content_args(), "dry_run": True}))
        assert preview["dry_run"] is True and preview["pipeline"] is None
        assert preview["submission"]["status"] == "submitted"
        assert len(site.http.get("/api/v1/submissions", params={"limit": 200}).json()["items"]) == count

        key = f"submit-{uuid.uuid4()}"
        first = ok(await client.call_tool("submit", {**content_args(), "idempotency_key": key}))
        again = await client.call_tool("submit", {**content_args(), "idempotency_key": key})
        assert ok(again)["submission"]["id"] == first["submission"]["id"]
        assert "repeated call" in again.content[0].text
        identifier = first["submission"]["id"]
        assert len(site.http.get("/api/v1/submissions", params={"limit": 200}).json()["items"]) == count + 1
        pipeline = first["pipeline"]
        assert pipeline["id"] == f"{identifier}v1" and pipeline["stages"]
        reused = error_of(
            await client.call_tool("submit", {**content_args(title="Other"), "idempotency_key": key})
        )
        assert "idempotency_key" in reused["detail"]

        proposal = ok(await client.call_tool("submit", {**proposal_body(), "dry_run": True}))
        assert proposal["submission"]["kind"] == "proposal"

        pdf = base64.b64encode(pdf_bytes()).decode()
        with_pdf = ok(await client.call_tool("submit", {**content_args(source=None), "pdf_base64": pdf}))
        assert with_pdf["submission"]["version"]["pdf"]["media_type"] == "application/pdf"

        # A revision needs a revisable status; screening held or review going on both are.
        held = site.submit_paper(owner)
        _set_status(site, held, "held")
        revision = {**content_args(title="Revised"), "id": held, "response_letter": "We fixed it."}
        revision.pop("kind")
        dry = ok(await client.call_tool("revise", {**revision, "dry_run": True}))
        assert dry["submission"]["latest_version"] == 2 and dry["dry_run"] is True
        assert site.http.get(f"/api/v1/submissions/{held}", headers=auth(owner)).json()["latest_version"] == 1
        stale = error_of(await client.call_tool("revise", {**revision, "base_version": 7}))
        assert stale["status"] == 409
        revised = ok(await client.call_tool("revise", {**revision, "base_version": 1}))
        assert revised["submission"]["version"]["identifier"] == f"{held}v2"
        assert revised["submission"]["version"]["response_letter"] == "We fixed it."

        withdrawn = ok(
            await client.call_tool("withdraw", {"id": identifier, "reason": "duplicate", "dry_run": True})
        )
        assert withdrawn["submission"]["status"] == "withdrawn"
        assert site.http.get(f"/api/v1/submissions/{identifier}").json()["status"] != "withdrawn"
        ok(await client.call_tool("withdraw", {"id": identifier, "reason": "duplicate"}))
        # Over stdio the change is committed by another process: the web server's cached public
        # answer goes once its event poller reads the change (a fraction of a second).
        assert await _eventually(
            lambda: site.http.get(f"/api/v1/submissions/{identifier}").json()["status"] == "withdrawn"
        )
        twice = error_of(await client.call_tool("withdraw", {"id": identifier, "reason": "again"}))
        assert twice["status"] == 409


def _set_status(site: Site, identifier: str, status: str) -> None:
    from sqlalchemy import update

    from openxiv.db import transaction
    from openxiv.models import Submission

    with transaction(site.runtime.write_sessions) as session:
        session.execute(update(Submission).where(Submission.identifier == identifier).values(status=status))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_bad_input_is_a_clear_error(site: Site, transport: str) -> None:
    public = site.papers["public"]
    async with connect(transport, site, site.tokens["owner"]) as client:
        unknown_arg = error_of(await client.call_tool("read_text", {"id": public, "bogus": 1}))
        assert "bogus" in unknown_arg["detail"] and unknown_arg["status"] == 422
        wrong_type = error_of(await client.call_tool("read_text", {"id": public, "max_chars": "lots"}))
        assert "max_chars" in wrong_type["detail"]
        too_big = error_of(await client.call_tool("read_text", {"id": public, "max_chars": 10**7}))
        assert "max_chars" in too_big["detail"]
        past_end = error_of(await client.call_tool("read_text", {"id": public, "start": 10**6}))
        assert "past the end" in past_end["detail"]
        missing = error_of(await client.call_tool("get_submission", {"id": "2001.99999"}))
        assert missing["status"] == 404
        malformed = error_of(await client.call_tool("get_reviews", {"id": "not-an-id"}))
        assert malformed["status"] == 422
        no_version = error_of(await client.call_tool("get_submission", {"id": f"{public}v9"}))
        assert "no v9" in no_version["detail"]
        bad_pdf = error_of(await client.call_tool("submit", {**content_args(), "pdf_base64": "%%%"}))
        assert "base64" in bad_pdf["detail"]
        both = error_of(await client.call_tool("find_related_literature", {}))
        assert both["status"] == 422
        with pytest.raises(MCPError, match="unknown tool"):
            await client.call_tool("delete_everything", {})
        # The connection survives every error above.
        assert ok(await client.call_tool("get_submission", {"id": public}))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_scopes_are_the_rest_apis(site: Site, transport: str) -> None:
    public = site.papers["public"]
    async with connect(transport, site, site.tokens["reader"]) as client:
        assert ok(await client.call_tool("get_submission", {"id": public}))
        refused = error_of(await client.call_tool("submit", content_args()))
        assert refused["status"] == 403 and "submit" in refused["detail"]
    async with connect(transport, site, site.tokens["other"]) as client:
        not_theirs = error_of(await client.call_tool("withdraw", {"id": public, "reason": "mine now"}))
        assert not_theirs["status"] == 403
        revision = {**content_args(), "id": public, "response_letter": "x"}
        revision.pop("kind")
        assert error_of(await client.call_tool("revise", revision))["status"] == 403


async def test_held_items_are_hidden_as_in_rest(site: Site) -> None:
    held = site.submit_paper(site.tokens["owner"])
    _set_status(site, held, "held")
    async with connect("http", site, site.tokens["other"]) as client:
        assert error_of(await client.call_tool("read_text", {"id": held}))["status"] == 404
        found = ok(await client.call_tool("search_submissions", {"status": "held"}))
        assert held not in [item["id"] for item in found["items"]]
    async with connect("http", site, site.tokens["reader"]) as client:
        assert ok(await client.call_tool("read_text", {"id": held}))["id"] == f"{held}v1"


async def test_stdio_without_a_key_reads_but_does_not_write(site: Site) -> None:
    async with connect("stdio", site, None) as client:
        assert ok(await client.call_tool("get_submission", {"id": site.papers["public"]}))
        refused = error_of(await client.call_tool("submit", content_args()))
        assert refused["status"] == 401 and "OPENXIV_API_KEY" in refused["detail"]


async def test_stdio_sees_a_revoked_key_at_once(site: Site) -> None:
    issued = site.mint(site.tokens["owner"], ["read", "submit"])
    async with connect("stdio", site, issued["token"]) as client:
        assert ok(await client.call_tool("get_submission", {"id": site.papers["public"]}))
        revoked = site.http.delete(f"/api/v1/keys/{issued['id']}", headers=auth(site.tokens["owner"]))
        assert revoked.status_code == 200
        refused = error_of(await client.call_tool("get_submission", {"id": site.papers["public"]}))
        assert refused["status"] == 401 and "revoked" in refused["detail"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_resources_and_prompts(site: Site, transport: str) -> None:
    public = site.papers["public"]
    async with connect(transport, site, site.tokens["owner"]) as client:
        resources = (await client.list_resources()).resources
        assert {str(r.uri) for r in resources} == {"openxiv://rubrics/paper", "openxiv://rubrics/proposal"}
        templates = (await client.list_resource_templates()).resource_templates
        assert {t.name for t in templates} == {"submission", "submission-text", "submission-reviews"}
        rubric = (await client.read_resource("openxiv://rubrics/paper")).contents[0]
        assert '"criteria"' in rubric.text
        text = (await client.read_resource(f"openxiv://submissions/{public}/text")).contents[0]
        assert "<<<BEGIN UNTRUSTED_CONTENT_OF_" in text.text and "integrity scan" in text.text
        reviews = (await client.read_resource(f"openxiv://submissions/{public}/reviews")).contents[0]
        assert '"panels"' in reviews.text
        item = (await client.read_resource(f"openxiv://submissions/{public}")).contents[0]
        assert public in item.text
        with pytest.raises(MCPError, match="no submission"):
            await client.read_resource("openxiv://submissions/2001.99999")
        with pytest.raises(MCPError, match="no resource"):
            await client.read_resource("openxiv://nothing/here")

        prompts = (await client.list_prompts()).prompts
        assert [p.name for p in prompts] == ["review_submission", "revise_from_reviews"]
        review = await client.get_prompt("review_submission", {"id": public})
        task = review.messages[0].content.text
        assert "clarity" in task and "Security rule" in task
        assert "<<<BEGIN UNTRUSTED_CONTENT_OF_" in review.messages[1].content.text
        revise = await client.get_prompt("revise_from_reviews", {"id": public})
        assert "response letter" in revise.messages[0].content.text
        assert "<<<BEGIN REVIEWS" in revise.messages[1].content.text
        with pytest.raises(MCPError):
            await client.get_prompt("review_submission", {})


async def _eventually(condition: Any, seconds: float = 10.0) -> bool:
    deadline = anyio.current_time() + seconds
    while anyio.current_time() < deadline:
        if condition():
            return True
        await anyio.sleep(0.05)
    return False
