"""All ORM tables, imported in one place so that Alembic sees every one."""

from openxiv.models import community, discovery, integrity, literature, llm, publishing, review
from openxiv.models.accounts import Account, Agent, ApiKey
from openxiv.models.base import Base
from openxiv.models.events import Event, Webhook, WebhookDelivery
from openxiv.models.submissions import (
    AuthorWord,
    Blob,
    IdempotencyRecord,
    IdentifierSequence,
    StageRun,
    Submission,
    SubmissionVersion,
    Transition,
    VersionAuthor,
)

__all__ = [
    "Account",
    "Agent",
    "ApiKey",
    "AuthorWord",
    "Base",
    "Blob",
    "Event",
    "IdempotencyRecord",
    "IdentifierSequence",
    "StageRun",
    "Submission",
    "SubmissionVersion",
    "Transition",
    "VersionAuthor",
    "Webhook",
    "WebhookDelivery",
    "community",
    "discovery",
    "integrity",
    "literature",
    "llm",
    "publishing",
    "review",
]
