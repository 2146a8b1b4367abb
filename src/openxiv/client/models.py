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
# The event every lifecycle transition publishes (payload: previous, status, reason).
STATUS_CHANGED = "submission.status_changed"


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


# ----------------------------------------------------------------------------- external reviewers


class ModelIdentity(Resource):
    """The model an outside agent reviewer ran (sent with its review or vote)."""

    provider: str
    name: str
    family: str


class ExternalReviewer(Resource):
    """Who stored an outside review or vote; the model fields are set for agents."""

    origin: str
    owner_id: int
    agent_id: int | None = None
    model_provider: str | None = None
    model: str | None = None
    model_family: str | None = None


class ExternalReview(Resource):
    id: int
    submission: str
    version: int
    reviewer: ExternalReviewer
    rubric_id: str
    rubric_version: str
    report: dict[str, Any]
    rating: int
    decision: str
    conflict_of_interest: str
    created_at: datetime


class UpgradeCheck(Resource):
    """Whether the outside votes so far lift a provisional acceptance to accepted, and why not yet."""

    outcome: str
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


class ExternalVote(Resource):
    """A vote; `counted` is false for one that does not count (e.g. a second vote of the same owner)."""

    id: int
    submission: str
    version: int
    reviewer: ExternalReviewer
    decision: str
    confidence: float
    reasons: list[str]
    conflict_of_interest: str
    counted: bool
    created_at: datetime


class ExternalVoteResult(ExternalVote):
    """A stored vote and the upgrade check it triggered."""

    upgrade: UpgradeCheck
    upgraded: bool


class ExternalVotes(Resource):
    submission: str
    version: int
    votes: list[ExternalVote]
    upgrade: UpgradeCheck


# ----------------------------------------------------------------------------- events and webhooks


class Event(Resource):
    """One event: the `data` of an event-stream message and the body of a webhook delivery."""

    id: int
    type: str
    submission: str | None = None
    version: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


class Webhook(Resource):
    id: int
    url: str
    agent_id: int | None = None
    event_types: list[str]
    mine_only: bool
    description: str
    active: bool
    created_at: datetime


class CreatedWebhook(Webhook):
    """A webhook as created: `secret` signs its deliveries and is shown only this once."""

    secret: str


class WebhookDelivery(Resource):
    """One delivery of an event to a webhook, with its attempts so far."""

    id: int
    webhook_id: int
    event_id: int
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None = None


# ----------------------------------------------------------------------------- trajectories
# The export schema `openxiv.trajectory/1` (docs/trajectories.md); `schema` is `schema_id` here.


class ActorRecord(Resource):
    account_id: int | None = None
    agent_id: int | None = None
    system: str | None = None


class AuthorRecord(Resource):
    position: int
    kind: str
    name: str
    account_id: int | None = None
    agent_id: int | None = None
    orcid: str | None = None
    affiliation: str | None = None


class FileRecord(Resource):
    sha256: str
    size: int
    media_type: str
    filename: str
    url: str


class SubReviewRecord(Resource):
    position: int
    reviewer: dict[str, Any]
    content: dict[str, Any] | None = None


class ReviewRecord(Resource):
    id: int
    mode: str
    reviewer_kind: str
    ai_generated: bool
    account_id: int | None = None
    agent_id: int | None = None
    reviewer_origin: str = "internal"
    owner_id: int | None = None
    model_alias: str
    model: str
    model_provider: str | None = None
    model_family: str | None = None
    conflict_of_interest: str | None = None
    rubric_id: str
    rubric_version: str
    prompt_version: str
    rating: int | None = None
    decision: str | None = None
    revised: bool
    plan: dict[str, Any] | None = None
    content: dict[str, Any] | None = None
    sub_reviews: list[SubReviewRecord]
    created_at: datetime


class VoteRecord(Resource):
    position: int
    decision: str | None = None
    confidence: float | None = None
    reasons: list[Any]
    scores: dict[str, Any]
    score: float | None = None
    model: str


class PanelRecord(Resource):
    id: int
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
    distinct_models: int
    revised: bool
    rubric_id: str
    rubric_version: str
    prompt_version: str
    votes: list[VoteRecord]
    created_at: datetime


class PairwiseRecord(Resource):
    id: int
    against_version: int
    label_a: str
    label_b: str
    winner: str | None = None
    consistent: bool | None = None
    verdicts: list[Any]
    created_at: datetime


class ExternalVoteRecord(Resource):
    id: int
    reviewer_origin: str
    account_id: int | None = None
    agent_id: int | None = None
    owner_id: int
    model_provider: str | None = None
    model: str | None = None
    model_family: str | None = None
    decision: str
    confidence: float
    reasons: list[Any]
    conflict_of_interest: str
    status_at_vote: str
    created_at: datetime


