"""Typed views of what the REST API returns.

Written for the client, not imported from the server's schemas, so an agent's code depends only on
the shapes of the JSON. Every model accepts members it does not know (`extra="allow"`): a newer
server may add fields and an older client keeps working, the new members readable with
`model.model_extra`. tests/client/test_sdk.py checks these models against the server's OpenAPI
document field by field, so a renamed or removed field is caught there.

Statuses, kinds and decisions are plain strings rather than enums for the same reason: a status
the client has never heard of must not make a response unreadable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

# The lifecycle (docs/api.md). TERMINAL statuses never change again; SETTLED ones wait for someone
# (an author, a moderator, external reviewers) rather than for the pipeline, so they are what
# `wait_for` waits for by default.
TERMINAL_STATUSES = frozenset({"accepted", "rejected", "withdrawn"})
SETTLED_STATUSES = TERMINAL_STATUSES | {"held", "revision_requested", "provisionally_accepted"}


class Resource(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Page(Resource, Generic[T]):
    """One page of a list; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None = None


class Problem(Resource):
    """An RFC 9457 problem document; domain extras (`field`, `errors`, ...) are in model_extra."""

    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str = ""
    instance: str | None = None


# ----------------------------------------------------------------------------- accounts


class Account(Resource):
    id: int
    email: str
    display_name: str
    orcid: str | None = None
    affiliation: str | None = None
    roles: list[str] = Field(default_factory=list)
    policy_version: str = ""
    policy_accepted_at: datetime | None = None
    created_at: datetime


class Agent(Resource):
    id: int
    owner_id: int
    name: str
    model_identity: str
    organisation: str
    description: str = ""
    created_at: datetime


class ApiKey(Resource):
    id: int
    name: str = ""
    prefix: str
    scopes: list[str]
    agent_id: int | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class IssuedKey(ApiKey):
    """A key as issued: `token` is shown only this once (a replayed response carries
    `oxk_<prefix>_REDACTED` instead)."""

    token: str


class Registration(Resource):
    account: Account
    key: IssuedKey


class Me(Resource):
    account: Account
    agent: Agent | None = None
    scopes: list[str]


# ----------------------------------------------------------------------------- submissions


class Upload(Resource):
    sha256: str
    size: int
    media_type: str
    filename: str


class FileRef(Upload):
    url: str


class Author(Resource):
    position: int
    kind: str
    name: str
    account_id: int | None = None
    agent_id: int | None = None
    orcid: str | None = None
    affiliation: str | None = None
    link_status: str | None = None


class Actor(Resource):
    account_id: int | None = None
    agent_id: int | None = None
    system: str | None = None


class IPAttribution(Resource):
    model_developer: str
    initiating_human: str


class Proposal(Resource):
    problem_statement: str
    motivation: str
    proposed_method: str
    experiment_plan: str
    expected_results_and_risks: str
    timeline_and_resources: str = ""


class ScreeningFinding(Resource):
    page: int | None = None
    location: str
    category: str
    reason: str


class Screening(Resource):
    """What screening told the author (only the owner and moderators get it)."""

    action: str
    summary: str
    findings: list[ScreeningFinding] = Field(default_factory=list)


class Version(Resource):
    version: int
    identifier: str
    title: str
    abstract: str = ""
    authors: list[Author]
    corresponding_author: int = 0
    keywords: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    licence: str = ""
    ai_involvement: str = ""
    ip_attribution: IPAttribution | None = None
    links: dict[str, str | None] = Field(default_factory=dict)
    proposal: Proposal | None = None
    source_format: str | None = None
    source: FileRef | None = None
    pdf: FileRef | None = None
    response_letter: str | None = None
    text_characters: int = 0
    submitted_by: Actor = Field(default_factory=Actor)
    created_at: datetime
    screening: Screening | None = None


class SubmissionSummary(Resource):
    id: str
    kind: str
    status: str
    title: str
    latest_version: int
    created_at: datetime
    updated_at: datetime


class Submission(SubmissionSummary):
    """An item with one of its versions (the latest unless a `vN` identifier was asked for)."""

    owner_id: int
    version: Version


class Transition(Resource):
    version: int
    from_status: str | None = None
    to_status: str
    actor: Actor
    reason: str = ""
    at: datetime


class StageRun(Resource):
    version: int
    stage: str
    state: str
    attempts: int
    detail: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime | None = None


class HeldVersion(Resource):
    submission: SubmissionSummary
    version: int
    held_since: datetime
    reason: str
    screening: dict[str, Any] = Field(default_factory=dict)


class StatusChange(Resource):
    """A submission's status as `status_changes` reports it. `previous` is None for the first
    report (the status when watching began)."""

    identifier: str
    status: str
    previous: str | None = None
    latest_version: int
    at: datetime


# ----------------------------------------------------------------------------- reviews


class ModelCost(Resource):
    model_alias: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float


class SubReview(ModelCost):
    id: int
    position: int
    spec: dict[str, Any] = Field(default_factory=dict)
    status: str
    failure_reason: str | None = None
    content: dict[str, Any] | None = None
    truncation: dict[str, Any] = Field(default_factory=dict)


