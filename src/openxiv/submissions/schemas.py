"""Request and response shapes of the submissions domain (shared by REST, MCP and CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from openxiv.validation import DbId

T = TypeVar("T")

SubmissionKind = Literal["proposal", "paper"]
SourceFormat = Literal["markdown", "latex"]

# SPDX identifiers of the open licences an item may carry (Creative Commons family and CC0).
Licence = Literal[
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
    "CC0-1.0",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorIn(Strict):
    """One author. Agents and humans on the platform are referenced by id; others by name."""

    kind: Literal["human", "agent"] = "human"
    name: str | None = Field(None, max_length=300, description="required unless account_id/agent_id is given")
    account_id: DbId | None = None
    agent_id: DbId | None = None
    orcid: str | None = None
    affiliation: str | None = Field(None, max_length=300)


class ProposalBody(Strict):
    """Structured research proposal (after Si, Yang & Hashimoto, 2024)."""

    problem_statement: str = Field(max_length=20_000)
    motivation: str = Field(max_length=20_000)
    proposed_method: str = Field(max_length=40_000)
    experiment_plan: str = Field(max_length=40_000)
    expected_results_and_risks: str = Field(max_length=20_000)
    timeline_and_resources: str = Field("", max_length=20_000)


# The longest inline source (Markdown or LaTeX) a submission may carry, in characters.
MAX_SOURCE_CHARS = 5_000_000


class InlineSource(Strict):
    format: SourceFormat
    text: str = Field(max_length=MAX_SOURCE_CHARS)


class IPAttribution(Strict):
    model_developer: str = Field(max_length=300, description="organisation that built the AI model(s) used")
    initiating_human: str = Field(max_length=300, description="the human scientist who initiated the work")


class Links(Strict):
    code: HttpUrl | None = None
    data: HttpUrl | None = None


class VersionContent(Strict):
    """What every version carries."""

    title: str = Field(max_length=100_000)
    abstract: str = Field("", max_length=100_000)
    authors: list[AuthorIn] = Field(min_length=1, max_length=200)
    corresponding_author: int = Field(
        0, ge=0, le=199, description="index into `authors` of the corresponding human"
    )
    keywords: list[str] = Field(default_factory=list, max_length=30)
    categories: list[str] = Field(default_factory=list, max_length=10)
    licence: Licence = "CC-BY-4.0"
    ai_involvement: str = Field(max_length=5000, description="what AI systems did in this work")
    ip_attribution: IPAttribution
    links: Links = Field(default_factory=Links)
    proposal: ProposalBody | None = None
    source: InlineSource | None = Field(None, description="Markdown or LaTeX source given inline")
    source_sha256: str | None = Field(None, description="an uploaded Markdown/LaTeX file (see POST /uploads)")
    pdf_sha256: str | None = Field(None, description="an uploaded PDF (see POST /uploads)")


class SubmissionCreate(VersionContent):
    kind: SubmissionKind


class VersionCreate(VersionContent):
    response_letter: str = Field(
        max_length=200_000, description="answers to the reviews of the previous version"
    )
    base_version: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="the version this revises; refused with 409 when it is no longer the latest",
    )


class WithdrawRequest(Strict):
    reason: str = Field(max_length=5000)


class ModerationDecision(Strict):
    decision: Literal["release", "reject"] = Field(
        description="release: the held version goes to review; reject: it is rejected"
    )
    reason: str = Field(min_length=1, max_length=5000, description="shown to the author in the log")


class AuthorOut(BaseModel):
    position: int
    kind: str
    name: str
    account_id: int | None
    agent_id: int | None
    orcid: str | None
    affiliation: str | None
    link_status: Literal["owned", "pending", "confirmed", "declined"] | None = Field(
        description="for a linked account or agent: whether it agreed to be listed (owned: the "
        "submitter's own; pending until the account or the agent's owner confirms)"
    )


class AuthorshipDecision(Strict):
    decision: Literal["confirm", "decline"] = Field(
        description="confirm or decline being listed as an author (for yourself and your agents, "
        "or, through an agent's key, for that agent)"
    )


class FileOut(BaseModel):
    sha256: str
    size: int
    media_type: str
    filename: str
    url: str


class Actor(BaseModel):
    account_id: int | None = None
    agent_id: int | None = None
    system: str | None = None


class ScreeningFindingOut(BaseModel):
    page: int | None = Field(description="1-based page; null for document-level findings (metadata, files)")
    location: str = Field(description="where in the version: body, metadata:<key>, annotation, source, ...")
    category: str = Field(description="what kind of finding, e.g. white_text, contextual_persuasion")
    reason: str = Field(description="why the scan reported it")


class ScreeningOut(BaseModel):
    """What screening concluded about a version, as its author is told."""

    action: Literal["pass", "note", "hold"] = Field(
        description="hold: waits for a moderator; note: went on to review, with the findings shown to "
        "the author and the reviewers told; pass: nothing worth mentioning"
    )
    summary: str = Field(description="what the author is told, with each notable finding's page and reason")
    findings: list[ScreeningFindingOut]


class VersionOut(BaseModel):
    version: int
    identifier: str  # e.g. 2611.00001v2
    title: str
    abstract: str
    authors: list[AuthorOut]
    corresponding_author: int
    keywords: list[str]
    categories: list[str]
    licence: str
    ai_involvement: str
    ip_attribution: IPAttribution
    links: dict[str, str | None]
    proposal: ProposalBody | None
    source_format: str | None
    source: FileOut | None
    pdf: FileOut | None
    response_letter: str | None
    text_characters: int
    submitted_by: Actor
    created_at: datetime
    screening: ScreeningOut | None = Field(
        None,
        description="only for the owner and moderators, once screening has finished: its outcome and "
        "the page and reason of each notable finding",
    )


class SubmissionOut(BaseModel):
    id: str
    kind: str
    status: str
    title: str
    latest_version: int
    owner_id: int
    created_at: datetime
    updated_at: datetime
    version: VersionOut


class SubmissionSummary(BaseModel):
    id: str
    kind: str
    status: str
    title: str
    latest_version: int
    created_at: datetime
    updated_at: datetime


class HeldVersionOut(BaseModel):
    submission: SubmissionSummary
    version: int
    held_since: datetime
    reason: str = Field(description="why screening held the version")
    screening: dict[str, object] = Field(description="screening's findings: format checks, integrity scan")


class TransitionOut(BaseModel):
    version: int
    from_status: str | None
    to_status: str
    actor: Actor
    reason: str
    at: datetime


class StageRunOut(BaseModel):
    version: int
    stage: str
    state: str
    attempts: int
    detail: dict[str, object]
    started_at: datetime
    finished_at: datetime | None


class UploadOut(BaseModel):
    sha256: str
    size: int
    media_type: str
    filename: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="pass as `cursor` to get the next page; null at the end"
    )
