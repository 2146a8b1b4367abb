"""External reviewers: reviews and accept/reject votes from agents and people outside the platform's
own panel, and the upgrade of a provisionally accepted item to accepted that their votes decide.

No web framework here. The caller owns the transaction: a vote, its event and the transition it
may cause are committed together, so an item is never accepted on a vote that was not stored.
Reviews go into the `reviews` table beside the platform's own (mode "external", labelled by
origin, owner and model); votes into `external_votes`, since the platform's votes belong to a
panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.errors import Conflict, InvalidInput
from openxiv.events import service as events
from openxiv.events import types as event_types
from openxiv.models import Agent, Submission, SubmissionVersion
from openxiv.models.review import ExternalVote, Review
from openxiv.review.decision import Ballot, Decision, UpgradePolicy, UpgradeTally, decide_upgrade
from openxiv.review.external.schemas import (
    ExternalReviewIn,
    ExternalReviewOut,
    ExternalVoteIn,
    ExternalVoteOut,
    ExternalVoteResult,
    ExternalVotesOut,
    ModelIdentity,
    ReviewerOut,
    UpgradeOut,
)
from openxiv.review.outputs import review_report_schema
from openxiv.review.rubrics import Rubric, load_rubric
from openxiv.review.settings import ReviewSettings
from openxiv.submissions import service as submissions
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.service import FoundVersion, SystemActor

EXTERNAL_MODE = "external"  # keeps these rows out of the engine's look-ups of its own reviews
PROMPT_VERSION = "external"  # no prompt of the platform's produced them
UPGRADE_ACTOR = SystemActor("review:external-upgrade")
# A review is useful while the work is being judged and once it is published; a vote only counts
# toward the upgrade, which exists for provisionally accepted items alone.
REVIEWABLE = frozenset({Status.UNDER_REVIEW, Status.PROVISIONALLY_ACCEPTED, Status.ACCEPTED})
VOTABLE = frozenset({Status.PROVISIONALLY_ACCEPTED})


def rubric_in_force(settings: ReviewSettings, kind: str) -> Rubric:
    return load_rubric(kind, str(settings.rubric_dir) if settings.rubric_dir else None)


# Writing -------------------------------------------------------------------------------------


def submit_review(
    session: Session,
    principal: Principal,
    found: FoundVersion,
    payload: ExternalReviewIn,
    settings: ReviewSettings,
) -> ExternalReviewOut:
    submission, version = _open_for(session, principal, found, REVIEWABLE, "reviews")
    origin = _origin(principal, payload.model)
    rubric = rubric_in_force(settings, submission.kind)
    if payload.rubric_version is not None and payload.rubric_version != rubric.version:
        raise InvalidInput(
            f"the rubric in force for {submission.kind}s is {rubric.id} {rubric.version}, not "
            f"{payload.rubric_version}: review against it",
            field="rubric_version",
        )
    report = _checked_report(rubric, payload.report)
    existing = session.scalar(_own_rows(select(Review.id), Review, principal, version.id, origin))
    if existing is not None:
        raise Conflict(
            f"you already reviewed {submission.identifier}v{version.number} (review {existing}); "
            "one review per reviewer per version",
            reason="duplicate_review",
        )
    model = payload.model
    review = Review(
        submission_id=submission.id,
        version_id=version.id,
        mode=EXTERNAL_MODE,
        status="completed",
        reviewer_kind="ai" if origin == "external_agent" else "human",
        reviewer_origin=origin,
        account_id=principal.account_id,
        agent_id=principal.agent_id,
        owner_id=principal.account_id,
        model_provider=model.provider if model else None,
        model=model.name if model else "",
        model_family=model.family if model else None,
        model_alias="",
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        prompt_version=PROMPT_VERSION,
        content=report,
        rating=payload.rating,
        decision=payload.decision,
        conflict_of_interest=payload.conflict_of_interest,
        grounding={},
        truncation={},
    )
    _insert_once(
        session, review, f"you already reviewed {submission.identifier}v{version.number}", "duplicate_review"
    )
    events.record(
        session,
        event_types.EXTERNAL_REVIEW_ADDED,
        submission,
        version.number,
        item="review",
        id=review.id,
        reviewer=_reviewer_payload(review.reviewer_origin, review.owner_id, review.agent_id, model),
        rating=review.rating,
        decision=review.decision,
    )
    return _review_out(review, submission.identifier, version.number)


def submit_vote(
    session: Session,
    principal: Principal,
    found: FoundVersion,
    payload: ExternalVoteIn,
    settings: ReviewSettings,
) -> ExternalVoteResult:
    """Store the vote, then run the upgrade check on every vote of the version in the same
    transaction (the submission row is locked, so concurrent votes are counted one after another
    and the last one sees all the others)."""
    submission, version = _open_for(session, principal, found, VOTABLE, "votes")
    origin = _origin(principal, payload.model)
    existing = session.scalar(_own_rows(select(ExternalVote.id), ExternalVote, principal, version.id, origin))
    if existing is not None:
        raise Conflict(
            f"you already voted on {submission.identifier}v{version.number} (vote {existing}); "
            "one vote per reviewer per version",
            reason="duplicate_vote",
        )
    model = payload.model
    vote = ExternalVote(
        submission_id=submission.id,
        version_id=version.id,
        reviewer_origin=origin,
        account_id=principal.account_id,
        agent_id=principal.agent_id,
        owner_id=principal.account_id,
        model_provider=model.provider if model else None,
        model=model.name if model else None,
        model_family=model.family if model else None,
        decision=payload.decision,
        confidence=payload.confidence,
        reasons=list(payload.reasons),
        conflict_of_interest=payload.conflict_of_interest,
        status_at_vote=submission.status,
    )
    _insert_once(
        session, vote, f"you already voted on {submission.identifier}v{version.number}", "duplicate_vote"
    )
    policy = UpgradePolicy.from_settings(settings)
    counted = _counted_votes(session, version.id)
    decision = decide_upgrade(_ballots(counted), policy)
    upgraded = decision.status == Status.ACCEPTED
    upgrade = _upgrade_out(decision, policy)
    events.record(
        session,
        event_types.EXTERNAL_REVIEW_ADDED,
        submission,
        version.number,
        item="vote",
        id=vote.id,
        reviewer=_reviewer_payload(vote.reviewer_origin, vote.owner_id, vote.agent_id, model),
        decision=vote.decision,
        confidence=vote.confidence,
        upgraded=upgraded,
        upgrade=upgrade.model_dump(),
        voters=[_voter(v) for v in counted],
    )
    if upgraded:  # after the vote's event, so a subscriber reads the vote before the status change
        submissions.transition(session, submission, Status.ACCEPTED, UPGRADE_ACTOR, decision.summary)
    out = _vote_out(vote, submission.identifier, version.number)
    return ExternalVoteResult(**out.model_dump(), upgrade=upgrade, upgraded=upgraded)


def _open_for(
    session: Session,
    principal: Principal,
    found: FoundVersion,
    statuses: frozenset[Status],
    what: str,
) -> tuple[Submission, SubmissionVersion]:
    """The submission (locked for the rest of the transaction) and version, once the caller may
    review them and they are open for `what`."""
    submission = session.get(Submission, found.submission.id, with_for_update=True, populate_existing=True)
    version = session.get(SubmissionVersion, found.version.id)
    assert submission is not None and version is not None  # found moments ago; rows are never deleted
    linked = [a for a in version.authors if a.link_status != "declined"]
    author_agent_ids = [a.agent_id for a in linked if a.agent_id is not None]
    if version.created_by_agent_id is not None:
        author_agent_ids.append(version.created_by_agent_id)
    agent_owners = (
        session.scalars(select(Agent.owner_id).where(Agent.id.in_(author_agent_ids))).all()
        if author_agent_ids
        else []
    )
    authz.authorize_external_review(
        principal,
        submission,
        # an author who declined the link is not one: listing a critic must not silence them
        author_account_ids=[a.account_id for a in linked if a.account_id is not None]
        + [version.created_by_account_id],
        author_agent_ids=author_agent_ids,
        author_agent_owner_ids=agent_owners,
    )
    if Status(submission.status) not in statuses:
        open_in = ", ".join(sorted(s.value for s in statuses))
        raise Conflict(
            f"{submission.identifier} is {submission.status}: external {what} are taken only while it is "
            f"{open_in}",
            status=submission.status,
        )
    if version.number != submission.latest_version:
        raise Conflict(
            f"{submission.identifier}v{version.number} is not the latest version (v{submission.latest_version}): "
            f"external {what} are taken on the latest version only",
            latest_version=submission.latest_version,
        )
    return submission, version


def _origin(principal: Principal, model: ModelIdentity | None) -> str:
    if principal.agent_id is not None:
        if model is None:
            raise InvalidInput(
                "an agent's review or vote names the model behind it: model {provider, name, family}",
                field="model",
            )
        return "external_agent"
    if model is not None:
        raise InvalidInput(
            "this key belongs to a person, whose review has no model; an agent's review is sent with "
            "that agent's key",
            field="model",
        )
    return "external_human"


def _checked_report(rubric: Rubric, report: dict[str, Any]) -> dict[str, Any]:
    try:
        checked = review_report_schema(rubric).model_validate(report)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "report"
        raise InvalidInput(
            f"the report does not follow rubric {rubric.id} {rubric.version} "
            f"(criteria: {', '.join(rubric.keys)}): {where}: {first['msg']} "
            f"({error.error_count()} problem(s))",
            field=f"report.{where}",
        ) from error
    return checked.model_dump()


def _own_rows(
    query: Any, table: type[Review] | type[ExternalVote], principal: Principal, version_id: int, origin: str
) -> Any:
    """The caller's rows on the version: an agent is the reviewer when it holds the key, a person
    otherwise (so a person and each of their agents review separately)."""
    query = query.where(table.version_id == version_id, table.reviewer_origin == origin)
    if origin == "external_agent":
        return query.where(table.agent_id == principal.agent_id)
    return query.where(table.account_id == principal.account_id)


def _insert_once(session: Session, row: Review | ExternalVote, duplicate: str, reason: str) -> None:
    """Flush the row; losing a race to the same reviewer's concurrent request is the same 409."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:
        raise Conflict(f"{duplicate}; one per reviewer per version", reason=reason) from error


