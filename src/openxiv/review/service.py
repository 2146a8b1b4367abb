"""Review services: run the engine for a stored version, store the results, list them.

No web framework here. Functions take the session (and the engine's ports) as arguments, add and
flush rows, and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from openxiv.llm.port import CallRecord, Usage
from openxiv.llm.recording import call_row
from openxiv.models import SubmissionVersion
from openxiv.models.llm import LLMCall
from openxiv.models.review import PairwiseVerdict, Review, SubReview, Vote, VotePanel
from openxiv.review.decision import Tally, Verdict
from openxiv.review.results import (
    MetaReviewResult,
    PairwiseResult,
    PanelResult,
    Provenance,
    SingleReviewResult,
)
from openxiv.review.schemas import (
    LLMCallOut,
    PairwiseOut,
    ReviewOut,
    TrajectoryPoint,
    VersionReviewsOut,
    VotePanelOut,
)


def _accounting(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": round(usage.cost_usd, 8),
        "latency_ms": round(usage.latency_ms, 3),
    }


def persist_calls(session: Session, records: Iterable[CallRecord], *, review_id: int | None = None) -> int:
    """Store buffered call records as `llm_calls` rows; returns how many."""
    count = 0
    for record in records:
        if review_id is not None and record.review_id is None:
            record.review_id = review_id
        session.add(call_row(record))
        count += 1
    session.flush()
    return count


# Storing ------------------------------------------------------------------------------------


def store_review(
    session: Session,
    version: SubmissionVersion,
    *,
    mode: str,
    provenance: Provenance,
    run_id: str,
    result: SingleReviewResult | MetaReviewResult | None = None,
    failure: str | None = None,
) -> Review:
    """A completed review (from `result`) or a failed attempt (with `failure`; `result` partial)."""
    status = "failed" if failure else "completed"
    review = Review(
        submission_id=version.submission_id,
        version_id=version.id,
        mode=mode,
        status=status,
        failure_reason=failure,
        run_id=run_id,
        rubric_id=provenance.rubric_id,
        rubric_version=provenance.rubric_version,
        prompt_version=provenance.prompt_version,
    )
    if result is not None:
        review.model_alias = result.model_alias
        review.model = result.model
        review.revised = result.revised
        review.grounding = result.grounding.model_dump()
        review.truncation = result.truncation.model_dump()
        for key, value in _accounting(result.usage).items():
            setattr(review, key, value)
        if isinstance(result, MetaReviewResult):
            review.plan = result.plan
            if result.synthesis:
                review.content = result.synthesis
                review.rating = result.synthesis.get("rating")
                review.decision = result.synthesis.get("decision")
            for sub in result.sub_reviews:
                review.sub_reviews.append(
                    SubReview(
                        position=sub.position,
                        spec=sub.spec,
                        status=sub.status,
                        failure_reason=sub.error,
                        content=sub.report,
                        truncation=sub.truncation.model_dump() if sub.truncation else {},
                        model_alias=sub.model_alias,
                        model=sub.model,
                        **_accounting(sub.usage),
                    )
                )
        else:
            review.content = result.report
    session.add(review)
    session.flush()
    return review


def store_pairwise(
    session: Session,
    version: SubmissionVersion,
    other: SubmissionVersion,
    *,
    provenance: Provenance,
    run_id: str,
    result: PairwiseResult | None = None,
    failure: str | None = None,
) -> PairwiseVerdict:
    verdict = PairwiseVerdict(
        submission_id=version.submission_id,
        version_id=version.id,
        other_version_id=other.id,
        status="failed" if failure else "completed",
        failure_reason=failure,
        run_id=run_id,
        label_a=f"v{other.number}",
        label_b=f"v{version.number}",
        rubric_id=provenance.rubric_id,
        rubric_version=provenance.rubric_version,
        prompt_version=provenance.prompt_version,
    )
    if result is not None:
        verdict.winner = result.winner
        verdict.consistent = result.consistent
        verdict.verdicts = [v.model_dump() for v in result.verdicts]
        verdict.model_alias = result.model_alias
        verdict.model = result.model
        for key, value in _accounting(result.usage).items():
            setattr(verdict, key, value)
    session.add(verdict)
    session.flush()
    return verdict


def store_panel(
    session: Session,
    version: SubmissionVersion,
    *,
    provenance: Provenance,
    run_id: str,
    n: int,
    k: int,
    decision_source: str,
    result: PanelResult | None = None,
    decision: Verdict | None = None,
    failure: str | None = None,
) -> VotePanel:
    """A completed panel with the `decision` the rule took from it, or a failed attempt."""
    panel = VotePanel(
        submission_id=version.submission_id,
        version_id=version.id,
        status="failed" if failure else "completed",
        failure_reason=failure,
        run_id=run_id,
        n=n,
        k=k,
        decision_source=decision_source,
        decision=decision,
        rubric_id=provenance.rubric_id,
        rubric_version=provenance.rubric_version,
        prompt_version=provenance.prompt_version,
    )
    if result is not None:
        panel.accept_count = result.accept_count
        panel.vote_decision = result.vote_decision
        panel.score_mean = result.score_mean
        panel.score_threshold = result.score_threshold
        panel.score_decision = result.score_decision
        panel.independent = result.independent
        panel.repeated_models = result.repeated_models
        panel.distinct_models = result.distinct_models
        panel.revised = result.revised
        panel.grounding = result.grounding.model_dump()
        panel.truncation = result.truncation.model_dump()
        for key, value in _accounting(result.usage).items():
            setattr(panel, key, value)
        for vote in result.votes:
            panel.votes.append(
                Vote(
                    position=vote.position,
                    status=vote.status,
                    failure_reason=vote.error,
                    decision=vote.decision,
                    confidence=vote.confidence,
                    reasons=vote.reasons,
                    scores=vote.scores,
                    score=vote.score,
                    model_alias=vote.model_alias,
                    model=vote.model,
                    **_accounting(vote.usage),
                )
            )
    session.add(panel)
    session.flush()
    return panel


# Reading ------------------------------------------------------------------------------------


def panel_tally(panel: VotePanel | PanelResult) -> Tally:
    """The counts of a stored panel or of a fresh result, as the decision rule reads them."""
    return Tally(
        seats=panel.n,
        cast=sum(1 for vote in panel.votes if vote.status == "completed"),
        accepts=panel.accept_count,
        required=panel.k,
        score_mean=panel.score_mean or 0.0,
        score_threshold=panel.score_threshold or 0.0,
        repeated_voters=dict(panel.repeated_models or {}),
        distinct_voters=panel.distinct_models,
    )


def completed_review(session: Session, version_id: int, mode: str = "meta") -> Review | None:
    query = select(Review).where(
        Review.version_id == version_id,
        Review.mode == mode,
        Review.status == "completed",
        Review.reviewer_kind == "ai",
    )
    return session.scalars(query.options(selectinload(Review.sub_reviews))).first()


def completed_panel(session: Session, version_id: int) -> VotePanel | None:
    query = select(VotePanel).where(VotePanel.version_id == version_id, VotePanel.status == "completed")
    return session.scalars(query.options(selectinload(VotePanel.votes))).first()


def completed_pairwise(session: Session, version_id: int, other_version_id: int) -> PairwiseVerdict | None:
    query = select(PairwiseVerdict).where(
        PairwiseVerdict.version_id == version_id,
        PairwiseVerdict.other_version_id == other_version_id,
        PairwiseVerdict.status == "completed",
    )
    return session.scalars(query).first()


def previous_review_text(review: Review) -> str:
    """The previous version's review as the reviewers of the next version see it."""
    content = review.content or {}
    lines = []
    if review.rating is not None:
        lines.append(f"Rating {review.rating}/10, decision: {review.decision}.")
    if content.get("summary"):
        lines.append(f"Summary: {content['summary']}")
    for heading in ("weaknesses", "major_concerns", "minor_issues", "questions_for_authors"):
        items = content.get(heading) or []
        if items:
            lines.append(f"{heading.replace('_', ' ').capitalize()}: " + " | ".join(map(str, items)))
    if content.get("justification"):
        lines.append(f"Justification: {content['justification']}")
    for sub in review.sub_reviews:
        concerns = (sub.content or {}).get("major_concerns") or []
        if sub.status == "completed" and concerns:
            lines.append(
                f"Reviewer {sub.spec.get('name', sub.position)} major concerns: " + " | ".join(concerns)
            )
    return "\n".join(lines)


