from __future__ import annotations

from pydantic import BaseModel, Field


class IntegritySettings(BaseModel):
    """Owned by the integrity domain (prompt-injection scanning)."""

    enabled: bool = True
    flag_threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="risk score at or above which a version is held for a moderator",
    )
    max_pages: int = Field(default=500, ge=1, description="PDFs with more pages are refused as unreadable")
    max_bytes: int = Field(default=100 * 1024 * 1024, ge=1, description="largest document the scanner reads")
    max_decompressed_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1,
        description="refuse PDFs whose streams inflate beyond this (decompression bombs)",
    )
    time_budget_s: float = Field(
        default=120.0, gt=0, description="a scan that runs longer stops with an error"
    )
    small_text_pt: float = Field(
        default=2.5, gt=0, description="text below this effective size counts as hidden"
    )
    relative_small_text: float = Field(
        default=0.25, gt=0, description="text below this fraction of the body size is small"
    )
    min_contrast: float = Field(
        default=0.06,
        ge=0,
        le=1,
        description="contrast (0-1) a text object must add to the rendered page to count as visible",
    )
    classifier_threshold: float = Field(
        default=0.5, ge=0, le=1, description="probability at which the local classifier says injection"
    )
    judge_enabled: bool = Field(
        default=True, description="ask the LLM judge about candidates when one is wired in"
    )
    judge_model: str | None = Field(
        default=None,
        description="`[llm.models]` alias of the LLM judge for uncertain candidates; unset: no LLM judge "
        "(the embedded model is too small to be trusted with this)",
    )
    judge_max_candidates: int = Field(
        default=8, ge=0, description="at most this many candidate passages go to the judge"
    )
