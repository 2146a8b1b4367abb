"""The review and vote stages of the submission pipeline (`submissions.ports.Stage`).

Both stages are idempotent per version: a completed review, old-vs-new verdict or panel is
reused, never made twice. Inputs are read through the context's read-only session; model calls
are buffered in memory while the models work (no write lock is held during minutes of generation)
and stored with the results in one short write transaction afterwards. A model that never produces a valid answer gives `state="failed"` with the
reason and `retry=True`; the failed attempt stays visible as a row with its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from openxiv.config import Settings
from openxiv.db import transaction
from openxiv.integrity.errors import DocumentError
from openxiv.integrity.scanner import visible_text
from openxiv.integrity.service import get_report
from openxiv.literature.port import LiteratureGrounder
from openxiv.llm.client import LLMClient
from openxiv.llm.port import CallContext, LLMError
from openxiv.llm.recording import CallRecorder, MemoryRecorder
from openxiv.models import Blob, SubmissionVersion
from openxiv.models.review import VotePanel
from openxiv.review import service
from openxiv.review.decision import Decision, DecisionSource, PanelRule, decide_panel
from openxiv.review.engine import Document, ReviewEngine, ReviewFailedError, ReviewInputError, Revision
from openxiv.review.settings import ReviewSettings
from openxiv.storage.port import BlobStore
from openxiv.submissions import repository
from openxiv.submissions.files import proposal_text
from openxiv.submissions.ports import StageContext, StageOutcome
from openxiv.submissions.stages import screening_action

LLMFactory = Callable[[Settings, CallRecorder], LLMClient]
# How a review, comparison or vote can fail: it is stored as failed with the reason.
_ENGINE_FAILURES = (ReviewFailedError, LLMError, ReviewInputError)


def default_llm_factory(settings: Settings, recorder: CallRecorder) -> LLMClient:
    return LLMClient(settings.llm, recorder)


def visible_text_of(data: bytes, filename: str) -> str:
    """The integrity domain's visible text of a file.

    A file it cannot read is a `ReviewInputError` (the author must fix it; retrying will not help).
    """
    try:
        return str(visible_text(data, filename))
    except DocumentError as error:
        raise ReviewInputError(f"{filename}: {error}") from error


def _visible_text(session: Any, blobs: BlobStore, sha256: str) -> str:
    blob = session.get(Blob, sha256)
    filename = blob.filename if blob is not None and blob.filename else sha256
    return visible_text_of(blobs.get(sha256), filename)


def _screened_text(session: Any, version: SubmissionVersion) -> str | None:
    """The visible text stored by screening (the PDF's, else the source's), so that a file is not
    extracted and rendered a second time; None when the version was not screened."""
    if not (version.pdf_sha256 or version.source_sha256):
        return None
    report = get_report(session, version.id)
    return report.visible_text if report is not None and report.visible_text.strip() else None


def version_document(session: Any, blobs: BlobStore, kind: str, version: SubmissionVersion) -> Document:
    """What reviewers see of a version: only the visible text when the integrity domain offers it."""
    body: str | None = proposal_text("", version.proposal) if version.proposal else None
    if body is None:
        body = _screened_text(session, version)
    for sha in (version.pdf_sha256, version.source_sha256) if body is None else ():
        if sha and body is None:
            body = _visible_text(session, blobs, sha)
    if body is None:
        body = version.extracted_text or ""
    if not body.strip():
        raise ReviewInputError(f"version v{version.number} has no text to review")
    header = f"# {version.title}\n\n" + (f"Abstract: {version.abstract}\n\n" if version.abstract else "")
    screening = repository.stage_run(session, version.submission_id, version.number, "screening")
    return Document(
        kind=kind,
        text=header + body,
        title=version.title,
        abstract=version.abstract or "",
        label=f"v{version.number}",
        screening_note=screening_action(screening) == "note",
    )


def _previous_version(session: Any, version: SubmissionVersion) -> SubmissionVersion | None:
    if version.number <= 1:
        return None
    query = select(SubmissionVersion).where(
        SubmissionVersion.submission_id == version.submission_id,
        SubmissionVersion.number == version.number - 1,
    )
    return session.scalars(query).first()


def _revision(session: Any, version: SubmissionVersion) -> Revision:
    previous = _previous_version(session, version)
    review = service.completed_review(session, previous.id) if previous else None
    return Revision(
        previous_review=service.previous_review_text(review) if review else None,
        response_letter=version.response_letter or None,
    )


class _Buffered:
    """Call records kept in memory and stored step by step, linked to the row they produced."""

    def __init__(self) -> None:
        self.recorder = MemoryRecorder()
        self._stored = 0

    def store(self, session: Any, review_id: int | None = None) -> None:
        records = self.recorder.records[self._stored :]
        self._stored = len(self.recorder.records)
        service.persist_calls(session, records, review_id=review_id)


class _EngineStage:
    name = ""

    def __init__(
        self, llm_factory: LLMFactory | None = None, grounder: LiteratureGrounder | None = None
    ) -> None:
        self.llm_factory = llm_factory or default_llm_factory
        self.grounder = grounder

    def _engine(self, ctx: StageContext, buffer: _Buffered) -> ReviewEngine:
        return ReviewEngine(
            self.llm_factory(ctx.settings, buffer.recorder), ctx.settings.review, self.grounder
        )

    @staticmethod
    def _context(ctx: StageContext) -> CallContext:
        return CallContext(
            run_id=str(uuid.uuid4()), submission_id=ctx.submission.id, version_id=ctx.version.id
        )


class ReviewStage(_EngineStage):
    """Meta review of the version; from v2 on, reviewers see the previous review and the response
    letter, and the new version is then judged against the previous one (pairwise, both orders)."""

    name = "review"

    def run(self, ctx: StageContext) -> StageOutcome:
        session, version, kind = ctx.session, ctx.version, ctx.submission.kind
        try:
            document = version_document(session, ctx.blobs, kind, version)
        except ReviewInputError as error:
            return StageOutcome(state="failed", reason=str(error), retry=False)
        buffer = _Buffered()
        engine = self._engine(ctx, buffer)
        provenance = engine.provenance(engine.rubric(kind))
        detail: dict[str, Any] = {}

        review = service.completed_review(session, version.id)
        if review is None:
            context = self._context(ctx)
            try:
                result = engine.meta(document, revision=_revision(session, version), context=context)
            except _ENGINE_FAILURES as error:
                reason = f"meta review failed: {error}"
                with transaction(ctx.session_factory) as write:
                    failed = service.store_review(
                        write,
                        version,
                        mode="meta",
                        provenance=provenance,
                        run_id=context.run_id or "",
                        result=_partial(error),
                        failure=reason,
                    )
                    buffer.store(write, failed.id)
                return _failed(error, reason, {"review_id": failed.id})
            with transaction(ctx.session_factory) as write:
                # Another worker may have finished the same review meanwhile: keep theirs.
                review = service.completed_review(write, version.id)
                if review is None:
                    review = service.store_review(
                        write,
                        version,
                        mode="meta",
                        provenance=result.provenance,
                        run_id=context.run_id or "",
                        result=result,
                    )
                buffer.store(write, review.id)
        detail.update(review_id=review.id, rating=review.rating, decision=review.decision)

        previous = _previous_version(session, version)
        if previous is not None and ctx.settings.review.pairwise_on_revision:
            verdict = service.completed_pairwise(session, version.id, previous.id)
            if verdict is None:
                context = self._context(ctx)
                try:
                    old = version_document(session, ctx.blobs, kind, previous)
                    pairwise = engine.pairwise(old, document, context=context)
                except _ENGINE_FAILURES as error:
                    reason = f"old-vs-new comparison failed: {error}"
                    with transaction(ctx.session_factory) as write:
                        failed_verdict = service.store_pairwise(
                            write,
                            version,
                            previous,
                            provenance=provenance,
                            run_id=context.run_id or "",
                            failure=reason,
                        )
                        buffer.store(write)
                    detail["pairwise_id"] = failed_verdict.id
                    return StageOutcome(state="failed", reason=reason, retry=True, detail=detail)
                with transaction(ctx.session_factory) as write:
                    verdict = service.completed_pairwise(write, version.id, previous.id)
                    if verdict is None:
                        verdict = service.store_pairwise(
                            write,
                            version,
                            previous,
                            provenance=pairwise.provenance,
                            run_id=context.run_id or "",
                            result=pairwise,
                        )
                    buffer.store(write)
            detail.update(
                pairwise_id=verdict.id, pairwise_winner=verdict.winner, improved=verdict.winner == "b"
            )
        reason = f"meta review: rating {review.rating}/10, recommends {review.decision}"
        return StageOutcome(state="completed", reason=reason, detail=detail)


class VoteStage(_EngineStage):
    """The decision panel: N seats vote; the decision rule moves the status (SPEC §2)."""

    name = "vote"

    def run(self, ctx: StageContext) -> StageOutcome:
        session, version, settings = ctx.session, ctx.version, ctx.settings.review
        panel = service.completed_panel(session, version.id)
        if panel is None:
            try:
                document = version_document(session, ctx.blobs, ctx.submission.kind, version)
            except ReviewInputError as error:
                return StageOutcome(state="failed", reason=str(error), retry=False)
            buffer = _Buffered()
            engine = self._engine(ctx, buffer)
            context = self._context(ctx)
            common: dict[str, Any] = {
                "provenance": engine.provenance(engine.rubric(ctx.submission.kind)),
                "run_id": context.run_id or "",
                "n": len(settings.panel),
                "k": settings.accept_votes,
                "decision_source": settings.decision_source,
            }
            try:
                result = engine.vote(document, revision=_revision(session, version), context=context)
            except _ENGINE_FAILURES as error:
                reason = f"panel vote failed: {error}"
                with transaction(ctx.session_factory) as write:
                    failed = service.store_panel(
                        write, version, result=_partial(error), failure=reason, **common
                    )
                    buffer.store(write)
                return _failed(error, reason, {"panel_id": failed.id})
            verdict = service.panel_tally(result).verdict(settings.decision_source)
            with transaction(ctx.session_factory) as write:
                panel = service.completed_panel(write, version.id)
                if panel is None:
                    panel = service.store_panel(write, version, result=result, decision=verdict, **common)
                buffer.store(write)
        decision = _decide(panel, ctx.settings.review, version.number)
        return StageOutcome(
            state="completed",
            reason=decision.summary,
            next_status=decision.status,
            detail={"panel_id": panel.id, "decision": decision.verdict, "accept_count": panel.accept_count},
        )


def _partial(error: Exception) -> Any:
    """What a run had produced when it failed, stored with the failure (None if nothing)."""
    return error.partial if isinstance(error, ReviewFailedError) else None


def _failed(error: Exception, reason: str, detail: dict[str, Any]) -> StageOutcome:
    """A failed attempt, stored; bad input will fail again, anything else is worth a retry."""
    return StageOutcome(
        state="failed", reason=reason, retry=not isinstance(error, ReviewInputError), detail=detail
    )


def _decide(panel: VotePanel, settings: ReviewSettings, version_number: int) -> Decision:
    # A panel stored earlier (or by another worker) is read by the source it was voted under.
    source: DecisionSource = "scores" if panel.decision_source == "scores" else "votes"
    rule = PanelRule.from_settings(settings, source=source)
    return decide_panel(service.panel_tally(panel), rule, version_number=version_number)