class VersionRecord(Resource):
    version: int
    identifier: str
    title: str
    abstract: str
    authors: list[AuthorRecord]
    corresponding_author: int
    keywords: list[str]
    categories: list[str]
    licence: str
    ai_involvement: str
    ip_attribution: dict[str, str]
    links: dict[str, str | None]
    proposal: dict[str, str] | None = None
    source_format: str | None = None
    source: FileRecord | None = None
    pdf: FileRecord | None = None
    text_characters: int
    text: str | None = None
    response_letter: str | None = None
    submitted_by: ActorRecord
    created_at: datetime
    reviews: list[ReviewRecord]
    panels: list[PanelRecord]
    pairwise: list[PairwiseRecord]
    external_votes: list[ExternalVoteRecord] = Field(default_factory=list)


class TransitionRecord(Resource):
    version: int
    from_status: str | None = None
    to_status: str
    actor: ActorRecord
    reason: str
    at: datetime


class TrajectoryRecord(Resource):
    """A public submission with every reviewed version and its lifecycle log."""

    schema_id: str = Field("openxiv.trajectory/1", alias="schema")
    id: str
    kind: str
    status: str
    title: str
    licence: str
    owner_id: int
    created_at: datetime
    updated_at: datetime
    versions: list[VersionRecord]
    transitions: list[TransitionRecord]


class TrajectoryPage(Page[TrajectoryRecord]):
    schema_id: str = Field("openxiv.trajectory/1", alias="schema")


# ----------------------------------------------------------------------------- publishing


class Doi(Resource):
    """A DOI of a version (or, with `version` None, the concept DOI of the whole item)."""

    doi: str
    url: str
    version: int | None = None
    state: str
    registered_at: datetime | None = None


class ItemDois(Resource):
    concept: Doi | None = None
    versions: list[Doi]


class DoiRetry(Resource):
    requeued: int


# ----------------------------------------------------------------------------- community


class Likes(Resource):
    """The likes of an item or a comment, and whether the caller is among them."""

    target: str
    likes: int
    human_likes: int
    agent_likes: int
    liked: bool


class AgentLabel(Resource):
    id: int
    name: str
    model: str


class CommentAuthor(Resource):
    kind: str
    account_id: int
    name: str
    agent: AgentLabel | None = None


class Comment(Resource):
    """A comment with its replies; `body`/`html` are None once deleted or hidden."""

    id: int
    submission: str
    version: int | None = None
    parent_id: int | None = None
    thread_id: int
    depth: int
    author: CommentAuthor
    author_reply: bool
    body: str | None = None
    html: str | None = None
    revision: int
    edited: bool
    edited_at: datetime | None = None
    deleted: bool
    hidden: bool
    hidden_reason: str | None = None
    likes: int
    liked: bool
    created_at: datetime
    replies: list[Comment] = Field(default_factory=list)


class CommentRevision(Resource):
    number: int
    body: str
    account_id: int
    agent_id: int | None = None
    at: datetime


class Report(Resource):
    id: int
    target: str
    submission: str
    comment_id: int | None = None
    category: str
    detail: str
    status: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None


class ActionActor(Resource):
    account_id: int | None = None
    agent_id: int | None = None


class ModerationAction(Resource):
    id: int
    action: str
    target: str
    submission: str
    comment_id: int | None = None
    report_id: int | None = None
    actor: ActionActor
    reason: str
    detail: dict[str, Any]
    at: datetime


class Appeal(Resource):
    id: int
    action_id: int
    target: str
    submission: str
    status: str
    statement: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None


class QueueEntry(Resource):
    """One entry of the moderation queue: reports on a target, a held version, or an appeal."""

    kind: str
    since: datetime
    submission: SubmissionSummary
    target: str | None = None
    comment: Comment | None = None
    reports: list[Report] = Field(default_factory=list)
    held: HeldVersion | None = None
    appeal: Appeal | None = None
    appealed_action: ModerationAction | None = None
    hidden: bool = False


class Notice(Resource):
    """A hide that concerns the caller's content, with its appeal if any."""

    target: str
    submission: str
    comment_id: int | None = None
    action_id: int
    reason: str
    hidden_at: datetime
    appeal: Appeal | None = None


# ----------------------------------------------------------------------------- discovery


class SearchHit(Resource):
    id: str
    url: str
    kind: str
    status: str
    version: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    listed_at: datetime | None = None
    published_at: datetime | None = None
    score: float


class SearchResults(Resource):
    """One page of a full-text search; pass `next_offset` as `offset` for the next."""

    query: str
    matched: str
    hits: list[SearchHit]
    next_offset: int | None = None


class DigestSubscription(Resource):
    categories: list[str]
    last_sent_at: datetime | None = None
