"""Pydantic shapes of the integrity domain; `IntegrityReport` is what the CLI prints and the API returns."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel, Field

SCANNER_VERSION = "openxiv-integrity/1.0"


class Category(StrEnum):
    WHITE_TEXT = "white_text"  # white or low-contrast text
    SMALL_TEXT = "small_text"
    INVISIBLE_RENDER = "invisible_render"  # render mode 3/7, fully transparent
    OFF_PAGE = "off_page"  # outside the crop box, clipped away or covered
    HIDDEN_LAYER = "hidden_layer"  # optional-content group that is off
    ANNOTATION = "annotation"
    METADATA = "metadata"
    ATTACHMENT_SCRIPT = "attachment_script"
    INVISIBLE_CHARS = "invisible_chars"  # zero-width, tag characters
    HOMOGLYPH_BIDI = "homoglyph_bidi"
    ENCODED = "encoded"  # base64, hex, URL-encoding, rot13
    GLYPH_REMAP = "glyph_remap"  # font whose glyphs do not match its text
    MIXED_LANGUAGE = "mixed_language"
    CONTEXTUAL_PERSUASION = "contextual_persuasion"  # visible text addressing reviewers / models


class Finding(BaseModel):
    category: Category
    score: float = Field(ge=0.0, le=1.0, description="how strongly this finding alone indicates an attack")
    page: int | None = Field(
        default=None, description="1-based page number; None for document-level findings"
    )
    box: list[float] | None = Field(
        default=None, description="[x0, y0, x1, y1] in PDF points, origin bottom-left"
    )
    location: str = Field(
        default="body", description="body, metadata:<key>, annotation, attachment:<name>, source"
    )
    text: str = Field(default="", description="the suspicious text (truncated)")
    evidence: str = Field(default="", description="why this was reported")


class IntegrityReport(BaseModel):
    scanner_version: str = SCANNER_VERSION
    document_type: str
    sha256: str
    flagged: bool
    risk_score: float
    threshold: float
    categories: list[Category]
    findings: list[Finding]
    visible_text: str = Field(description="the only text reviewers (human or model) should receive")
    page_count: int
    char_count: int
    judge_used: bool = False
    timings: dict[str, float] = Field(default_factory=dict, description="milliseconds per stage")

    def author_summary(self) -> str:
        """One paragraph telling the author why the version was held (no scores, no internals)."""
        if not self.flagged:
            return "The integrity scan found nothing that needs a moderator."
        names = ", ".join(c.value.replace("_", " ") for c in self.categories)
        strongest = max(self.findings, key=lambda f: f.score, default=None)
        where = ""
        if strongest is not None:
            where = f" The strongest signal: {strongest.evidence}"
            if strongest.page:
                where += f" (page {strongest.page})"
            where += "."
        return (
            "This version was held for a moderator because the integrity scan found content that appears"
            f" to be aimed at automated reviewers ({names}).{where} Remove hidden or reviewer-directed text"
            " and submit a new version, or wait for a moderator's decision."
        )


class JudgeVerdict(BaseModel):
    """An LLM judge's answer about one candidate passage."""

    is_injection: bool
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str = ""


# The LLM-as-judge seam: given candidate passages (untrusted text), return one verdict per passage,
# in order. The caller (the platform) builds it from the LLM port; see docs/integrity.md.
Judge = Callable[[list[str]], list[JudgeVerdict]]
