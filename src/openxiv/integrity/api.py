"""REST: the prompt-injection report of a submission version (the JSON `openxiv scan --json` prints)."""

from __future__ import annotations

from fastapi import APIRouter

from openxiv.errors import NotFound
from openxiv.http.deps import ReadSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.integrity.schemas import IntegrityReport
from openxiv.integrity.service import get_report
from openxiv.submissions.deps import RequestedVersion

router = APIRouter(tags=["integrity"], responses=PROBLEM_RESPONSES)


@router.get("/submissions/{identifier}/integrity", response_model=IntegrityReport)
def integrity_report(found: RequestedVersion, session: ReadSession) -> IntegrityReport:
    """Screening report of a version: flagged, risk score, categories, findings with page, box and
    evidence, and the visible text that reviewers were given."""
    report = get_report(session, found.version.id)
    if report is None:
        raise NotFound(f"{found.identifier} has not been scanned (yet)")
    return report
