"""FastAPI dependencies of the community domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from openxiv.community.settings import CommunitySettings
from openxiv.config import Settings


async def get_community_settings(request: Request) -> CommunitySettings:
    settings: Settings = request.app.state.settings
    return settings.community


CommunityLimits = Annotated[CommunitySettings, Depends(get_community_settings)]
