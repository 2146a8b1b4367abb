"""The review engine: single, meta, pairwise and panel-vote review of a document.

No database and no web framework here: the engine takes an `LLMClient` (which records every
call), `ReviewSettings` and optionally a `LiteratureGrounder`, and returns result models. The
coroutines (`asingle`, `ameta`, `apairwise`, `avote`) run independent model calls concurrently;
the plain methods (`single`, `meta`, `pairwise`, `vote`) block, for worker threads and the CLI.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from openxiv.literature.port import Grounding, LiteratureGrounder
from openxiv.llm.client import LLMClient, run_sync
from openxiv.llm.port import CallContext, LLMError, Message, Usage
from openxiv.review import prompts
from openxiv.review.decision import Ballot, count_votes
from openxiv.review.outputs import (
    PairwiseJudgement,
    review_report_schema,
    reviewer_plan_schema,
    synthesis_schema,
    vote_schema,
)
from openxiv.review.results import (
    GroundingSummary,
    MetaReviewResult,
    OrderVerdict,
    PairwiseResult,
    PanelResult,
    Provenance,
    SingleReviewResult,
    SubReviewResult,
    Truncation,
    VoteResult,
)
from openxiv.review.rubrics import Rubric, load_rubric
from openxiv.review.settings import ReviewSettings


@dataclass(frozen=True)
class Document:
    """What is reviewed. `text` is untrusted: it is always quoted as data in prompts."""

    kind: str  # "paper" | "proposal"
    text: str
    title: str = ""
    abstract: str = ""
    label: str = ""  # e.g. "2611.00042v2", shown in results
    screening_note: bool = False  # screening noted visible text that may address automated reviewers


@dataclass(frozen=True)
class Revision:
    """For version 2 and later: what the reviewers of the previous version said, and the reply."""

    previous_review: str | None = None
    response_letter: str | None = None

    @property
    def present(self) -> bool:
        return bool(self.previous_review or self.response_letter)


class ReviewInputError(ValueError):
    """The document cannot be reviewed (empty, unknown type, or no room in the context)."""


class ReviewFailedError(Exception):
    """The models did not produce a usable review; `partial` holds what did complete."""

    def __init__(self, reason: str, partial: BaseModel | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial = partial


TokenCounter = Callable[[str], int]
_MARGIN_TOKENS = 64


def truncate_to_tokens(text: str, budget: int, count: TokenCounter) -> tuple[str, Truncation]:
    """`text` cut to at most `budget` tokens, keeping its head (4/5) and its end (1/5)."""
    total = count(text)
    if total <= budget:
        return text, Truncation(
            original_tokens=total, kept_tokens=total, truncated=False, budget_tokens=budget
        )
    if budget < 32:
        raise ReviewInputError(f"no room for the document: {budget} tokens left in the model's context")
    keep_chars = int(len(text) * budget / total * 0.95)
    for _ in range(8):
        head, tail = int(keep_chars * 0.8), int(keep_chars * 0.2)
        omitted = total - count(text[:head] + text[len(text) - tail :])
        marker = f"\n\n[... about {omitted} tokens omitted here to fit the model's context ...]\n\n"
        candidate = text[:head] + marker + (text[len(text) - tail :] if tail else "")
        kept = count(candidate)
        if kept <= budget:
            return candidate, Truncation(
                original_tokens=total, kept_tokens=kept, truncated=True, budget_tokens=budget
            )
        keep_chars = int(keep_chars * budget / kept * 0.95)
    raise ReviewInputError("could not truncate the document to the model's context")


def format_grounding(grounding: Grounding) -> str:
    lines = []
    for number, work in enumerate(grounding.related, start=1):
        where = ", ".join(str(part) for part in (work.year, work.venue) if part)
        cited = "cited by the submission" if work.cited else "NOT cited by the submission"
        lines.append(f"[{number}] {work.title} ({where or 'n.d.'}; {cited}): {work.passage}")
    if grounding.missing_citations:
        lines.append(
            "Highly related but not cited: " + "; ".join(w.title for w in grounding.missing_citations)
        )
    if grounding.closest_prior_work:
        lines.append(
            "Closest prior work (possible overlap): "
            + "; ".join(w.title for w in grounding.closest_prior_work)
        )
    return "\n".join(lines)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


@dataclass(frozen=True)
class _Run:
    """What a review, a meta-review or a vote starts from: the document's rubric, the call
    context, the literature found for it, and the clock its wall time is counted from."""

    rubric: Rubric
    context: CallContext
    literature: str | None
    grounding: GroundingSummary
    started: float

    def usage(self, spent: list[Usage]) -> Usage:
        return Usage.total(spent, wall_ms=_ms_since(self.started))


class ReviewEngine:
    def __init__(
        self,
        llm: LLMClient,
        settings: ReviewSettings | None = None,
        grounder: LiteratureGrounder | None = None,
    ) -> None:
        self.llm = llm
        self.settings = settings or ReviewSettings()
        self.grounder = grounder

    # Helpers ------------------------------------------------------------------------------

    def rubric(self, kind: str) -> Rubric:
        directory = str(self.settings.rubric_dir) if self.settings.rubric_dir else None
        try:
            return load_rubric(kind, directory)
        except ValueError as error:
            raise ReviewInputError(str(error)) from error

    def provenance(self, rubric: Rubric) -> Provenance:
        return Provenance(
            rubric_id=rubric.id, rubric_version=rubric.version, prompt_version=prompts.PROMPT_VERSION
        )

    def _check(self, document: Document) -> Rubric:
        if not document.text or not document.text.strip():
            raise ReviewInputError("the document has no text to review")
        return self.rubric(document.kind)

    def _start(
        self, document: Document, context: CallContext | None, grounding: GroundingSummary | None
    ) -> _Run:
        rubric = self._check(document)
        started = time.perf_counter()
        literature, summary = self.ground(document, grounding)
        return _Run(rubric, context or CallContext(), literature, summary, started)

    def ground(
        self, document: Document, reuse: GroundingSummary | None = None
    ) -> tuple[str | None, GroundingSummary]:
        """Literature for the prompts; `reuse` gives back the grounding of an earlier run (replay)."""
        if reuse is not None:
            return reuse.text, reuse
        if self.grounder is None:
            return None, GroundingSummary(used=False, note="no literature grounder configured")
        if self.settings.grounding_k == 0:
            return None, GroundingSummary(used=False, note="grounding switched off (review.grounding_k = 0)")
        try:
            found = self.grounder.ground(
                title=document.title,
                abstract=document.abstract,
                text=document.text,
                k=self.settings.grounding_k,
            )
        except Exception as error:  # a literature outage must not stop the review
            return None, GroundingSummary(
                used=False, note=f"grounding failed: {type(error).__name__}: {error}"
            )
        summary = GroundingSummary(
            used=bool(found.related),
            note=found.degraded or ("" if found.related else "no related work found"),
            sources=list(found.sources),
            related=[
                {"title": w.title, "year": w.year, "venue": w.venue, "ids": dict(w.ids), "cited": w.cited}
                for w in found.related
            ],
            missing_citations=[w.title for w in found.missing_citations],
            closest_prior_work=[w.title for w in found.closest_prior_work],
            text=format_grounding(found) or None,
        )
        return summary.text, summary

    def _fit(
        self,
        alias: str,
        build: Callable[[str, str | None], list[Message]],
        document: str,
        literature: str | None,
        *,
        revision: Revision | None = None,
        cap: int | None = None,
    ) -> tuple[list[Message], Truncation]:
        """Messages whose document (and literature) fit the alias's context window.

        The document's length is computed from a fixed allowance for the task (`task_tokens`), not
        from the calling role's own prompt, so the area chair, every reviewer and every panel seat
        on one alias get the same cut and their prompts share the opening (see `prompts`). Only a
        task longer than the allowance cuts the document further, for that call alone.
        """
        model = self.llm.alias(alias)
        count = lambda text: self.llm.count_tokens(alias, text)  # noqa: E731
        room = model.context_tokens - model.max_output_tokens - _MARGIN_TOKENS
        available = room - self.settings.task_tokens
        if revision is not None and revision.present:
            available -= count(prompts.revision_block(revision.previous_review, revision.response_letter))
        if literature:
            literature_budget = min(self.settings.literature_tokens, max(0, available // 3))
            if literature_budget < 64:
                literature = None
            else:
                literature, used = truncate_to_tokens(literature, literature_budget, count)
                available -= used.kept_tokens + 64
        cap = self.settings.review_doc_tokens if cap is None else cap
        fitted, truncation = truncate_to_tokens(document, min(cap, available), count)
        messages = build(fitted, literature)
        excess = sum(count(m.content) + 8 for m in messages) - room
        if excess > 0:
            fitted, truncation = truncate_to_tokens(document, truncation.kept_tokens - excess, count)
            messages = build(fitted, literature)
        return messages, truncation

    # Single -------------------------------------------------------------------------------

    async def asingle(
        self,
        document: Document,
        *,
        alias: str | None = None,
        revision: Revision | None = None,
        context: CallContext | None = None,
        grounding: GroundingSummary | None = None,
    ) -> SingleReviewResult:
        run = self._start(document, context, grounding)
        alias = alias or self.settings.single_model
        report, usage, truncation = await self._review_call(
            run.rubric,
            document,
            alias,
            run.literature,
            revision,
            None,
            run.context.with_purpose("single.review"),
            0,
        )
        return SingleReviewResult(
            provenance=self.provenance(run.rubric),
            model_alias=alias,
            model=usage.model,
            report=report,
            usage=usage,
            truncation=truncation,
            grounding=run.grounding,
            revised=bool(revision and revision.present),
        )

    async def _review_call(
        self,
        rubric: Rubric,
        document: Document,
        alias: str,
        literature: str | None,
        revision: Revision | None,
        reviewer: dict[str, Any] | None,
        context: CallContext,
        sample: int,
    ) -> tuple[dict[str, Any], Usage, Truncation]:
        revision = revision or Revision()

        def build(text: str, lit: str | None) -> list[Message]:
            return prompts.review_messages(
                rubric,
                text,
                literature=lit,
                previous_reviews=revision.previous_review,
                response_letter=revision.response_letter,
                reviewer=reviewer,
                noted=document.screening_note,
            )

        messages, truncation = self._fit(alias, build, document.text, literature, revision=revision)
        value, usage = await self.llm.agenerate(
            review_report_schema(rubric), messages, alias, context=context, sample=sample
        )
        return value.model_dump(), usage, truncation

    # Meta ---------------------------------------------------------------------------------

    async def ameta(
        self,
        document: Document,
        *,
        chair_alias: str | None = None,
        reviewer_aliases: list[str] | None = None,
        reviewers: int | None = None,
        revision: Revision | None = None,
        context: CallContext | None = None,
        grounding: GroundingSummary | None = None,
    ) -> MetaReviewResult:
        run = self._start(document, context, grounding)
        chair = chair_alias or self.settings.area_chair_model
        plan, plan_usage, truncation = await self._plan_reviewers(
            run.rubric, document, chair, run.literature, revision, reviewers, run.context
        )
        sub_reviews = await self._run_reviewers(
            run.rubric,
            document,
            plan["reviewers"],
            reviewer_aliases or self.settings.reviewer_models,
            run.literature,
            revision,
            run.context,
        )
        usages = [plan_usage, *(s.usage for s in sub_reviews)]

        def result(synthesis: dict[str, Any], spent: list[Usage]) -> MetaReviewResult:
            return MetaReviewResult(
                provenance=self.provenance(run.rubric),
                model_alias=chair,
                model=plan_usage.model,
                plan=plan,
                sub_reviews=sub_reviews,
                synthesis=synthesis,
                usage=run.usage(spent),
                truncation=truncation,
                grounding=run.grounding,
                revised=bool(revision and revision.present),
            )

        done = [s for s in sub_reviews if s.status == "completed"]
        needed = min(self.settings.min_successful_reviewers, len(sub_reviews))
        if len(done) < needed:
            errors = "; ".join(s.error or "" for s in sub_reviews if s.error)[:800]
            raise ReviewFailedError(
                f"only {len(done)} of {len(sub_reviews)} reviewers produced a review (need {needed}): {errors}",
                result({}, usages),
            )
        try:
            synthesis, synthesis_usage = await self._synthesise(
                run.rubric, chair, done, revision, run.context
            )
        except LLMError as error:
            raise ReviewFailedError(
                f"area chair could not write the meta-review: {error}", result({}, usages)
            ) from error
        return result(synthesis, [*usages, synthesis_usage])

    async def _plan_reviewers(
        self,
        rubric: Rubric,
        document: Document,
        chair: str,
        literature: str | None,
        revision: Revision | None,
        reviewers: int | None,
        context: CallContext,
    ) -> tuple[dict[str, Any], Usage, Truncation]:
        """The area chair's plan: which reviewers (how many, with what expertise) read the document."""
        wanted = reviewers or self.settings.reviewers
        low, high = (wanted, wanted) if wanted else (rubric.reviewers.min, rubric.reviewers.max)
        # Literature and revision only size the document here, to the reviewers' cut.
        messages, truncation = self._fit(
            chair,
            lambda text, _lit: prompts.plan_messages(rubric, text, low, high, noted=document.screening_note),
            document.text,
            literature,
            revision=revision,
        )
        try:
            value, usage = await self.llm.agenerate(
                reviewer_plan_schema(low, high),
                messages,
                chair,
                context=context.with_purpose("meta.plan"),
            )
        except LLMError as error:
            raise ReviewFailedError(f"area chair could not plan the review: {error}") from error
        return value.model_dump(), usage, truncation

    async def _run_reviewers(
        self,
        rubric: Rubric,
        document: Document,
        specs: list[dict[str, Any]],
        aliases: list[str],
        literature: str | None,
        revision: Revision | None,
        context: CallContext,
    ) -> list[SubReviewResult]:
        """Every planned reviewer at once, taking the aliases in turn; a failure is kept, not raised."""

        async def one(position: int, spec: dict[str, Any]) -> SubReviewResult:
            alias = aliases[position % len(aliases)]
            try:
                report, usage, truncation = await self._review_call(
                    rubric,
                    document,
                    alias,
                    literature,
                    revision,
                    spec,
                    context.with_purpose(f"meta.reviewer.{position}"),
                    position,
                )
            except (LLMError, ReviewInputError) as error:
                return SubReviewResult(
                    position=position,
                    spec=spec,
                    model_alias=alias,
                    model=self.llm.model_name(alias),
                    status="failed",
                    error=str(error),
                    usage=Usage(model_alias=alias),
                )
            return SubReviewResult(
                position=position,
                spec=spec,
                model_alias=alias,
                model=usage.model,
                status="completed",
                report=report,
                usage=usage,
                truncation=truncation,
            )

        return list(await asyncio.gather(*(one(i, s) for i, s in enumerate(specs))))

    async def _synthesise(
        self,
        rubric: Rubric,
        chair: str,
        done: list[SubReviewResult],
        revision: Revision | None,
        context: CallContext,
    ) -> tuple[dict[str, Any], Usage]:
        """The area chair's meta-review from the completed reviews."""
        reports = [
            {"reviewer": s.spec.get("name"), "expertise": s.spec.get("expertise"), "review": s.report}
            for s in done
        ]
        messages, _ = self._fit(
            chair,
            lambda text, _lit: prompts.synthesis_messages(
                rubric, text, revised=bool(revision and revision.present)
            ),
            prompts.compact_json(reports),
            None,
            cap=self.settings.synthesis_tokens,
        )
        value, usage = await self.llm.agenerate(
            synthesis_schema(rubric),
            messages,
            chair,
            context=context.with_purpose("meta.synthesis"),
        )
        return value.model_dump(), usage

    # Pairwise -----------------------------------------------------------------------------

    async def apairwise(
        self,
        first: Document,
        second: Document,
        *,
        alias: str | None = None,
        context: CallContext | None = None,
    ) -> PairwiseResult:
        rubric = self._check(first)
        if self._check(second).id != rubric.id:
            raise ReviewInputError("pairwise review needs two documents of the same type")
        alias = alias or self.settings.pairwise_model
        context = context or CallContext()
        started = time.perf_counter()
        model = self.llm.alias(alias)
        count = lambda text: self.llm.count_tokens(alias, text)  # noqa: E731
        overhead = sum(count(m.content) for m in prompts.pairwise_messages(rubric, "", "", None)) + 32
        each = (model.context_tokens - model.max_output_tokens - overhead - _MARGIN_TOKENS) // 2
        each = min(each, self.settings.review_doc_tokens)
        text_a, cut_a = truncate_to_tokens(first.text, each, count)
        text_b, cut_b = truncate_to_tokens(second.text, each, count)

        async def judge(order: str) -> tuple[OrderVerdict, Usage]:
            shown = (text_a, text_b) if order == "ab" else (text_b, text_a)
            messages = prompts.pairwise_messages(rubric, shown[0], shown[1], None)
            value, usage = await self.llm.agenerate(
                PairwiseJudgement,
                messages,
                alias,
                context=context.with_purpose(f"pairwise.{order}"),
                temperature=0.0,
            )
            picked_first = value.better == "first"
            winner = ("a" if picked_first else "b") if order == "ab" else ("b" if picked_first else "a")
            return OrderVerdict(order=order, better=value.better, winner=winner, reasons=value.reasons), usage  # type: ignore[arg-type]

        try:
            (ab, usage_ab), (ba, usage_ba) = await asyncio.gather(judge("ab"), judge("ba"))
        except LLMError as error:
            raise ReviewFailedError(f"pairwise judgement failed: {error}") from error
        consistent = ab.winner == ba.winner
        return PairwiseResult(
            provenance=self.provenance(rubric),
            model_alias=alias,
            model=usage_ab.model,
            label_a=first.label or "a",
            label_b=second.label or "b",
            winner=ab.winner if consistent else "tie",
            consistent=consistent,
            verdicts=[ab, ba],
            usage=Usage.total([usage_ab, usage_ba], wall_ms=_ms_since(started)),
            truncation=[cut_a, cut_b],
        )

    # Vote ---------------------------------------------------------------------------------

    async def avote(
        self,
        document: Document,
        *,
        aliases: list[str] | None = None,
        k: int | None = None,
        threshold: float | None = None,
        revision: Revision | None = None,
        context: CallContext | None = None,
        grounding: GroundingSummary | None = None,
    ) -> PanelResult:
        seats = aliases or self.settings.panel
        k = k or self.settings.accept_votes
        if not 1 <= k <= len(seats):
            raise ReviewInputError(f"K={k} must be between 1 and the panel size {len(seats)}")
        run = self._start(document, context, grounding)
        rubric = run.rubric
        if threshold is None:
            threshold = self.settings.score_threshold.get(rubric.kind, rubric.vote.score_threshold)
        revision = revision or Revision()
        fitted = self._panel_messages(rubric, document, seats, run.literature, revision)
        votes = await self._cast_votes(rubric, seats, fitted, run.context)
        tally = count_votes(self._ballots(votes), required=k, score_threshold=threshold)
        result = PanelResult(
            provenance=self.provenance(rubric),
            votes=votes,
            n=tally.seats,
            k=tally.required,
            accept_count=tally.accepts,
            vote_decision=tally.vote_verdict,
            score_mean=tally.score_mean,
            score_threshold=tally.score_threshold,
            score_decision=tally.score_verdict,
            independent=tally.independent,
            repeated_models=dict(tally.repeated_voters),
            distinct_models=tally.distinct_voters,
            usage=run.usage([v.usage for v in votes]),
            truncation=fitted[seats[0]][1],
            grounding=run.grounding,
            revised=revision.present,
        )
        if not tally.complete:
            # A missing vote could change the outcome: no decision from an incomplete panel.
            failed = [
                f"seat {v.position} ({v.model_alias}): {v.error}" for v in votes if v.status == "failed"
            ]
            raise ReviewFailedError(
                f"{len(failed)} of {len(votes)} panel votes failed: " + "; ".join(failed)[:800], result
            )
        return result

    def _panel_messages(
        self,
        rubric: Rubric,
        document: Document,
        seats: list[str],
        literature: str | None,
        revision: Revision,
    ) -> dict[str, tuple[list[Message], Truncation]]:
        """The vote prompt fitted once per alias on the panel (seats of one alias share it)."""

        def build(text: str, lit: str | None) -> list[Message]:
            return prompts.vote_messages(
                rubric,
                text,
                literature=lit,
                previous_reviews=revision.previous_review,
                response_letter=revision.response_letter,
                noted=document.screening_note,
            )

        return {
            alias: self._fit(alias, build, document.text, literature, revision=revision)
            for alias in dict.fromkeys(seats)
        }

    async def _cast_votes(
        self,
        rubric: Rubric,
        seats: list[str],
        fitted: dict[str, tuple[list[Message], Truncation]],
        context: CallContext,
    ) -> list[VoteResult]:
        """Every seat votes at once."""
        seats_per_alias = Counter(seats)
        return list(
            await asyncio.gather(
                *(
                    self._cast_vote(
                        rubric, position, alias, fitted[alias][0], seats_per_alias[alias], context
                    )
                    for position, alias in enumerate(seats)
                )
            )
        )

    async def _cast_vote(
        self,
        rubric: Rubric,
        position: int,
        alias: str,
        messages: list[Message],
        seats_of_alias: int,
        context: CallContext,
    ) -> VoteResult:
        """One seat's vote; a failed call is kept as a failed vote, not raised."""
        temperature = None
        if seats_of_alias > 1:
            # At temperature 0 the seats of one alias would cast the same vote N times.
            floor = self.settings.repeated_seat_temperature
            temperature = max(self.llm.alias(alias).temperature, floor)
        try:
            value, usage = await self.llm.agenerate(
                vote_schema(rubric),
                messages,
                alias,
                context=context.with_purpose(f"vote.{position}"),
                sample=position,
                temperature=temperature,
            )
        except LLMError as error:
            return VoteResult(
                position=position,
                model_alias=alias,
                model=self.llm.model_name(alias),
                status="failed",
                error=str(error),
                usage=Usage(model_alias=alias),
            )
        data = value.model_dump()
        return VoteResult(
            position=position,
            model_alias=alias,
            model=usage.model,
            status="completed",
            decision=data["decision"],
            confidence=data["confidence"],
            reasons=data["reasons"],
            scores=data["scores"],
            score=rubric.weighted_mean(data["scores"], top=10),
            usage=usage,
        )

    def _ballots(self, votes: list[VoteResult]) -> list[Ballot]:
        """The votes as the decision rule counts them; a failed seat casts no ballot."""
        return [
            Ballot(
                decision=vote.decision if vote.status == "completed" else None,
                score=vote.score,
                voter=self._identity(vote.model_alias),
            )
            for vote in votes
        ]

    def _identity(self, alias: str) -> str:
        model = self.llm.alias(alias)
        where = f"@{model.base_url}" if model.base_url else ""
        return f"{model.provider}:{model.model}{where}"

    # Blocking entry points ----------------------------------------------------------------

    def single(self, document: Document, **options: Any) -> SingleReviewResult:
        return run_sync(self.asingle(document, **options))

    def meta(self, document: Document, **options: Any) -> MetaReviewResult:
        return run_sync(self.ameta(document, **options))

    def pairwise(self, first: Document, second: Document, **options: Any) -> PairwiseResult:
        return run_sync(self.apairwise(first, second, **options))

    def vote(self, document: Document, **options: Any) -> PanelResult:
        return run_sync(self.avote(document, **options))
