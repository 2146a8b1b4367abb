"""Everything a process needs, built once from the settings: database, storage, queue, stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openxiv.config import Settings
from openxiv.db import make_engine, make_session_factory
from openxiv.integrity.schemas import Judge
from openxiv.literature.port import LiteratureGrounder
from openxiv.storage import make_blob_store
from openxiv.storage.port import BlobStore
from openxiv.submissions.pipeline import Stage
from openxiv.submissions.stages import NotConfiguredStage, ScreeningStage

if TYPE_CHECKING:
    from openxiv.worker import HueyPipelineQueue


@dataclass
class Runtime:
    settings: Settings
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.database_url, pool_size=self.settings.db_pool_size)

    @cached_property
    def write_sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine, write=True)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine, write=False)

    @cached_property
    def blobs(self) -> BlobStore:
        return make_blob_store(self.settings.storage)

    @cached_property
    def queue(self) -> HueyPipelineQueue:
        from openxiv.worker import HueyPipelineQueue, make_huey

        return HueyPipelineQueue(make_huey(self.settings.queue), self)

    @cached_property
    def stages(self) -> list[Stage]:
        return build_stages(self.settings, self.write_sessions, self.read_sessions)

    def close(self) -> None:
        self.engine.dispose()


def build_stages(
    settings: Settings,
    write_sessions: sessionmaker[Session],
    read_sessions: sessionmaker[Session] | None = None,
) -> list[Stage]:
    """The pipeline: each domain's stage when it is enabled, else a stage that records that it is
    not configured."""
    integrity: Stage | None = None
    if settings.integrity.enabled:
        from openxiv.integrity.stage import IntegrityScreeningStage

        integrity = IntegrityScreeningStage(judge=_integrity_judge(settings, write_sessions))
    stages: list[Stage] = [ScreeningStage(integrity=integrity)]
    if settings.review.enabled:
        from openxiv.review.stages import ReviewStage, VoteStage

        return [
            *stages,
            ReviewStage(grounder=_grounder(settings, write_sessions, read_sessions)),
            VoteStage(),
        ]
    why = "the review engine is disabled in the settings ([review] enabled = false)"
    return [*stages, NotConfiguredStage("review", why), NotConfiguredStage("vote", why)]


def _integrity_judge(settings: Settings, write_sessions: sessionmaker[Session]) -> Judge | None:
    """The LLM judge of uncertain integrity findings, when an alias is configured for it."""
    if not (settings.integrity.judge_enabled and settings.integrity.judge_model):
        return None
    from openxiv.integrity.judge import llm_judge
    from openxiv.llm.client import LLMClient
    from openxiv.llm.recording import DatabaseRecorder

    return llm_judge(
        LLMClient(settings.llm, DatabaseRecorder(write_sessions)), settings.integrity.judge_model
    )


def _grounder(
    settings: Settings, write_sessions: sessionmaker[Session], read_sessions: sessionmaker[Session] | None
) -> LiteratureGrounder | None:
    """Literature for reviewers: the local index first, external services when `online`."""
    if not settings.literature.enabled:
        return None
    from openxiv.literature.grounding import LocalFirstGrounder
    from openxiv.literature.http import ScholarlyClient

    return LocalFirstGrounder(
        write_sessions, settings.literature, ScholarlyClient(settings.literature), read_sessions
    )
