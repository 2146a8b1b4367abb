"""The "screening" pipeline stage: scan the version, store the report, act on its `action`."""

from __future__ import annotations

from typing import Any

from openxiv.integrity.errors import DocumentError
from openxiv.integrity.schemas import Action, IntegrityReport, Judge
from openxiv.integrity.service import get_report, save_report, scan_version
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.ports import StageContext, StageOutcome


class IntegrityScreeningStage:
    """Implements `openxiv.submissions.pipeline.Stage`.

    Idempotent: when the version already has a report, that report decides and nothing is
    scanned again. `judge` is the optional LLM judge (see `openxiv.integrity.schemas.Judge`).
    """

    name = "screening"

    def __init__(self, judge: Judge | None = None) -> None:
        self.judge = judge

    def run(self, ctx: StageContext) -> StageOutcome:
        settings = ctx.settings.integrity
        if not settings.enabled:
            return StageOutcome(
                state="completed",
                next_status=Status.UNDER_REVIEW,
                reason="integrity scanning is switched off",
                detail={"skipped": True},
            )
        report = get_report(ctx.session, ctx.version.id)
        if report is None:
            try:
                report = scan_version(ctx.version, ctx.blobs, settings, judge=self.judge)
            except DocumentError as error:
                return StageOutcome(
                    state="held",
                    next_status=Status.HELD,
                    reason=f"The submitted file could not be screened: {error}. Please upload a readable file as a new version.",
                    detail={"error": str(error)},
                )
            # The scan is done before any write; the report is stored in its own short transaction.
            report = save_report(ctx.session_factory, ctx.version, report)
        return outcome_for(report)


def outcome_for(report: IntegrityReport) -> StageOutcome:
    """The report's action decides: hold for a moderator, or go on to review (with a note when
    visible text may address automated reviewers). The author reads `reason` in the log."""
    detail: dict[str, Any] = {
        "action": report.action.value,
        "risk_score": report.risk_score,
        "flagged": report.flagged,
        "categories": [c.value for c in report.categories],
        "scanner_version": report.scanner_version,
    }
    if report.action != Action.PASS:
        # Where and why, for the author's view of the version; the suspicious text itself stays in
        # the integrity report, which only the owner and moderators can read while it is held.
        detail["findings"] = [
            {"page": f.page, "location": f.location, "category": f.category.value, "reason": f.evidence}
            for f in report.notable_findings()
        ]
    if report.action == Action.HOLD:
        return StageOutcome(
            state="held", next_status=Status.HELD, reason=report.author_summary(), detail=detail
        )
    if report.action == Action.NOTE:
        return StageOutcome(
            state="completed", next_status=Status.UNDER_REVIEW, reason=report.author_summary(), detail=detail
        )
    return StageOutcome(
        state="completed", next_status=Status.UNDER_REVIEW, reason="integrity scan passed", detail=detail
    )