# The upgrade ----------------------------------------------------------------------------------


# Votes cast while the version was provisionally accepted are the ones that can upgrade it.
COUNTED_STATUS = Status.PROVISIONALLY_ACCEPTED.value


def _counted_votes(session: Session, version_id: int) -> list[ExternalVote]:
    query = (
        select(ExternalVote)
        .where(
            ExternalVote.version_id == version_id,
            ExternalVote.status_at_vote == COUNTED_STATUS,
        )
        .order_by(ExternalVote.id)
    )
    return list(session.scalars(query))


def _voter(vote: ExternalVote) -> str:
    return f"agent:{vote.agent_id}" if vote.agent_id is not None else f"account:{vote.account_id}"


def _ballots(votes: Iterable[ExternalVote]) -> list[Ballot]:
    return [
        Ballot(
            decision="accept" if vote.decision == "accept" else "reject",
            voter=_voter(vote),
            # a person shares no model's blind spots: each counts as a family of their own
            family=vote.model_family or f"human:{vote.account_id}",
            owner=str(vote.owner_id),
        )
        for vote in votes
    ]


def upgrade_status(session: Session, version_id: int, settings: ReviewSettings) -> UpgradeOut:
    return _upgrade_from(_counted_votes(session, version_id), settings)


def _upgrade_from(counted: Iterable[ExternalVote], settings: ReviewSettings) -> UpgradeOut:
    policy = UpgradePolicy.from_settings(settings)
    return _upgrade_out(decide_upgrade(_ballots(counted), policy), policy)


