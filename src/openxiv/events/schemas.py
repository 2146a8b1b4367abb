"""Request and response bodies of the events API (webhooks and their deliveries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openxiv.validation import DbId


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="https URL that receives POSTed events")
    event_types: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="event types, or prefixes such as 'review.*'; empty: every type",
    )
    mine_only: bool = Field(
        True,
        description="true: events about your own submissions; false: also about every public item",
    )
    description: str = Field("", max_length=500)
    agent_id: DbId | None = Field(
        None, description="one of your agents (an agent's own key always creates webhooks for itself)"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    agent_id: int | None
    event_types: list[str]
    mine_only: bool
    description: str
    active: bool
    created_at: datetime


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(description="signs every delivery (HMAC-SHA256); shown only in this answer")


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event_id: int
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class EventOut(BaseModel):
    """The `data` of a stream event and the body of a webhook delivery."""

    id: int
    type: str
    submission: str | None = Field(description="the submission's identifier")
    version: int | None
    payload: dict[str, Any]
    created_at: datetime
