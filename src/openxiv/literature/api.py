"""REST: search the local literature index (and the platform's own published work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.config import Settings
from openxiv.http.deps import ReadSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.literature import service
from openxiv.literature.schemas import SearchResponse
from openxiv.literature.settings import LiteratureSettings

router = APIRouter(tags=["literature"], responses=PROBLEM_RESPONSES)


def literature_settings(request: Request) -> LiteratureSettings:
    settings: Settings = request.app.state.settings
    return settings.literature


@router.get("/literature/search", response_model=SearchResponse)
def search(
    principal: OptionalPrincipal,
    session: ReadSession,
    settings: Annotated[LiteratureSettings, Depends(literature_settings)],
    q: Annotated[str, Query(max_length=20_000, description="free text: a title, an abstract, keywords")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchResponse:
    """Best matches first, each with its ids, score and the passage that matched."""
    return service.search(session, settings, q, k)
