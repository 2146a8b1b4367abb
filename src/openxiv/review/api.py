"""REST: reviews, meta-reviews, pairwise verdicts, vote panels and the recorded LLM calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.http.deps import ReadSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.review import service
from openxiv.review.schemas import LLMCallOut, TrajectoryPoint, VersionReviewsOut
from openxiv.submissions import service as submissions
from openxiv.submissions.deps import IdentifierInPath, RequestedVersion

router = APIRouter(tags=["reviews"], responses=PROBLEM_RESPONSES)


@router.get("/submissions/{identifier}/reviews", response_model=VersionReviewsOut)
def reviews(found: RequestedVersion, session: ReadSession) -> VersionReviewsOut:
    """Reviews (single, meta with its sub-reviews), pairwise verdicts and vote panels of a version,
    each with model, prompt and rubric versions, tokens, cost and latency."""
    return service.version_reviews(session, found.version.id)


@router.get("/submissions/{identifier}/calls", response_model=list[LLMCallOut])
def calls(
    found: RequestedVersion,
    session: ReadSession,
    payload: Annotated[bool, Query(description="include the full request and response")] = False,
    after: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="cursor: the last id of the previous page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[LLMCallOut]:
    """Every LLM call made for a version, oldest first: enough to replay a review exactly."""
    return service.list_llm_calls(
        session, found.version.id, include_payload=payload, after_id=after, limit=limit
    )


@router.get("/submissions/{identifier}/trajectory", response_model=list[TrajectoryPoint])
def trajectory(
    identifier: IdentifierInPath, principal: OptionalPrincipal, session: ReadSession
) -> list[TrajectoryPoint]:
    """Quality across versions: meta-review rating, panel decision and score, old-vs-new verdicts."""
    submission = submissions.get_submission(session, identifier, principal)
    return service.quality_trajectory(session, submission.id)
