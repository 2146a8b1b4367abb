"""The decision rule: from a panel's ballots to a verdict and the lifecycle status it moves to.

Pure: no database, no model calls, no framework. The engine counts ballots here
(`count_votes`), the vote stage decides here (`decide_panel`) and stores the verdict it was given;
which transitions are allowed at all stays with `submissions.lifecycle`.

Each rule reads a `Tally` and returns a `Decision`. The panel rule (SPEC §2) moves a reviewed
version to provisionally accepted, revision requested or rejected. A later rule that upgrades a
provisionally accepted item to accepted from external ballots sits beside it: it counts the same
`Ballot`s (whose `voter` says who is behind a vote, so that distinct owners can be counted) and
returns the same `Decision`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from openxiv.submissions.lifecycle import Status

if TYPE_CHECKING:
    from openxiv.review.settings import ReviewSettings

Verdict = Literal["accept", "reject"]
DecisionSource = Literal["votes", "scores"]


class Outcome(StrEnum):
    ACCEPT = "accept"
    REVISE = "revise"
    REJECT = "reject"
    PENDING = "pending"  # the upgrade rule: not enough (or not diverse enough) evidence yet


class IncompletePanelError(ValueError):
    """A seat did not vote: a missing vote could change the outcome, so nothing is decided."""


@dataclass(frozen=True)
class Ballot:
    """One seat's vote. `decision` is None when the seat did not vote (its call failed)."""

    decision: Verdict | None
    score: float | None = None  # the seat's weighted criterion score, 0..1
    voter: str = ""  # who stands behind the vote (a model's identity); repeats are not independent
    # External ballots only: the voter's model family ("human:<account>" for a person) and the
    # account answerable for it, which the upgrade rule needs to be diverse.
    family: str = ""
    owner: str = ""

    @property
    def cast(self) -> bool:
        return self.decision is not None


@dataclass(frozen=True)
class Tally:
    """A panel's counts and the two bars they are measured against (K accepts, a score threshold)."""

    seats: int
    cast: int
    accepts: int
    required: int  # K
    score_mean: float  # over the cast votes, 0 when none was cast
    score_threshold: float
    repeated_voters: Mapping[str, int] = field(default_factory=dict)
    distinct_voters: int = 0

    @property
    def complete(self) -> bool:
        return self.cast == self.seats

    @property
    def independent(self) -> bool:
        return not self.repeated_voters

    @property
    def vote_verdict(self) -> Verdict:
        """The models' own words: accept when at least K seats accept."""
        return "accept" if self.accepts >= self.required else "reject"

    @property
    def score_verdict(self) -> Verdict:
        """The scores: accept when the mean reaches the calibrated threshold (ties accept)."""
        return "accept" if self.cast and self.score_mean >= self.score_threshold else "reject"

    def verdict(self, source: DecisionSource) -> Verdict | None:
        """The verdict that moves the status; None for an incomplete panel."""
        if not self.complete:
            return None
        return self.score_verdict if source == "scores" else self.vote_verdict


def count_votes(ballots: Iterable[Ballot], *, required: int, score_threshold: float) -> Tally:
    ballots = list(ballots)
    cast = [b for b in ballots if b.cast]
    voters = Counter(b.voter for b in ballots)
    mean = round(sum(b.score or 0.0 for b in cast) / len(cast), 4) if cast else 0.0
    return Tally(
        seats=len(ballots),
        cast=len(cast),
        accepts=sum(1 for b in cast if b.decision == "accept"),
        required=required,
        score_mean=mean,
        score_threshold=score_threshold,
        repeated_voters={voter: n for voter, n in voters.items() if n > 1},
        distinct_voters=len(voters),
    )


@dataclass(frozen=True)
class PanelRule:
    """What the panel's verdict is read from, and when a version that is not accepted is rejected
    rather than sent back for revision."""

    source: DecisionSource = "votes"
    max_versions: int = 3  # after the vote on this version number, not accepted means rejected
    reject_below: float = 0.2  # no accept vote and a mean score below this: rejected outright

    @classmethod
    def from_settings(cls, settings: ReviewSettings, source: DecisionSource | None = None) -> PanelRule:
        """`source` overrides the settings' with the one a stored panel was decided by."""
        return cls(
            source=source or settings.decision_source,
            max_versions=settings.max_versions,
            reject_below=settings.reject_below,
        )


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    status: Status  # where the lifecycle moves to
    verdict: Verdict  # the panel's accept or reject, read from the rule's source
    tally: Tally
    reasons: tuple[str, ...]

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def decide_panel(tally: Tally, rule: PanelRule, *, version_number: int) -> Decision:
    """The panel rule (SPEC §2) for version `version_number` of a submission."""
    verdict = tally.verdict(rule.source)
    if verdict is None:
        raise IncompletePanelError(f"only {tally.cast} of {tally.seats} seats voted")
    if verdict == "accept":
        outcome, status, why = Outcome.ACCEPT, Status.PROVISIONALLY_ACCEPTED, "provisionally accepted"
    elif version_number >= rule.max_versions:
        outcome, status = Outcome.REJECT, Status.REJECTED
        why = f"rejected: not accepted by version {version_number} (limit {rule.max_versions})"
    elif tally.accepts == 0 and tally.score_mean < rule.reject_below:
        outcome, status = Outcome.REJECT, Status.REJECTED
        why = f"rejected: no accept vote and score below {rule.reject_below:.2f}"
    else:
        outcome, status, why = Outcome.REVISE, Status.REVISION_REQUESTED, "revision requested"
    reasons = [
        f"panel: {tally.accepts}/{tally.seats} accept (needs {tally.required})",
        f"score {tally.score_mean:.2f} vs threshold {tally.score_threshold:.2f} ({tally.score_verdict})",
        f"decision by {rule.source}: {verdict}",
        why,
    ]
    if not tally.independent:
        reasons.append(f"votes not independent (shared models: {dict(tally.repeated_voters)})")
    return Decision(outcome=outcome, status=status, verdict=verdict, tally=tally, reasons=tuple(reasons))


