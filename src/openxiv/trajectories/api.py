"""REST: `GET /api/v1/trajectories`, the experience-data export page by page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from openxiv.http.deps import ReadSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.trajectories import service
from openxiv.trajectories.schemas import TrajectoryPage

router = APIRouter(tags=["trajectories"], responses=PROBLEM_RESPONSES)


@router.get("/trajectories", response_model=TrajectoryPage, response_model_by_alias=True)
def trajectories(
    session: ReadSession,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    kind: Annotated[Literal["paper", "proposal"] | None, Query()] = None,
    text: Annotated[bool, Query(description="include each version's extracted text (large)")] = False,
) -> TrajectoryPage:
    """Public submissions with every reviewed version, its reviews, panels, pairwise verdicts and
    response letter, and the lifecycle log: schema `openxiv.trajectory/1` (docs/trajectories.md).
    The same for every caller: a key shows no more than the public sees."""
    return service.trajectory_page(session, cursor=cursor, limit=limit, kind=kind, include_text=text)
