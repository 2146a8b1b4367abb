"""FastAPI dependencies of the publishing domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from openxiv.config import Settings
from openxiv.publishing.service import Site


async def get_site(request: Request) -> Site:
    settings: Settings = request.app.state.settings
    return Site.from_settings(settings)


SiteDep = Annotated[Site, Depends(get_site)]