def _upgrade_out(decision: Decision, policy: UpgradePolicy) -> UpgradeOut:
    tally = decision.tally
    assert isinstance(tally, UpgradeTally)
    return UpgradeOut(
        outcome=decision.outcome.value,  # type: ignore[arg-type]
        status=decision.status.value,
        evaluations=tally.cast,
        accepts=tally.accepts,
        accept_share=tally.accept_share,
        families=list(tally.families),
        owners=sorted(int(owner) for owner in tally.owners),
        required_evaluations=policy.min_evaluations,
        required_families=policy.min_families,
        required_owners=policy.min_owners,
        reasons=list(decision.reasons),
    )


# Reading --------------------------------------------------------------------------------------


def list_reviews(session: Session, found: FoundVersion) -> list[ExternalReviewOut]:
    query = (
        select(Review)
        .where(Review.version_id == found.version.id, Review.reviewer_origin != "internal")
        .order_by(Review.id)
    )
    return [_review_out(r, found.submission.identifier, found.version.number) for r in session.scalars(query)]


def list_votes(session: Session, found: FoundVersion, settings: ReviewSettings) -> ExternalVotesOut:
    query = select(ExternalVote).where(ExternalVote.version_id == found.version.id).order_by(ExternalVote.id)
    rows = list(session.scalars(query))
    # The votes that count towards the upgrade are among these: no second read (_counted_votes).
    counted = [v for v in rows if v.status_at_vote == COUNTED_STATUS]
    return ExternalVotesOut(
        submission=found.submission.identifier,
        version=found.version.number,
        votes=[_vote_out(v, found.submission.identifier, found.version.number) for v in rows],
        upgrade=_upgrade_from(counted, settings),
    )


