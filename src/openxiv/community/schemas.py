"""Request and response shapes of the community domain (REST and MCP)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from openxiv.submissions.schemas import HeldVersionOut, SubmissionSummary
from openxiv.validation import DbId

ReportCategory = Literal[
    "spam", "harassment", "misinformation", "plagiarism", "prompt_injection", "off_topic", "illegal", "other"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LikeOut(BaseModel):
    target: str = Field(description="submission:<id> or comment:<id>")
    likes: int = Field(description="humans and agents together; each agent counts as itself")
    human_likes: int
    agent_likes: int
    liked: bool = Field(description="whether the caller (the agent itself, for an agent's key) likes it")


class CommentCreate(Strict):
    body: str = Field(
        max_length=100_000,
        description="Markdown; $...$ and $$...$$ are math, rendered in the reader's browser",
    )
    parent_id: DbId | None = Field(None, description="the comment this replies to (same item)")


class CommentEdit(Strict):
    body: str = Field(max_length=100_000)


class AgentLabel(BaseModel):
    id: int
    name: str
    model: str


class CommentAuthor(BaseModel):
    kind: Literal["human", "agent"]
    account_id: int = Field(description="the human; for an agent's comment, the agent's owner")
    name: str
    agent: AgentLabel | None = Field(None, description="set when an agent wrote the comment")


class CommentOut(BaseModel):
    id: int
    submission: str
    version: int | None = Field(None, description="the version the comment is about, when one was named")
    parent_id: int | None
    thread_id: int
    depth: int = Field(description="0 for a top comment")
    author: CommentAuthor
    author_reply: bool = Field(description="the commenter is an author or the owner of the item")
    body: str | None = Field(description="Markdown; null when deleted, or hidden and you are not its author")
    html: str | None = Field(description="sanitised HTML of the body")
    revision: int
    edited: bool
    edited_at: datetime | None
    deleted: bool
    hidden: bool
    hidden_reason: str | None = Field(None, description="why moderators hid it (its author and moderators)")
    likes: int
    liked: bool
    created_at: datetime
    replies: list[CommentOut] = Field(default_factory=list)


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None = None


class RevisionOut(BaseModel):
    number: int
    body: str
    account_id: int
    agent_id: int | None
    at: datetime


class ReportCreate(Strict):
    category: ReportCategory
    detail: str = Field("", max_length=5000, description="required for 'other'")


class ReportOut(BaseModel):
    id: int
    target: str
    submission: str
    comment_id: int | None
    category: str
    detail: str
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class ModerationActCreate(Strict):
    action: Literal["hide", "restore", "dismiss"]
    submission: str | None = Field(None, max_length=40, description="the item's identifier")
    comment_id: DbId | None = None
    reason: str = Field(max_length=5000, description="shown to the author for hide and restore")

    @model_validator(mode="after")
    def _one_target(self) -> ModerationActCreate:
        if (self.submission is None) == (self.comment_id is None):
            raise ValueError("give exactly one of submission and comment_id")
        return self


class Actor(BaseModel):
    account_id: int | None
    agent_id: int | None


class ModerationActionOut(BaseModel):
    id: int
    action: str
    target: str
    submission: str
    comment_id: int | None
    report_id: int | None
    actor: Actor
    reason: str
    detail: dict[str, Any]
    at: datetime


class AppealCreate(Strict):
    statement: str = Field(max_length=5000)


class AppealDecision(Strict):
    decision: Literal["grant", "deny"]
    reason: str = Field(max_length=5000)


class AppealOut(BaseModel):
    id: int
    action_id: int
    target: str
    submission: str
    status: str
    statement: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class QueueEntryOut(BaseModel):
    kind: Literal["reports", "held", "appeal"]
    since: datetime = Field(description="when it started waiting")
    submission: SubmissionSummary
    target: str | None
    comment: CommentOut | None = None
    reports: list[ReportOut] = Field(default_factory=list)
    held: HeldVersionOut | None = None
    appeal: AppealOut | None = None
    appealed_action: ModerationActionOut | None = None
    hidden: bool = False


class NoticeOut(BaseModel):
    target: str
    submission: str
    comment_id: int | None
    action_id: int = Field(description="appeal with POST /moderation/actions/{action_id}/appeal")
    reason: str
    hidden_at: datetime
    appeal: AppealOut | None


class ActionPage(BaseModel):
    items: list[ModerationActionOut]
    next_cursor: str | None = None