# The upgrade to accepted (external reviewers) -------------------------------------------------


@dataclass(frozen=True)
class UpgradePolicy:
    """When a provisionally accepted version becomes accepted on external ballots: at least
    `min_evaluations` ballots, from at least `min_families` model families and at least
    `min_owners` owners (both bars hold together; 1 switches a bar off), with a strict majority to
    accept in which every owner weighs the same whatever the number of its reviewers."""

    min_evaluations: int = 3
    min_families: int = 2
    min_owners: int = 2

    @classmethod
    def from_settings(cls, settings: ReviewSettings) -> UpgradePolicy:
        return cls(
            min_evaluations=settings.external_min_evaluations,
            min_families=settings.external_min_families,
            min_owners=settings.external_min_owners,
        )


MAJORITY = 0.5  # the owner-weighted accept share must be above this


@dataclass(frozen=True)
class UpgradeTally(Tally):
    """External ballots counted for the upgrade. `score_mean` is the owner-weighted share of
    accepts (0..1) and the bar it must pass is a strict majority; `required` is the number of
    ballots the policy asks for."""

    families: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    voters: tuple[str, ...] = ()

    @property
    def accept_share(self) -> float:
        return self.score_mean

    @property
    def vote_verdict(self) -> Verdict:
        return "accept" if self.accept_share > MAJORITY else "reject"

    @property
    def score_verdict(self) -> Verdict:
        return self.vote_verdict


def _family_key(family: str) -> str:
    # "Claude", " claude " and "CLAUDE" are one family; a ballot without a family shares the empty
    # one with every other such ballot, so an undeclared family never adds diversity.
    return family.strip().lower()


def count_external(ballots: Iterable[Ballot], policy: UpgradePolicy) -> UpgradeTally:
    """Count cast external ballots. Each owner carries one unit of weight, split evenly over its
    ballots, so that one owner's many agents cannot outvote two other owners."""
    cast = [b for b in ballots if b.cast]
    per_owner = Counter(b.owner for b in cast)
    accept_weight = sum(1 / per_owner[b.owner] for b in cast if b.decision == "accept")
    share = round(accept_weight / len(per_owner), 4) if per_owner else 0.0
    voters = Counter(b.voter for b in cast)
    return UpgradeTally(
        seats=len(cast),
        cast=len(cast),
        accepts=sum(1 for b in cast if b.decision == "accept"),
        required=policy.min_evaluations,
        score_mean=share,
        score_threshold=MAJORITY,
        repeated_voters={voter: n for voter, n in voters.items() if n > 1},
        distinct_voters=len(voters),
        families=tuple(sorted({_family_key(b.family) for b in cast})),
        owners=tuple(sorted(per_owner)),
        voters=tuple(b.voter for b in cast),
    )


def decide_upgrade(ballots: Iterable[Ballot], policy: UpgradePolicy) -> Decision:
    """The upgrade rule for a provisionally accepted version. `status` is ACCEPTED when every bar
    is met; otherwise the item stays provisionally accepted (outcome PENDING while evidence is
    missing, REJECT when enough diverse reviewers are against it: the lifecycle has no way down
    from a published item, so that is a finding, not a transition)."""
    tally = count_external(ballots, policy)
    missing = []
    if tally.cast < policy.min_evaluations:
        missing.append(f"{tally.cast} of {policy.min_evaluations} external evaluations")
    if len(tally.families) < policy.min_families:
        missing.append(f"{len(tally.families)} of {policy.min_families} model families")
    if len(tally.owners) < policy.min_owners:
        missing.append(f"{len(tally.owners)} of {policy.min_owners} owners")
    verdict = tally.vote_verdict
    reasons = [
        f"external: {tally.accepts}/{tally.cast} accept (needs at least {policy.min_evaluations} evaluations)",
        f"model families: {len(tally.families)} ({', '.join(tally.families) or 'none'}; needs {policy.min_families})",
        f"owners: {len(tally.owners)} (needs {policy.min_owners})",
        f"owner-weighted accept share {tally.accept_share:.2f} (needs more than {MAJORITY:.2f})",
        f"voters: {', '.join(tally.voters) or 'none'}",
    ]
    if missing:
        outcome, status = Outcome.PENDING, Status.PROVISIONALLY_ACCEPTED
        reasons.append("stays provisionally accepted: only " + ", ".join(missing))
    elif verdict == "reject":
        outcome, status = Outcome.REJECT, Status.PROVISIONALLY_ACCEPTED
        reasons.append("stays provisionally accepted: the external reviewers do not accept it")
    else:
        outcome, status = Outcome.ACCEPT, Status.ACCEPTED
        reasons.append("accepted: enough diverse external reviewers accept it")
    return Decision(outcome=outcome, status=status, verdict=verdict, tally=tally, reasons=tuple(reasons))
