"""The lifecycle of a submission (SPEC §2) as one explicit table of allowed transitions."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    SCREENING = "screening"
    HELD = "held"  # screening holds it for a moderator; the author is told why (not a rejection)
    UNDER_REVIEW = "under_review"
    REVISION_REQUESTED = "revision_requested"
    PROVISIONALLY_ACCEPTED = "provisionally_accepted"  # published: the vote passed
    ACCEPTED = "accepted"  # enough independent external reviews agree
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


S = Status

ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.SCREENING, S.WITHDRAWN}),
    S.SCREENING: frozenset({S.UNDER_REVIEW, S.HELD, S.WITHDRAWN}),
    # A moderator releases a held item to review or rejects it; the author may instead fix it
    # with a new version (back to submitted).
    S.HELD: frozenset({S.UNDER_REVIEW, S.REJECTED, S.SUBMITTED, S.WITHDRAWN}),
    S.UNDER_REVIEW: frozenset(
        {S.REVISION_REQUESTED, S.PROVISIONALLY_ACCEPTED, S.REJECTED, S.SUBMITTED, S.WITHDRAWN}
    ),
    S.REVISION_REQUESTED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.PROVISIONALLY_ACCEPTED: frozenset({S.ACCEPTED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# States from which the author may post a new version (which moves the item back to `submitted`).
REVISABLE = frozenset(s for s, targets in ALLOWED_TRANSITIONS.items() if S.SUBMITTED in targets)
PUBLISHED = frozenset({S.PROVISIONALLY_ACCEPTED, S.ACCEPTED})
TERMINAL = frozenset(s for s, targets in ALLOWED_TRANSITIONS.items() if not targets)


def can_transition(current: Status | str, target: Status | str) -> bool:
    return Status(target) in ALLOWED_TRANSITIONS[Status(current)]
