"""REST: the prompt-injection report of a submission version (the JSON `openxiv scan --json` prints)."""

from __future__ import annotations

from fastapi import APIRouter

from openxiv.errors import NotFound
from openxiv.integrity.schemas import IntegrityReport
from openxiv.integrity.service import get_report
from openxiv.submissions import service as submissions
from openxiv.submissions.identifiers import parse_identifier
from openxiv.web.deps import IdentifierInPath, OptionalPrincipal, RuntimeDep, reading
from openxiv.web.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["integrity"], responses=PROBLEM_RESPONSES)


@router.get("/submissions/{identifier}/integrity", response_model=IntegrityReport)
def integrity_report(
    identifier: IdentifierInPath, principal: OptionalPrincipal, runtime: RuntimeDep
) -> IntegrityReport:
    """Screening report of a version: flagged, risk score, categories, findings with page, box and
    evidence, and the visible text that reviewers were given."""
    _, number = parse_identifier(identifier)
    with reading(runtime) as session:
        submission = submissions.get_submission(session, identifier, principal)
        version = submissions.get_version(session, submission, number)
        report = get_report(session, version.id)
    if report is None:
        raise NotFound(f"{submission.identifier}v{version.number} has not been scanned (yet)")
    return report
