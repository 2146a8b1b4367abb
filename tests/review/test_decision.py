"""The decision rule on its own: counting a panel's ballots and moving the lifecycle status."""

from __future__ import annotations

import pytest

from openxiv.review.decision import (
    Ballot,
    DecisionSource,
    IncompletePanelError,
    Outcome,
    PanelRule,
    Tally,
    count_votes,
    decide_panel,
)
from openxiv.review.settings import ReviewSettings
from openxiv.submissions.lifecycle import Status, can_transition

_MARKS = {"A": "accept", "R": "reject", "x": None}


def ballots(
    marks: str, scores: list[float | None] | None = None, voters: list[str] | None = None
) -> list[Ballot]:
    """`marks`: one letter a seat, A accept, R reject, x a seat whose call failed."""
    scores = scores if scores is not None else [None if m == "x" else 0.5 for m in marks]
    voters = voters or [f"model-{i}" for i in range(len(marks))]
    return [
        Ballot(decision=_MARKS[m], score=s, voter=v)  # type: ignore[arg-type]
        for m, s, v in zip(marks, scores, voters, strict=True)
    ]


@pytest.mark.parametrize(
    ("marks", "scores", "required", "threshold", "expected"),
    [
        # unanimous
        ("AAAAA", [0.8] * 5, 3, 0.5, (5, 5, 0.8, "accept", "accept")),
        ("RRRRR", [0.1] * 5, 3, 0.5, (0, 5, 0.1, "reject", "reject")),
        # split: exactly K accepts, one short of K
        ("AAARR", [0.6] * 5, 3, 0.5, (3, 5, 0.6, "accept", "accept")),
        ("AARRR", [0.6] * 5, 3, 0.5, (2, 5, 0.6, "reject", "accept")),
        ("AAARR", [0.6] * 5, 4, 0.5, (3, 5, 0.6, "reject", "accept")),
        # an even panel split down the middle: K decides the tie
        ("AARR", [0.5] * 4, 2, 0.5, (2, 4, 0.5, "accept", "accept")),
        ("AARR", [0.5] * 4, 3, 0.5, (2, 4, 0.5, "reject", "accept")),
        # the mean is rounded before the comparison: (0.6 + 0.7 + 0.8) / 3 is 0.7000000000000001
        ("RRR", [0.6, 0.7, 0.8], 2, 0.7, (0, 3, 0.7, "reject", "accept")),
        ("RRR", [0.6, 0.7, 0.8], 2, 0.7001, (0, 3, 0.7, "reject", "reject")),
        # a failed seat counts neither as a vote nor in the mean score
        ("AAAAx", [0.8, 0.8, 0.8, 0.8, None], 3, 0.5, (4, 4, 0.8, "accept", "accept")),
        ("AAxxx", [0.9, 0.3, None, None, None], 3, 0.5, (2, 2, 0.6, "reject", "accept")),
        # no vote at all: nothing reaches even a zero threshold
        ("xxx", [None] * 3, 1, 0.0, (0, 0, 0.0, "reject", "reject")),
    ],
)
def test_count_votes(
    marks: str,
    scores: list[float | None],
    required: int,
    threshold: float,
    expected: tuple[int, int, float, str, str],
) -> None:
    tally = count_votes(ballots(marks, scores), required=required, score_threshold=threshold)
    accepts, cast, mean, by_votes, by_scores = expected
    assert (tally.accepts, tally.cast, tally.seats) == (accepts, cast, len(marks))
    assert tally.score_mean == pytest.approx(mean, abs=1e-9)
    assert (tally.vote_verdict, tally.score_verdict) == (by_votes, by_scores)
    assert tally.complete is ("x" not in marks)


def test_only_a_complete_panel_has_a_verdict() -> None:
    complete = count_votes(ballots("AAARR"), required=3, score_threshold=0.9)
    assert complete.verdict("votes") == "accept" and complete.verdict("scores") == "reject"
    missing = count_votes(ballots("AAAAx"), required=3, score_threshold=0.1)
    assert missing.verdict("votes") is None and missing.verdict("scores") is None


def test_seats_sharing_a_model_are_not_independent() -> None:
    shared = count_votes(
        ballots("AARRx", voters=["m1", "m1", "m2", "m3", "m1"]), required=3, score_threshold=0.5
    )
    # the failed seat still sat on the panel: it counts towards the repetition
    assert dict(shared.repeated_voters) == {"m1": 3} and shared.distinct_voters == 3
    assert not shared.independent
    distinct = count_votes(ballots("AARR"), required=2, score_threshold=0.5)
    assert distinct.independent and distinct.distinct_voters == 4


