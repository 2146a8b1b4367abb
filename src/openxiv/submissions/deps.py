"""FastAPI dependencies of the submissions domain, used by its API and pages and by every domain
that shows something of a version (reviews, integrity reports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.config import Settings, UploadSettings
from openxiv.http.deps import ReadSession
from openxiv.storage.port import BlobStore
from openxiv.submissions import service
from openxiv.submissions.ports import PipelineQueue

IdentifierInPath = Annotated[
    str, Path(max_length=40, description="YYMM.NNNNN (latest version) or YYMM.NNNNNvN")
]


def requested_version(
    identifier: IdentifierInPath, principal: OptionalPrincipal, session: ReadSession
) -> service.FoundVersion:
    """The version the path names, if the caller may see it (else 404, as if it did not exist)."""
    return service.find_version(session, identifier, principal)


RequestedVersion = Annotated[service.FoundVersion, Depends(requested_version)]


async def get_blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


def get_queue(request: Request) -> PipelineQueue:
    queue: PipelineQueue = request.app.state.queue()
    return queue


async def get_upload_settings(request: Request) -> UploadSettings:
    settings: Settings = request.app.state.settings
    return settings.uploads


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
QueueDep = Annotated[PipelineQueue, Depends(get_queue)]
UploadSettingsDep = Annotated[UploadSettings, Depends(get_upload_settings)]
