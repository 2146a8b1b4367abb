"""Pydantic shapes the literature services return; a REST router can return them as they are."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ImportIssue(BaseModel):
    position: str = Field(description="where in the source: 'line 12', 'item 3', 'entry at line 40'")
    kind: Literal["rejected", "duplicate", "note"]
    reason: str


class ImportReport(BaseModel):
    source: str
    format: str
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    notes: int = 0
    resumed_from: int = Field(
        default=0, description="items of the source that an earlier run had already handled"
    )
    already_imported: bool = False
    issues: list[ImportIssue] = Field(default_factory=list, description="the first few hundred, in order")
    seconds: float = 0.0


class SearchHit(BaseModel):
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    ids: dict[str, str] = Field(description="doi, arxiv, s2, openalex, openxiv: whichever are known")
    url: str | None
    score: float = Field(description="fused rank score when dense retrieval is on, else BM25")
    passage: str = Field(description="the part of the abstract that best matches the query")
    source: str
    record_id: int


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]
    retrievers: list[str] = Field(description="e.g. ['bm25'] or ['bm25', 'dense']")
    notice: str | None = Field(
        default=None, description="set when the query was shortened or something was skipped"
    )
