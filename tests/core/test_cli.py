"""The command line against a real server process (uvicorn) on loopback, as a newcomer uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from openxiv.cli import app
from tests.core.helpers import pdf_bytes

runner = CliRunner()


def _invoke(env: dict[str, str], *args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env}, catch_exceptions=False)


def test_newcomer_flow_through_the_cli(live_server: str, server_env: dict[str, str], tmp_path: Path) -> None:
    created = _invoke(
        server_env,
        "user",
        "create",
        "ada@example.org",
        "--name",
        "Ada Example",
        "--password",
        "correct horse battery",
        "--orcid",
        "0000-0002-1825-0097",
        "--key",
    )
    assert created.exit_code == 0, created.output
    agent = _invoke(
        server_env,
        "agent",
        "create",
        "ada@example.org",
        "Scout",
        "--model",
        "genesys-lite/0.1",
        "--organisation",
        "Example Lab",
    )
    assert agent.exit_code == 0, agent.output
    token = re.search(r"(oxk_\S+)", agent.output).group(1)  # type: ignore[union-attr]
    env = {**server_env, "OPENXIV_SERVER": live_server, "OPENXIV_API_KEY": token}

    paper = tmp_path / "paper.pdf"
    paper.write_bytes(pdf_bytes())
    meta = tmp_path / "meta.json"
    meta.write_text(
        json.dumps(
            {
                "title": "Warm-up length and batch size",
                "abstract": "A study of warm-up.",
                "authors": [{"kind": "agent", "agent_id": 1}, {"kind": "human", "account_id": 1}],
                "corresponding_author": 1,
                "ai_involvement": "The agent ran every experiment.",
                "ip_attribution": {"model_developer": "Example Lab", "initiating_human": "Ada Example"},
            }
        )
    )
    submitted = _invoke(env, "submit", str(paper), "--metadata", str(meta), "--json")
    assert submitted.exit_code == 0, submitted.output
    item = json.loads(submitted.output)
    identifier = item["id"]
    assert item["version"]["pdf"]["media_type"] == "application/pdf"

    letter = tmp_path / "letter.txt"
    letter.write_text("We added seeds.")
    revised = _invoke(
        env,
        "submit",
        str(paper),
        "--metadata",
        str(meta),
        "--revise",
        identifier,
        "--response-letter",
        str(letter),
        "--title",
        "Warm-up, revisited",
    )
    assert revised.exit_code == 0, revised.output
    assert f"{identifier}v2" in revised.output

    shown = _invoke(env, "status", identifier, "--json")
    assert shown.exit_code == 0, shown.output
    state = json.loads(shown.output)
    assert state["submission"]["latest_version"] == 2
    assert [t["to_status"] for t in state["transitions"]][:3] == ["submitted", "screening", "under_review"]
    human = _invoke(env, "status", identifier)
    assert "Warm-up, revisited" in human.output and "under_review" in human.output

    # The web page shows versions and the transition log.
    page = httpx.get(f"{live_server}/abs/{identifier}").text
    assert "v2" in page and "Response letter to the reviews of v1" in page and "AI-generated" in page

    revoked = _invoke(server_env, "key", "revoke", "2")
    assert revoked.exit_code == 0, revoked.output
    refused = _invoke(env, "submit", str(paper), "--metadata", str(meta))
    assert refused.exit_code == 2
    assert "revoked" in refused.output and len(refused.output.strip().splitlines()) == 1


def test_cli_bad_input_exits_2_with_one_line(server_env: dict[str, str], tmp_path: Path) -> None:
    env = {**server_env, "OPENXIV_SERVER": "http://127.0.0.1:9", "OPENXIV_API_KEY": "oxk_x_y"}
    missing = _invoke(env, "submit", str(tmp_path / "nope.pdf"))
    assert missing.exit_code == 2 and "is not a file" in missing.output
    unreachable = _invoke(env, "status", "2611.00001")
    assert unreachable.exit_code == 2 and "cannot reach the server" in unreachable.output
    bad_orcid = _invoke(
        server_env,
        "user",
        "create",
        "x@example.org",
        "--name",
        "X",
        "--password",
        "long enough pw",
        "--orcid",
        "1234",
    )
    assert bad_orcid.exit_code == 2 and "ORCID" in bad_orcid.output
    nobody = _invoke(
        server_env, "agent", "create", "ghost@example.org", "A", "--model", "m", "--organisation", "o"
    )
    assert nobody.exit_code == 2 and "no account" in nobody.output


def test_demo_seeds_once(server_env: dict[str, str]) -> None:
    first = _invoke(server_env, "demo")
    assert first.exit_code == 0, first.output
    assert "demo seeded" in first.output
    second = _invoke(server_env, "demo")
    assert "already present" in second.output
