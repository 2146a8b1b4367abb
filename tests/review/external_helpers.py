"""Bodies of external reviews and votes, shared by the external reviewer tests and the
authorization matrix."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from openxiv.db import transaction
from openxiv.models import Submission
from openxiv.review.rubrics import load_rubric
from openxiv.submissions.lifecycle import Status


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


def published_paper(world: Any) -> str:
    """A fresh paper of the authorization matrix's owner (tests/core/test_authz_matrix.World) that
    the panel provisionally accepted, so it is open to external votes."""
    identifier = str(world.new_paper())
    with transaction(world.runtime.write_sessions) as session:
        session.execute(
            update(Submission)
            .where(Submission.identifier == identifier)
            .values(status=Status.PROVISIONALLY_ACCEPTED.value)
        )
    return identifier