# The item page asks for these on every view: built once (bound by version id), they skip
# SQLAlchemy's statement construction, which cost more than running them. The few sub-reviews
# and votes come joined to their review or panel: one round trip each, not two.
_REVIEWS_OF_VERSION = (
    select(Review)
    .where(Review.version_id == bindparam("version_id"))
    .options(joinedload(Review.sub_reviews))
    .order_by(Review.id)
)
_PAIRWISE_OF_VERSION = (
    select(PairwiseVerdict)
    .where(PairwiseVerdict.version_id == bindparam("version_id"))
    .order_by(PairwiseVerdict.id)
)
_PANELS_OF_VERSION = (
    select(VotePanel)
    .where(VotePanel.version_id == bindparam("version_id"))
    .options(joinedload(VotePanel.votes))
    .order_by(VotePanel.id)
)


def list_reviews(session: Session, version_id: int) -> list[ReviewOut]:
    return [
        ReviewOut.model_validate(r).model_copy(update={"ai_generated": r.reviewer_kind == "ai"})
        for r in session.scalars(_REVIEWS_OF_VERSION, {"version_id": version_id}).unique()
    ]


def list_pairwise(session: Session, version_id: int) -> list[PairwiseOut]:
    return [
        PairwiseOut.model_validate(v)
        for v in session.scalars(_PAIRWISE_OF_VERSION, {"version_id": version_id})
    ]


