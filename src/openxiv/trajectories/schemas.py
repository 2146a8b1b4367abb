"""The trajectory record (schema `openxiv.trajectory/1`), one per public submission.

Written as its own models rather than reusing the REST responses: the REST shapes may grow with
the API, while a training-data schema changes only with a new `schema` id. Adding an optional
member keeps the id; renaming or removing one, or changing a meaning, takes the next id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID: Final = "openxiv.trajectory/1"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ActorRecord(_Record):
    """Who made a change: an account (possibly through one of its agents) or the platform."""

    account_id: int | None = None
    agent_id: int | None = None
    system: str | None = Field(default=None, description="e.g. pipeline:vote for the platform's own steps")


class AuthorRecord(_Record):
    position: int
    kind: str = Field(description="human | agent")
    name: str
    account_id: int | None = None
    agent_id: int | None = None
    orcid: str | None = None
    affiliation: str | None = None


class FileRecord(_Record):
    sha256: str
    size: int
    media_type: str
    filename: str
    url: str = Field(description="path of the download on the server that exported the record")


class SubReviewRecord(_Record):
    position: int
    reviewer: dict[str, Any] = Field(
        description="the reviewer the area chair planned: name, expertise, focus"
    )
    content: dict[str, Any] | None = Field(description="the structured report (criteria, concerns, ...)")


class ReviewRecord(_Record):
    id: int
    mode: str = Field(
        description="single | meta (a meta-review carries its sub_reviews) | external (an outside reviewer's)"
    )
    reviewer_kind: str = Field(description="ai for the platform's engine; other kinds for external reviewers")
    ai_generated: bool
    account_id: int | None = Field(default=None, description="the external reviewer's account, if any")
    agent_id: int | None = Field(default=None, description="the external reviewer's agent, if any")
    reviewer_origin: str = Field(
        default="internal", description="internal (the platform's engine), external_agent or external_human"
    )
    owner_id: int | None = Field(default=None, description="the account answerable for an external review")
    model_alias: str
    model: str
    model_provider: str | None = Field(default=None, description="an external agent's model provider")
    model_family: str | None = Field(default=None, description="an external agent's model family")
    conflict_of_interest: str | None = Field(default=None, description="an external reviewer's declaration")
    rubric_id: str
    rubric_version: str
    prompt_version: str
    rating: int | None
    decision: str | None
    revised: bool
    plan: dict[str, Any] | None
    content: dict[str, Any] | None
    sub_reviews: list[SubReviewRecord]
    created_at: datetime


class VoteRecord(_Record):
    position: int
    decision: str | None
    confidence: float | None
    reasons: list[Any]
    scores: dict[str, Any]
    score: float | None
    model: str


class PanelRecord(_Record):
    id: int
    n: int = Field(description="seats")
    k: int = Field(description="accepts needed")
    accept_count: int
    vote_decision: str | None
    score_mean: float | None
    score_threshold: float | None
    score_decision: str | None
    decision_source: str
    decision: str | None = Field(description="the decision that moved the status")
    independent: bool
    distinct_models: int
    revised: bool
    rubric_id: str
    rubric_version: str
    prompt_version: str
    votes: list[VoteRecord]
    created_at: datetime


class PairwiseRecord(_Record):
    id: int
    against_version: int = Field(description="the earlier version this one was compared with")
    label_a: str
    label_b: str
    winner: str | None = Field(description="a (the earlier version), b (this one) or tie")
    consistent: bool | None = Field(description="whether both presentation orders agreed")
    verdicts: list[Any]
    created_at: datetime


class ExternalVoteRecord(_Record):
    """An outside reviewer's accept/reject vote (counted by the upgrade to accepted)."""

    id: int
    reviewer_origin: str = Field(description="external_agent or external_human")
    account_id: int | None
    agent_id: int | None
    owner_id: int
    model_provider: str | None
    model: str | None
    model_family: str | None
    decision: str
    confidence: float
    reasons: list[Any]
    conflict_of_interest: str
    status_at_vote: str = Field(description="the submission's status when the vote arrived")
    created_at: datetime


class VersionRecord(_Record):
    version: int
    identifier: str
    title: str
    abstract: str
    authors: list[AuthorRecord]
    corresponding_author: int
    keywords: list[str]
    categories: list[str]
    licence: str = Field(description="SPDX identifier the version was published under")
    ai_involvement: str
    ip_attribution: dict[str, str]
    links: dict[str, str | None]
    proposal: dict[str, str] | None
    source_format: str | None
    source: FileRecord | None
    pdf: FileRecord | None
    text_characters: int
    text: str | None = Field(
        default=None, description="the version's text as the platform extracted it; only when asked for"
    )
    response_letter: str | None = Field(description="the authors' answer to the previous version's reviews")
    submitted_by: ActorRecord
    created_at: datetime
    reviews: list[ReviewRecord]
    panels: list[PanelRecord]
    pairwise: list[PairwiseRecord]
    external_votes: list[ExternalVoteRecord] = Field(default_factory=list)


class TransitionRecord(_Record):
    version: int
    from_status: str | None
    to_status: str
    actor: ActorRecord
    reason: str
    at: datetime


class TrajectoryRecord(_Record):
    schema_id: Literal["openxiv.trajectory/1"] = Field(
        default=SCHEMA_ID, alias="schema", description="the record's schema and its version"
    )
    id: str = Field(description="the submission identifier, YYMM.NNNNN")
    kind: str = Field(description="proposal | paper")
    status: str = Field(description="the submission's status when exported")
    title: str
    licence: str = Field(description="licence of the latest exported version")
    owner_id: int
    created_at: datetime
    updated_at: datetime
    versions: list[VersionRecord] = Field(description="the versions that went to review, oldest first")
    transitions: list[TransitionRecord] = Field(description="every lifecycle change, oldest first")


class TrajectoryPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_id: Literal["openxiv.trajectory/1"] = Field(default=SCHEMA_ID, alias="schema")
    items: list[TrajectoryRecord]
    next_cursor: str | None = Field(description="pass back as `cursor` for the next page; null on the last")


def record_json_schema() -> dict[str, Any]:
    """The JSON Schema every exported record validates against (by alias, as serialised)."""
    schema = TrajectoryRecord.model_json_schema(by_alias=True)
    schema["$id"] = f"urn:openxiv:schema:{SCHEMA_ID}"
    return schema
