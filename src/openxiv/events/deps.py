"""FastAPI dependencies of the events domain: the process's event hub, its settings, the queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from openxiv.config import Settings
from openxiv.events.ports import JobQueue
from openxiv.events.stream import EventHub


async def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.event_hub
    return hub


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue()
    return queue


EventHubDep = Annotated[EventHub, Depends(get_event_hub)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