def list_panels(session: Session, version_id: int) -> list[VotePanelOut]:
    return [
        VotePanelOut.model_validate(p)
        for p in session.scalars(_PANELS_OF_VERSION, {"version_id": version_id}).unique()
    ]


def list_llm_calls(
    session: Session,
    version_id: int,
    *,
    include_payload: bool = False,
    after_id: int = 0,
    limit: int = 100,
) -> list[LLMCallOut]:
    """Call records of one version, oldest first, `limit` at a time after `after_id` (cursor)."""
    query = (
        select(LLMCall)
        .where(LLMCall.version_id == version_id, LLMCall.id > after_id)
        .order_by(LLMCall.id)
        .limit(limit)
    )
    calls = []
    for row in session.scalars(query):
        out = LLMCallOut.model_validate(row)
        if not include_payload:
            out = out.model_copy(update={"request": None, "response": None})
        calls.append(out)
    return calls


@dataclass(frozen=True)
class UsageTotals:
    """What the recorded model calls about an item cost: every call counts, retries included."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @staticmethod
    def total(usages: Iterable[UsageTotals]) -> UsageTotals:
        listed = list(usages)
        return UsageTotals(
            calls=sum(u.calls for u in listed),
            input_tokens=sum(u.input_tokens for u in listed),
            output_tokens=sum(u.output_tokens for u in listed),
            cost_usd=sum(u.cost_usd for u in listed),
        )


def usage_by_submission(session: Session, submission_ids: Iterable[int]) -> dict[int, UsageTotals]:
    """Per item, the sums over its `llm_calls` rows (all its versions): one grouped query."""
    ids = sorted(set(submission_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            LLMCall.submission_id,
            func.count(),
            func.coalesce(func.sum(LLMCall.input_tokens), 0),
            func.coalesce(func.sum(LLMCall.output_tokens), 0),
            func.coalesce(func.sum(LLMCall.cost_usd), 0.0),
        )
        .where(LLMCall.submission_id.in_(ids))
        .group_by(LLMCall.submission_id)
    ).tuples()
    return {
        submission_id: UsageTotals(int(calls), int(tokens_in), int(tokens_out), float(cost))
        for submission_id, calls, tokens_in, tokens_out, cost in rows
        if submission_id is not None
    }


def version_reviews(session: Session, version_id: int) -> VersionReviewsOut:
    return VersionReviewsOut(
        version_id=version_id,
        reviews=list_reviews(session, version_id),
        pairwise=list_pairwise(session, version_id),
        panels=list_panels(session, version_id),
    )


def _trajectory_statement() -> Select[
    int, int, int | None, str | None, float | None, str | None, int, str | None
]:
    """Per version of one item (`submission_id`), in order: its completed AI meta review's rating
    and decision, its completed panel's score, decision and accepts, and the completed pairwise
    verdict against the version before. Each of those is unique (partial unique indexes), so the
    outer joins add at most one row each."""
    previous = aliased(SubmissionVersion)
    return (
        select(
            SubmissionVersion.id,
            SubmissionVersion.number,
            Review.rating,
            Review.decision,
            VotePanel.score_mean,
            VotePanel.decision,
            VotePanel.accept_count,
            PairwiseVerdict.winner,
        )
        .outerjoin(
            Review,
            and_(
                Review.version_id == SubmissionVersion.id,
                Review.mode == "meta",
                Review.status == "completed",
                Review.reviewer_kind == "ai",
            ),
        )
        .outerjoin(
            VotePanel, and_(VotePanel.version_id == SubmissionVersion.id, VotePanel.status == "completed")
        )
        .outerjoin(
            previous,
            and_(
                previous.submission_id == SubmissionVersion.submission_id,
                previous.number == SubmissionVersion.number - 1,
            ),
        )
        .outerjoin(
            PairwiseVerdict,
            and_(
                PairwiseVerdict.version_id == SubmissionVersion.id,
                PairwiseVerdict.other_version_id == previous.id,
                PairwiseVerdict.status == "completed",
            ),
        )
        .where(SubmissionVersion.submission_id == bindparam("submission_id"))
        .order_by(SubmissionVersion.number)
    )


# Built once: constructing this five-table join took ten times as long as running it.
_TRAJECTORY = _trajectory_statement()


def quality_trajectory(session: Session, submission_id: int) -> list[TrajectoryPoint]:
    """Per version: rating of the meta review, panel score and decision, and old-vs-new verdict;
    one statement for every version together."""
    return [
        TrajectoryPoint(
            version_id=version_id,
            version_number=number,
            rating=rating,
            review_decision=review_decision,
            score_mean=score_mean,
            panel_decision=panel_decision,
            accept_count=accept_count,
            beats_previous=winner,
        )
        for version_id, number, rating, review_decision, score_mean, panel_decision, accept_count, winner in (
            session.execute(_TRAJECTORY, {"submission_id": submission_id}).tuples()
        )
    ]
