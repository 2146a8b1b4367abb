"""Experience data: `GET /api/v1/trajectories` and `openxiv export trajectories` over real
submissions reviewed by the deterministic `test` model. Only what the public may see comes out
(a held item never; a withdrawn one marked by its status and log), every record validates against
the published JSON Schema, pages neither skip nor repeat, a page costs the same number of queries
whatever its size, and the CLI writes the very records the REST endpoint serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import event

from openxiv.review.rubrics import load_rubric
from openxiv.trajectories import service
from openxiv.trajectories.schemas import SCHEMA_ID, record_json_schema
from tests.core.helpers import auth, paper_body, proposal_body, register, version_body
from tests.core.test_integrity_screening import _hidden_prompt_pdf, _submit_pdf
from tests.review.external_helpers import model, report, review_body, vote_body
from tests.review.test_external import reviewer


@pytest.fixture
def settings(settings: Any) -> Any:
    return settings.model_copy(
        update={
            "llm": settings.llm.model_validate({"models": {"t": {"provider": "test", "model": "det-1"}}}),
            "review": settings.review.model_validate(
                {
                    "enabled": True,
                    "single_model": "t",
                    "area_chair_model": "t",
                    "reviewer_models": ["t"],
                    "pairwise_model": "t",
                    "panel": ["t"] * 5,
                    "reviewers": 2,
                    # No paper's score reaches its bar (every version is sent back for revision);
                    # every proposal's does (provisionally accepted, open to external reviewers).
                    "decision_source": "scores",
                    "score_threshold": {"paper": 0.999, "proposal": 0.0},
                    "reject_below": 0.0,
                }
            ),
        }
    )


def _all_pages(client: Any, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = client.get(
            "/api/v1/trajectories", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["schema"] == SCHEMA_ID
        records += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return records


@pytest.fixture
def corpus(client: Any, runtime: Any, settings: Any) -> dict[str, str]:
    """A revised paper (v1, v2 with a letter), a withdrawn paper, a held paper and a provisionally
    accepted proposal with an external agent's review and vote."""
    token = register(client)["key"]["token"]
    revised = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()["id"]
    letter = "P1: addressed in Method. P2: declined, out of scope."
    second = client.post(
        f"/api/v1/submissions/{revised}/versions",
        headers=auth(token),
        json=version_body(title="Warm-up, revisited", response_letter=letter, licence="CC-BY-SA-4.0"),
    )
    assert second.status_code == 201, second.text
    withdrawn = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(title="Gone")).json()[
        "id"
    ]
    assert (
        client.post(
            f"/api/v1/submissions/{withdrawn}/withdraw", headers=auth(token), json={"reason": "found a bug"}
        ).json()["status"]
        == "withdrawn"
    )
    held = _submit_pdf(client, token, _hidden_prompt_pdf())["id"]
    assert client.get(f"/api/v1/submissions/{held}", headers=auth(token)).json()["status"] == "held"
    proposal = client.post("/api/v1/submissions", headers=auth(token), json=proposal_body()).json()["id"]
    assert client.get(f"/api/v1/submissions/{proposal}").json()["status"] == "provisionally_accepted"
    lab = reviewer(runtime, settings, "lab@example.org", "bot")
    feedback = next(iter(report()["criteria"].values()))
    criteria = {key: dict(feedback) for key in load_rubric("proposal").keys}
    external = review_body(report=report(criteria=criteria), model=model("qwen"))
    for what, body in (("external-reviews", external), ("external-votes", vote_body(model=model("qwen")))):
        posted = client.post(f"/api/v1/submissions/{proposal}/{what}", headers=lab.agent("bot"), json=body)
        assert posted.status_code == 201, posted.text
    return {"revised": revised, "withdrawn": withdrawn, "held": held, "proposal": proposal, "letter": letter}


