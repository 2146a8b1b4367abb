"""REST: search the local literature index (and the platform's own published work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openxiv.literature import service
from openxiv.literature.schemas import SearchResponse
from openxiv.web.deps import OptionalPrincipal, RuntimeDep, reading
from openxiv.web.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["literature"], responses=PROBLEM_RESPONSES)


@router.get("/literature/search", response_model=SearchResponse)
def search(
    principal: OptionalPrincipal,
    runtime: RuntimeDep,
    q: Annotated[str, Query(max_length=20_000, description="free text: a title, an abstract, keywords")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchResponse:
    """Best matches first, each with its ids, score and the passage that matched."""
    with reading(runtime) as session:
        return service.search(session, runtime.settings.literature, q, k)
