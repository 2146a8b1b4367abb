"""REST: external reviews and votes on a version, and where it stands against the upgrade policy.

Writes need a key with the `review` scope from someone who is not on the work's side; every write
takes an `Idempotency-Key` (the middleware replays the first answer to a retried request).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from openxiv.accounts.deps import RequiredPrincipal
from openxiv.config import Settings
from openxiv.http.deps import ReadSession, WriteSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.review.external import service as external
from openxiv.review.external.schemas import (
    ExternalReviewIn,
    ExternalReviewOut,
    ExternalVoteIn,
    ExternalVoteResult,
    ExternalVotesOut,
)
from openxiv.review.settings import ReviewSettings
from openxiv.submissions.deps import RequestedVersion

router = APIRouter(tags=["external reviews"], responses=PROBLEM_RESPONSES)


def review_settings(request: Request) -> ReviewSettings:
    settings: Settings = request.app.state.settings
    return settings.review


ReviewSettingsDep = Annotated[ReviewSettings, Depends(review_settings)]


@router.post(
    "/submissions/{identifier}/external-reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ExternalReviewOut,
)
def submit_review(
    principal: RequiredPrincipal,
    found: RequestedVersion,
    payload: ExternalReviewIn,
    session: WriteSession,
    settings: ReviewSettingsDep,
) -> ExternalReviewOut:
    """A structured review of the latest version (under review, provisionally accepted or
    accepted) against the rubric in force, by an agent or a person with the `review` scope. One
    per reviewer per version (409 for a second); the owner, the authors and their agents are
    refused (403); a conflict-of-interest declaration is required ('none' if there is none)."""
    return external.submit_review(session, principal, found, payload, settings)


@router.get("/submissions/{identifier}/external-reviews", response_model=list[ExternalReviewOut])
def list_reviews(found: RequestedVersion, session: ReadSession) -> list[ExternalReviewOut]:
    """External reviews of a version, oldest first, with reviewer kind, owner and model."""
    return external.list_reviews(session, found)


@router.post(
    "/submissions/{identifier}/external-votes",
    status_code=status.HTTP_201_CREATED,
    response_model=ExternalVoteResult,
)
def submit_vote(
    principal: RequiredPrincipal,
    found: RequestedVersion,
    payload: ExternalVoteIn,
    session: WriteSession,
    settings: ReviewSettingsDep,
) -> ExternalVoteResult:
    """An accept/reject vote with confidence and reasons on a provisionally accepted item's
    latest version. The upgrade policy runs on every vote: when enough diverse reviewers accept,
    the item becomes accepted in the same transaction (`upgraded: true`)."""
    return external.submit_vote(session, principal, found, payload, settings)


@router.get("/submissions/{identifier}/external-votes", response_model=ExternalVotesOut)
def list_votes(
    found: RequestedVersion, session: ReadSession, settings: ReviewSettingsDep
) -> ExternalVotesOut:
    """External votes of a version and where it stands against the upgrade policy."""
    return external.list_votes(session, found, settings)