def tally(
    accepts: int, score_mean: float, *, seats: int = 5, required: int = 3, threshold: float = 0.5
) -> Tally:
    return Tally(
        seats=seats,
        cast=seats,
        accepts=accepts,
        required=required,
        score_mean=score_mean,
        score_threshold=threshold,
        distinct_voters=seats,
    )


@pytest.mark.parametrize(
    ("counts", "source", "version", "expected"),
    [
        # K of N accept: provisionally accepted, even on the last allowed version
        (tally(5, 0.9), "votes", 1, (Outcome.ACCEPT, Status.PROVISIONALLY_ACCEPTED, "accept")),
        (tally(3, 0.4), "votes", 1, (Outcome.ACCEPT, Status.PROVISIONALLY_ACCEPTED, "accept")),
        (tally(3, 0.6), "votes", 3, (Outcome.ACCEPT, Status.PROVISIONALLY_ACCEPTED, "accept")),
        # short of K before the last version: another round
        (tally(2, 0.6), "votes", 1, (Outcome.REVISE, Status.REVISION_REQUESTED, "reject")),
        (tally(2, 0.6), "votes", 2, (Outcome.REVISE, Status.REVISION_REQUESTED, "reject")),
        # short of K on the last allowed version (and past it): rejected
        (tally(2, 0.6), "votes", 3, (Outcome.REJECT, Status.REJECTED, "reject")),
        (tally(2, 0.6), "votes", 4, (Outcome.REJECT, Status.REJECTED, "reject")),
        # no accept vote and a score below `reject_below`: rejected at once; at the bar it is not
        (tally(0, 0.19), "votes", 1, (Outcome.REJECT, Status.REJECTED, "reject")),
        (tally(0, 0.2), "votes", 1, (Outcome.REVISE, Status.REVISION_REQUESTED, "reject")),
        # a single accept vote saves a low score from outright rejection
        (tally(1, 0.05), "votes", 1, (Outcome.REVISE, Status.REVISION_REQUESTED, "reject")),
        # decided by scores: the votes do not matter, the threshold does (ties accept)
        (tally(0, 0.5), "scores", 1, (Outcome.ACCEPT, Status.PROVISIONALLY_ACCEPTED, "accept")),
        (tally(5, 0.4999), "scores", 1, (Outcome.REVISE, Status.REVISION_REQUESTED, "reject")),
        (tally(5, 0.4999), "scores", 3, (Outcome.REJECT, Status.REJECTED, "reject")),
    ],
)
def test_panel_rule(
    counts: Tally, source: DecisionSource, version: int, expected: tuple[Outcome, Status, str]
) -> None:
    rule = PanelRule(source=source, max_versions=3, reject_below=0.2)
    decision = decide_panel(counts, rule, version_number=version)
    assert (decision.outcome, decision.status, decision.verdict) == expected
    assert decision.tally is counts
    # The rule only picks a target; it must be one the lifecycle allows after review.
    assert can_transition(Status.UNDER_REVIEW, decision.status)


def test_an_incomplete_panel_is_not_decided() -> None:
    incomplete = count_votes(ballots("AAAAx"), required=3, score_threshold=0.5)
    with pytest.raises(IncompletePanelError, match="only 4 of 5 seats voted"):
        decide_panel(incomplete, PanelRule(), version_number=1)


def test_the_reasons_say_how_the_panel_decided() -> None:
    counts = count_votes(
        ballots("AARRR", [0.7, 0.6, 0.3, 0.3, 0.2], voters=["m1", "m1", "m2", "m3", "m4"]),
        required=3,
        score_threshold=0.5,
    )
    decision = decide_panel(counts, PanelRule(max_versions=2), version_number=2)
    assert decision.summary == (
        "panel: 2/5 accept (needs 3); score 0.42 vs threshold 0.50 (reject); decision by votes: reject; "
        "rejected: not accepted by version 2 (limit 2); votes not independent (shared models: {'m1': 2})"
    )
    independent = decide_panel(tally(0, 0.1), PanelRule(reject_below=0.25), version_number=1)
    assert independent.reasons[-1] == "rejected: no accept vote and score below 0.25"


def test_rule_from_settings_and_the_source_a_panel_was_stored_with() -> None:
    settings = ReviewSettings(decision_source="scores", max_versions=5, reject_below=0.3)
    assert PanelRule.from_settings(settings) == PanelRule(source="scores", max_versions=5, reject_below=0.3)
    stored = PanelRule.from_settings(settings, source="votes")
    assert stored.source == "votes" and stored.max_versions == 5
    # The same tally, read by the two sources, goes different ways.
    counts = tally(1, 0.8)
    assert decide_panel(counts, PanelRule.from_settings(settings), version_number=1).status == (
        Status.PROVISIONALLY_ACCEPTED
    )
    assert decide_panel(counts, stored, version_number=1).status == Status.REVISION_REQUESTED
