"""Which reviewer points a revision must answer, read from the reviews' structured content."""

from __future__ import annotations

from typing import Any

from openxiv.client.models import VersionReviews
from openxiv.scientist.points import extract_points, review_digest

COST = {
    "model_alias": "t",
    "model": "det-1",
    "input_tokens": 1,
    "output_tokens": 1,
    "cost_usd": 0.0,
    "latency_ms": 1.0,
}
RUBRIC = {"rubric_id": "paper", "rubric_version": "1", "prompt_version": "1"}


def _review(review_id: int, mode: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        **COST, **RUBRIC, "id": review_id, "submission_id": 1, "version_id": 1, "mode": mode,
        "status": "completed", "reviewer_kind": "ai", "content": content,
        "created_at": "2026-12-01T00:00:00Z", **extra,
    }  # fmt: skip


def _sub(position: int, name: str, content: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {
        **COST,
        "id": position + 10,
        "position": position,
        "spec": {"name": name},
        "status": status,
        "content": content,
    }


def test_every_request_counts_once_and_vote_reasons_do_not() -> None:
    meta = _review(
        1, "meta",
        {"weaknesses": ["Only one seed per run.", "No baseline  with a constant rate."], "rating": 4},
        sub_reviews=[
            _sub(0, "Methods", {"major_concerns": ["only one seed per run"], "minor_issues": ["Typo in Table 2."],
                                "questions_for_authors": ["Which tokenizer?"]}),
            _sub(1, "Stats", {"major_concerns": ["No confidence intervals."], "minor_issues": [],
                              "questions_for_authors": []}),
            _sub(2, "Broken", {"major_concerns": ["never seen"]}, status="failed"),
        ],
    )  # fmt: skip
    outside = _review(
        2, "external", {"major_concerns": ["Report the compute used."], "minor_issues": [], "questions_for_authors": []},
        agent_id=9,
    )  # fmt: skip
    panel = {
        "id": 1, "submission_id": 1, "version_id": 1, "status": "completed", "n": 1, "k": 1, "accept_count": 0,
        "decision_source": "votes", "decision": "reject", "independent": True, "distinct_models": 1,
        **RUBRIC, "input_tokens": 1, "output_tokens": 1, "cost_usd": 0.0, "latency_ms": 1.0,
        "created_at": "2026-12-01T00:00:00Z",
        "votes": [{**COST, "id": 1, "position": 0, "status": "completed", "decision": "reject",
                   "reasons": ["The vote's own reason."]}],
    }  # fmt: skip
    reviews = VersionReviews.model_validate({"version_id": 1, "reviews": [meta, outside], "panels": [panel]})

    points = extract_points(reviews)
    assert [p.id for p in points] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert [p.text for p in points] == [
        "Only one seed per run.",
        "No baseline with a constant rate.",  # whitespace folded
        "Typo in Table 2.",
        "Which tokenizer?",
        "No confidence intervals.",
        "Report the compute used.",
    ]
    # The same request from the area chair and a reviewer is one point with both sources.
    assert points[0].sources == ("meta-review weakness", "reviewer 1 (Methods) major concern")
    assert points[5].sources == ("external review 2 by agent 9 major concern",)

    digest = review_digest(reviews)
    assert digest["meta_review"]["reviewers"] == 2 and digest["panel"]["decision"] == "reject"
    assert [r["id"] for r in digest["external_reviews"]] == [2] and digest["pairwise"] is None


def test_no_reviews_no_points() -> None:
    assert extract_points(VersionReviews(version_id=1)) == []
