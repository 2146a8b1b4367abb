"""Response bodies of the publishing API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class DoiOut(BaseModel):
    doi: str
    url: str = Field(description="https://doi.org/ followed by the DOI (resolves once registered)")
    version: int | None = Field(description="the version it names; null: the concept DOI (every version)")
    state: Literal["pending", "registered", "failed"] = Field(
        description="pending: reserved, not yet registered (the registrar may be unreachable); "
        "registered: resolvable; failed: the registrar refused it or the retries are spent"
    )
    registered_at: datetime | None


class ItemDoisOut(BaseModel):
    concept: DoiOut | None
    versions: list[DoiOut]


class DoiRetryOut(BaseModel):
    requeued: int = Field(description="failed DOIs put back to pending; their registration is queued")