def test_records_hold_the_public_history_and_validate(client: Any, corpus: dict[str, str]) -> None:
    records = _all_pages(client, limit=2)
    by_id = {r["id"]: r for r in records}
    assert set(by_id) == {corpus["revised"], corpus["withdrawn"], corpus["proposal"]}  # held: absent
    validator = jsonschema.Draft202012Validator(record_json_schema())
    for record in records:
        validator.validate(record)
        assert record["schema"] == SCHEMA_ID

    revised = by_id[corpus["revised"]]
    assert revised["status"] == "revision_requested" and revised["kind"] == "paper"
    v1, v2 = revised["versions"]
    assert (v1["version"], v2["version"]) == (1, 2) and v2["title"] == "Warm-up, revisited"
    assert v1["response_letter"] is None and v2["response_letter"] == corpus["letter"]
    assert (v1["licence"], v2["licence"], revised["licence"]) == ("CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-SA-4.0")
    assert v1["text"] is None and v1["text_characters"] > 0 and v1["source"]["url"].endswith("v1/source")
    for version in (v1, v2):
        meta = [r for r in version["reviews"] if r["mode"] == "meta"]
        assert len(meta) == 1 and meta[0]["ai_generated"] is True
        assert len(meta[0]["sub_reviews"]) == 2 and meta[0]["content"]["weaknesses"]
        assert all(s["content"]["major_concerns"] for s in meta[0]["sub_reviews"])
        (panel,) = version["panels"]
        assert panel["n"] == 5 and len(panel["votes"]) == 5
        assert panel["decision_source"] == "scores" and panel["decision"] == "reject"  # below the bar
    assert v1["pairwise"] == [] and [p["against_version"] for p in v2["pairwise"]] == [1]
    steps = [(t["version"], t["to_status"]) for t in revised["transitions"]]
    assert steps == [
        (1, "submitted"), (1, "screening"), (1, "under_review"), (1, "revision_requested"),
        (2, "submitted"), (2, "screening"), (2, "under_review"), (2, "revision_requested"),
    ]  # fmt: skip
    decision = revised["transitions"][3]
    assert decision["actor"]["system"] == "pipeline:vote" and decision["at"]

    withdrawn = by_id[corpus["withdrawn"]]
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["transitions"][-1]["to_status"] == "withdrawn"
    assert withdrawn["transitions"][-1]["reason"] == "found a bug"
    assert withdrawn["transitions"][-1]["actor"]["account_id"] is not None

    proposal = by_id[corpus["proposal"]]
    assert proposal["kind"] == "proposal" and proposal["status"] == "provisionally_accepted"
    (version,) = proposal["versions"]
    assert version["proposal"]["problem_statement"]
    (outside,) = [r for r in version["reviews"] if r["reviewer_origin"] != "internal"]
    assert outside["reviewer_origin"] == "external_agent" and outside["mode"] == "external"
    assert (outside["model_family"], outside["conflict_of_interest"]) == ("qwen", "none")
    assert outside["owner_id"] is not None and outside["content"]["questions_for_authors"]
    (vote,) = version["external_votes"]
    assert (vote["decision"], vote["model_family"], vote["status_at_vote"]) == (
        "accept", "qwen", "provisionally_accepted"
    )  # fmt: skip
    assert all(v["external_votes"] == [] for v in revised["versions"])
    assert [r["id"] for r in _all_pages(client, kind="proposal")] == [corpus["proposal"]]


def test_pages_cover_every_record_once_and_text_on_request(client: Any, corpus: dict[str, str]) -> None:
    whole = client.get("/api/v1/trajectories", params={"limit": 200}).json()
    assert whole["next_cursor"] is None
    for size in (1, 2):
        assert _all_pages(client, limit=size) == whole["items"]
    with_text = _all_pages(client, text=True)
    assert all(v["text"] and len(v["text"]) == v["text_characters"] for r in with_text for v in r["versions"])

    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}, {"kind": "poem"}):
        refused = client.get("/api/v1/trajectories", params=params)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_page_costs_the_same_queries_whatever_its_size(
    client: Any, runtime: Any, corpus: dict[str, str]
) -> None:
    def statements(limit: int) -> tuple[int, int]:
        with runtime.read_sessions() as session:
            seen: list[str] = []

            def count(*args: Any) -> None:
                seen.append(str(args[2]))

            engine = session.get_bind()
            event.listen(engine, "before_cursor_execute", count)
            try:
                page = service.trajectory_page(session, limit=limit)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            return len(page.items), len(seen)

    one, small = statements(1)
    three, large = statements(3)
    assert (one, three) == (1, 3)
    assert small == large, "a bigger page should not cost more queries (N+1)"


def test_the_cli_writes_the_records_the_api_serves(
    client: Any, settings: Any, corpus: dict[str, str], tmp_path: Path
) -> None:
    served = _all_pages(client, limit=2)
    out = tmp_path / "export" / "trajectories.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENXIV_")}
    env.update(
        {
            "OPENXIV_DATABASE_URL": settings.database_url,
            "OPENXIV_STORAGE__ROOT": str(tmp_path / "blobs"),
            "OPENXIV_MODE": "dev",
            "OPENXIV_CONFIG": str(tmp_path / "none.toml"),
        }
    )
    command = [
        sys.executable,
        "-m",
        "openxiv.cli",
        "export",
        "trajectories",
        "--out",
        str(out),
        "--page-size",
        "2",
    ]
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(served)} trajectories written" in done.stdout
    written = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert written == served
    assert not out.with_name(out.name + ".partial").exists()

    schema = subprocess.run(
        [sys.executable, "-m", "openxiv.cli", "export", "trajectories", "--schema"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert json.loads(schema.stdout) == record_json_schema()
    missing = subprocess.run(
        [sys.executable, "-m", "openxiv.cli", "export", "trajectories"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert missing.returncode == 2 and "--out" in missing.stderr