def _reviewer(
    origin: str,
    owner_id: int,
    agent_id: int | None,
    provider: str | None,
    model: str | None,
    family: str | None,
) -> ReviewerOut:
    return ReviewerOut(
        origin=origin,  # type: ignore[arg-type]
        owner_id=owner_id,
        agent_id=agent_id,
        model_provider=provider,
        model=model or None,
        model_family=family,
    )


def _reviewer_payload(
    origin: str, owner_id: int | None, agent_id: int | None, model: ModelIdentity | None
) -> dict[str, Any]:
    return {
        "origin": origin,
        "owner_id": owner_id,
        "agent_id": agent_id,
        "model": model.model_dump() if model else None,
    }


def _review_out(review: Review, identifier: str, number: int) -> ExternalReviewOut:
    assert review.owner_id is not None and review.rating is not None and review.decision is not None
    return ExternalReviewOut(
        id=review.id,
        submission=identifier,
        version=number,
        reviewer=_reviewer(
            review.reviewer_origin,
            review.owner_id,
            review.agent_id,
            review.model_provider,
            review.model,
            review.model_family,
        ),
        rubric_id=review.rubric_id,
        rubric_version=review.rubric_version,
        report=review.content or {},
        rating=review.rating,
        decision=review.decision,
        conflict_of_interest=review.conflict_of_interest or "",
        created_at=review.created_at,
    )


def _vote_out(vote: ExternalVote, identifier: str, number: int) -> ExternalVoteOut:
    return ExternalVoteOut(
        id=vote.id,
        submission=identifier,
        version=number,
        reviewer=_reviewer(
            vote.reviewer_origin,
            vote.owner_id,
            vote.agent_id,
            vote.model_provider,
            vote.model,
            vote.model_family,
        ),
        decision=vote.decision,
        confidence=vote.confidence,
        reasons=[str(reason) for reason in vote.reasons],
        conflict_of_interest=vote.conflict_of_interest,
        counted=vote.status_at_vote == Status.PROVISIONALLY_ACCEPTED.value,
        created_at=vote.created_at,
    )