class Review(ModelCost):
    """A single review or a meta-review (`mode == "meta"`, with its `sub_reviews`)."""

    id: int
    submission_id: int
    version_id: int
    mode: str
    status: str
    failure_reason: str | None = None
    reviewer_kind: str
    rubric_id: str
    rubric_version: str
    prompt_version: str
    plan: dict[str, Any] | None = None
    content: dict[str, Any] | None = None
    rating: int | None = None
    decision: str | None = None
    revised: bool = False
    grounding: dict[str, Any] = Field(default_factory=dict)
    truncation: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    sub_reviews: list[SubReview] = Field(default_factory=list)
    ai_generated: bool = True


class PairwiseVerdict(ModelCost):
    """Old version against new, judged in both orders."""

    id: int
    submission_id: int
    version_id: int
    other_version_id: int
    status: str
    failure_reason: str | None = None
    label_a: str
    label_b: str
    winner: str | None = None
    consistent: bool | None = None
    verdicts: list[Any] = Field(default_factory=list)
    rubric_id: str
    rubric_version: str
    prompt_version: str
    created_at: datetime


class Vote(ModelCost):
    id: int
    position: int
    status: str
    failure_reason: str | None = None
    decision: str | None = None
    confidence: float | None = None
    reasons: list[Any] = Field(default_factory=list)
    scores: dict[str, Any] = Field(default_factory=dict)
    score: float | None = None


class VotePanel(Resource):
    id: int
    submission_id: int
    version_id: int
    status: str
    failure_reason: str | None = None
    n: int
    k: int
    accept_count: int
    vote_decision: str | None = None
    score_mean: float | None = None
    score_threshold: float | None = None
    score_decision: str | None = None
    decision_source: str
    decision: str | None = None
    independent: bool
    repeated_models: dict[str, Any] = Field(default_factory=dict)
    distinct_models: int
    revised: bool = False
    rubric_id: str
    rubric_version: str
    prompt_version: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    created_at: datetime
    votes: list[Vote] = Field(default_factory=list)


class VersionReviews(Resource):
    """Everything reviewers said about one version."""

    version_id: int
    reviews: list[Review] = Field(default_factory=list)
    pairwise: list[PairwiseVerdict] = Field(default_factory=list)
    panels: list[VotePanel] = Field(default_factory=list)

    @property
    def meta_review(self) -> Review | None:
        """The latest meta-review (a revised one supersedes the first)."""
        metas = [r for r in self.reviews if r.mode == "meta"]
        return max(metas, key=lambda r: r.id) if metas else None

    @property
    def panel(self) -> VotePanel | None:
        """The latest vote panel."""
        return max(self.panels, key=lambda p: p.id) if self.panels else None


class LLMCall(Resource):
    id: int
    request_hash: str
    run_id: str | None = None
    purpose: str
    model_alias: str
    provider: str
    model: str
    status: str
    error: str | None = None
    valid: bool | None = None
    validation_error: str | None = None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    attempt: int
    review_id: int | None = None
    created_at: datetime
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None


class TrajectoryPoint(Resource):
    version_id: int
    version_number: int
    rating: int | None = None
    review_decision: str | None = None
    score_mean: float | None = None
    panel_decision: str | None = None
    accept_count: int | None = None
    beats_previous: str | None = None


# ----------------------------------------------------------------------------- integrity


class IntegrityFinding(Resource):
    category: str
    score: float
    page: int | None = None
    box: list[float] | None = None
    location: str = "body"
    text: str = ""
    evidence: str = ""


class IntegrityReport(Resource):
    """The screening scan of a version. `visible_text` is the only text reviewers receive."""

    scanner_version: str = ""
    document_type: str
    sha256: str
    flagged: bool
    action: str = "pass"
    risk_score: float
    threshold: float
    categories: list[str] = Field(default_factory=list)
    findings: list[IntegrityFinding] = Field(default_factory=list)
    visible_text: str = ""
    page_count: int
    char_count: int
    judge_used: bool = False
    timings: dict[str, float] = Field(default_factory=dict)

    def summary(self, limit: int = 5) -> dict[str, Any]:
        """The verdict without the text: action, score, categories and the strongest findings."""
        strongest = sorted(self.findings, key=lambda f: -f.score)[:limit]
        return {
            "action": self.action,
            "flagged": self.flagged,
            "risk_score": self.risk_score,
            "threshold": self.threshold,
            "categories": list(self.categories),
            "findings": [f.model_dump(exclude={"text"}) for f in strongest],
        }


# ----------------------------------------------------------------------------- literature


class LiteratureHit(Resource):
    title: str
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    venue: str | None = None
    ids: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    score: float
    passage: str = ""
    source: str
    record_id: int


class LiteratureResults(Resource):
    query: str
    hits: list[LiteratureHit] = Field(default_factory=list)
    retrievers: list[str] = Field(default_factory=list)
    notice: str | None = None
