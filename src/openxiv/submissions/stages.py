"""The core's own pipeline stages: format screening, and the placeholder for unconfigured stages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from openxiv.models import StageRun
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.ports import Stage, StageContext, StageOutcome

MIN_REVIEWABLE_CHARACTERS = 200


@dataclass
class ScreeningStage:
    """Format checks every version must pass, then the integrity scan when one is configured."""

    integrity: Stage | None = None
    name: str = "screening"

    def run(self, ctx: StageContext) -> StageOutcome:
        version = ctx.version
        characters = len(version.extracted_text.strip())
        checks = {"text_characters": characters, "has_pdf": version.pdf_sha256 is not None}
        if characters < MIN_REVIEWABLE_CHARACTERS:
            return StageOutcome(
                "held",
                reason=(
                    f"only {characters} characters of text could be extracted (at least "
                    f"{MIN_REVIEWABLE_CHARACTERS} are needed for review); if the PDF is scanned, add a "
                    "text layer or upload the Markdown/LaTeX source"
                ),
                next_status=Status.HELD,
                detail={"format": checks},
            )
        if self.integrity is None:
            return StageOutcome(
                "completed",
                reason="format checks passed; integrity scan not configured",
                next_status=Status.UNDER_REVIEW,
                detail={"format": checks, "integrity": "not_configured"},
            )
        outcome = self.integrity.run(ctx)
        return StageOutcome(
            outcome.state,
            reason=outcome.reason,
            next_status=outcome.next_status,
            detail={"format": checks, "integrity": outcome.detail},
            retry=outcome.retry,
        )


ScreeningAction = Literal["pass", "note", "hold"]


def screening_action(run: StageRun | None) -> ScreeningAction | None:
    """What a finished screening run concluded (None while unfinished): held for a moderator, passed
    to review with a note, or passed."""
    if run is None or run.state not in ("completed", "held"):
        return None
    integrity = screening_integrity(run)
    action = integrity.get("action")
    if action in ("pass", "note", "hold"):
        return action
    # Runs recorded before screening had actions: held (or flagged, then released) was a hold.
    return "hold" if run.state == "held" or integrity.get("flagged") else "pass"


def screening_integrity(run: StageRun) -> dict[str, Any]:
    """The integrity scan's part of a screening run's detail ({} when it did not scan)."""
    integrity = (run.detail or {}).get("integrity")
    return integrity if isinstance(integrity, dict) else {}


@dataclass
class NotConfiguredStage:
    """Stands in for a stage whose domain is not installed or configured. Records why and stops:
    never a made-up result."""

    name: str
    why: str

    def run(self, ctx: StageContext) -> StageOutcome:
        return StageOutcome("not_configured", reason=self.why)
