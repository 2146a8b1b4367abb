"""Bodies of external reviews and votes, shared by the external reviewer tests and the
authorization matrix."""

from __future__ import annotations

from typing import Any

from openxiv.review.rubrics import load_rubric


def report(**overrides: Any) -> dict[str, Any]:
    rubric = load_rubric("paper")
    feedback = {
        "strengths": ["clear"],
        "weaknesses": ["small sample"],
        "suggestions": ["add seeds"],
        "score": 3,
    }
    body: dict[str, Any] = {
        "criteria": {key: dict(feedback) for key in rubric.keys},
        "summary": "A careful small study of warm-up length.",
        "major_concerns": [],
        "minor_issues": ["typo in section 2"],
        "questions_for_authors": ["how many seeds per run?"],
        "improvement_recommendations": ["report variance"],
        "missing_citations": [],
    }
    body.update(overrides)
    return body


def review_body(**overrides: Any) -> dict[str, Any]:
    body = {"report": report(), "rating": 6, "decision": "accept", "conflict_of_interest": "none"}
    body.update(overrides)
    return body


def vote_body(decision: str = "accept", **overrides: Any) -> dict[str, Any]:
    body = {
        "decision": decision,
        "confidence": 0.8,
        "reasons": ["the claims follow from the runs shown"],
        "conflict_of_interest": "none",
    }
    body.update(overrides)
    return body


def model(family: str) -> dict[str, str]:
    return {"provider": f"{family}-labs", "name": f"{family}-large-2", "family": family}
