"""Everything a process needs, built once from the settings: database, storage, queue, stages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from huey import Huey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openxiv.config import Settings
from openxiv.db import HotReader, make_engine, make_hot_reader, make_session_factory, on_commit
from openxiv.discovery import jobs as discovery_jobs
from openxiv.events import delivery as webhook_jobs
from openxiv.events import types as event_types
from openxiv.events import webhooks
from openxiv.events.ports import ANY_EVENT, DISPATCH_EVENTS, JobHandler
from openxiv.events.service import EVENT_SINK_KEY, dispatch_pending
from openxiv.integrity.schemas import Judge
from openxiv.literature import jobs as literature_jobs
from openxiv.literature.port import LiteratureGrounder
from openxiv.publishing import jobs as publishing_jobs
from openxiv.storage import make_blob_store
from openxiv.storage.port import BlobStore
from openxiv.submissions.pipeline import PipelineRunner
from openxiv.submissions.ports import Stage
from openxiv.submissions.stages import NotConfiguredStage, ScreeningStage
from openxiv.worker import HueyQueue, make_huey

# Which jobs each event type starts (the event stream reads the table itself and needs no job).
SUBSCRIPTIONS: Mapping[str, Sequence[str]] = {
    event_types.STATUS_CHANGED: (
        literature_jobs.INDEX_PUBLISHED_VERSION,
        discovery_jobs.REFRESH_DISCOVERY_ENTRY,
        publishing_jobs.MINT_DOIS,
    ),
    # Trending counts completed reviews, which the read model keeps.
    event_types.REVIEW_COMPLETED: (discovery_jobs.REFRESH_DISCOVERY_ENTRY,),
    event_types.EXTERNAL_REVIEW_ADDED: (discovery_jobs.REFRESH_DISCOVERY_ENTRY,),
    # A harvested record gains its DOI: its datestamp moves.
    event_types.DOI_REGISTERED: (discovery_jobs.REFRESH_DISCOVERY_ENTRY,),
    ANY_EVENT: (webhook_jobs.FAN_OUT,),
}


@dataclass
class Runtime:
    settings: Settings
    engine: Engine = field(init=False)
    # Called after each commit that recorded events in this process (the event stream's wake-up).
    commit_listeners: list[Callable[[], None]] = field(default_factory=list, init=False)
    # Called after every commit of a write session in this process, events or not (the response
    # cache: a change made here must show in this process's next read).
    write_listeners: list[Callable[[], None]] = field(default_factory=list, init=False)
    _hot_reader: HotReader | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.database_url, pool_size=self.settings.db_pool_size)

    @cached_property
    def write_sessions(self) -> sessionmaker[Session]:
        # A transaction that recorded events asks for a dispatch once it has committed.
        factory = make_session_factory(self.engine, write=True, info={EVENT_SINK_KEY: self._request_dispatch})
        on_commit(factory, self._announce_write)
        return factory

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine, write=False)

    @cached_property
    def hot_reader(self) -> HotReader | None:
        """The hot reads' own engine where one makes them cheaper (`db.make_hot_reader`); None
        where `read_sessions` serve them."""
        http = self.settings.http
        self._hot_reader = make_hot_reader(
            self.settings.database_url, threads=http.read_threads, on_loop=http.reads_on_loop
        )
        return self._hot_reader

    @cached_property
    def hot_read_sessions(self) -> sessionmaker[Session] | None:
        return make_session_factory(self.hot_reader.engine, write=False) if self.hot_reader else None

    @property
    def engines(self) -> list[Engine]:
        """Every engine this runtime opened (what a statement count must watch)."""
        return [self.engine] + ([self._hot_reader.engine] if self._hot_reader else [])

    @cached_property
    def blobs(self) -> BlobStore:
        return make_blob_store(self.settings.storage)

    @cached_property
    def queue(self) -> HueyQueue:
        return self.make_queue(make_huey(self.settings.queue))

    def make_queue(self, huey: Huey) -> HueyQueue:
        pipeline = PipelineRunner(
            self.write_sessions, self.read_sessions, self.settings, self.blobs, self.stages
        )
        return HueyQueue(huey, pipeline, self.job_handlers)

    @cached_property
    def job_handlers(self) -> dict[str, JobHandler]:
        return {
            DISPATCH_EVENTS: lambda _payload: self.dispatch_events(),
            literature_jobs.INDEX_PUBLISHED_VERSION: lambda payload: literature_jobs.index_published_version(
                self.write_sessions, payload
            ),
            discovery_jobs.REFRESH_DISCOVERY_ENTRY: lambda payload: discovery_jobs.refresh_discovery_entry(
                self.write_sessions, payload, body_chars=self.settings.discovery.body_chars
            ),
            publishing_jobs.MINT_DOIS: lambda payload: publishing_jobs.mint_dois(
                self.write_sessions, self.queue, self.settings, payload
            ),
            publishing_jobs.REGISTER_DOIS: lambda payload: publishing_jobs.register_dois(
                self.write_sessions, self.queue, self.settings, payload
            ),
            webhook_jobs.FAN_OUT: lambda payload: webhook_jobs.fan_out(
                self.write_sessions, self.queue, payload
            ),
            webhooks.DELIVER: lambda payload: webhook_jobs.deliver(
                self.write_sessions,
                self.queue,
                self.settings.events,
                payload,
                allow_private=self.settings.mode != "production",
            ),
        }

    def dispatch_events(self) -> int:
        return dispatch_pending(self.write_sessions, SUBSCRIPTIONS, self.queue)

    def _announce_write(self) -> None:
        for listener in self.write_listeners:
            listener()

    def _request_dispatch(self) -> None:
        for listener in self.commit_listeners:
            listener()
        queue: HueyQueue | None = self.queue
        if queue is not None:  # a runtime without a queue (some tests) leaves events for later
            queue.enqueue_job(DISPATCH_EVENTS, {})

    @cached_property
    def stages(self) -> list[Stage]:
        return build_stages(self.settings, self.write_sessions, self.read_sessions)

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()


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
