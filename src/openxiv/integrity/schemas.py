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
    SCAN_INCOMPLETE = "scan_incomplete"  # a check could not run; the others still decided


# Categories about text a reader can see. A finding of these alone never holds a version: the
# text is in plain view of every reader and moderator, so it goes to review with a note.
VISIBLE_CATEGORIES = frozenset({Category.CONTEXTUAL_PERSUASION, Category.MIXED_LANGUAGE})


class Action(StrEnum):
    PASS = "pass"  # nothing worth mentioning
    NOTE = "note"  # goes on to review; the findings are shown to the author and the reviewers' notes
    HOLD = "hold"  # held for a moderator before any reviewer sees it


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
    flagged: bool = Field(description="risk_score >= threshold")
    action: Action = Field(
        default=Action.PASS,
        description="hold: a moderator decides first; note: reviewed, with the findings shown; pass",
    )
    risk_score: float
    threshold: float
    categories: list[Category]
    findings: list[Finding]
    visible_text: str = Field(description="the only text reviewers (human or model) should receive")
    page_count: int
    char_count: int
    judge_used: bool = False
    timings: dict[str, float] = Field(default_factory=dict, description="milliseconds per stage")

    def notable_findings(self, limit: int = 5) -> list[Finding]:
        """The findings an author should read: the strongest first, at most `limit`."""
        shown = [f for f in self.findings if f.score >= 0.3 or f.category == Category.SCAN_INCOMPLETE]
        return sorted(shown, key=lambda f: -f.score)[:limit]

    def author_summary(self) -> str:
        """What the author is told: the outcome, then each notable finding with its page and reason."""
        if self.action == Action.PASS:
            return "The integrity scan found nothing that needs attention."
        lines = [
            "This version is held for a moderator: the integrity scan found text that appears to be"
            " aimed at automated reviewers. Remove it and submit a new version, or wait for a"
            " moderator's decision."
            if self.action == Action.HOLD
            else "This version goes on to review with a note: the integrity scan found visible text that"
            " may address automated reviewers. Reviewers are told about it."
        ]
        for finding in self.notable_findings():
            where = f"page {finding.page}" if finding.page else finding.location
            lines.append(f"- {where}: {finding.category.value.replace('_', ' ')}: {finding.evidence}")
        return "\n".join(lines)


class JudgeVerdict(BaseModel):
    """An LLM judge's answer about one candidate passage."""

    is_injection: bool
    confidence: float = Field(ge=0.0, le=1.0)
    rationale: str = ""


# The LLM-as-judge seam: given candidate passages (untrusted text), return one verdict per passage,
# in order. The caller (the platform) builds it from the LLM port; see docs/integrity.md.
Judge = Callable[[list[str]], list[JudgeVerdict]]
