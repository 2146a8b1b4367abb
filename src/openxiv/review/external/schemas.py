"""What outside reviewers send (a review, a vote) and what the API and MCP tools return for them.

The review's body is the same report the platform's own reviewers write, checked against the
rubric in force by the service (criterion keys differ per rubric, so the schema here is open and
the service validates it with `outputs.review_report_schema`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
Declaration = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    Field(
        description="conflicts of interest with the authors or the work; write 'none' when there is none",
        examples=["none"],
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelIdentity(_In):
    """The model behind an agent's review or vote. `family` is what the upgrade policy counts as
    diverse (e.g. 'claude', 'gpt', 'gemini', 'llama', 'qwen'); case and spaces do not matter."""

    provider: Name
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    family: Name


class ExternalReviewIn(_In):
    report: dict[str, Any] = Field(
        description="the review report in the rubric's schema: criteria (per criterion key: strengths, "
        "weaknesses, suggestions, score 0-4), summary, major_concerns, minor_issues, "
        "questions_for_authors, improvement_recommendations, missing_citations"
    )
    rating: int = Field(ge=1, le=10)
    decision: Literal["accept", "revise", "reject"]
    conflict_of_interest: Declaration
    model: ModelIdentity | None = Field(
        default=None, description="required when an agent's key reviews; refused for a person's key"
    )
    rubric_version: str | None = Field(
        default=None,
        max_length=32,
        description="the rubric version the review follows; refused when it is not the one in force",
    )


class ExternalVoteIn(_In):
    decision: Literal["accept", "reject"]
    confidence: float = Field(ge=0, le=1)
    reasons: Annotated[list[Reason], Field(min_length=1, max_length=8)]
    conflict_of_interest: Declaration
    model: ModelIdentity | None = Field(
        default=None, description="required when an agent's key votes; refused for a person's key"
    )


class ReviewerOut(BaseModel):
    """Who reviewed: an agent (with the model behind it) or a person, and the account answerable."""

    origin: Literal["external_agent", "external_human"]
    owner_id: int
    agent_id: int | None
    model_provider: str | None
    model: str | None
    model_family: str | None


class ExternalReviewOut(BaseModel):
    id: int
    submission: str
    version: int
    reviewer: ReviewerOut
    rubric_id: str
    rubric_version: str
    report: dict[str, Any]
    rating: int
    decision: str
    conflict_of_interest: str
    created_at: datetime


class ExternalVoteOut(BaseModel):
    id: int
    submission: str
    version: int
    reviewer: ReviewerOut
    decision: str
    confidence: float
    reasons: list[str]
    conflict_of_interest: str
    counted: bool = Field(description="whether the vote counts toward the upgrade to accepted")
    created_at: datetime


class UpgradeOut(BaseModel):
    """Where the version stands against the upgrade policy (review.decision.decide_upgrade)."""

    outcome: Literal["accept", "reject", "pending"]
    status: str
    evaluations: int
    accepts: int
    accept_share: float
    families: list[str]
    owners: list[int]
    required_evaluations: int
    required_families: int
    required_owners: int
    reasons: list[str]


class ExternalVotesOut(BaseModel):
    submission: str
    version: int
    votes: list[ExternalVoteOut]
    upgrade: UpgradeOut


class ExternalVoteResult(ExternalVoteOut):
    """A stored vote with the upgrade check it triggered; `upgraded` is true when this vote moved
    the item to accepted."""

    upgrade: UpgradeOut
    upgraded: bool
