"""The reviewer toolset: an outside agent's structured review and accept/reject vote, through the
same service as POST /submissions/{id}/external-reviews and /external-votes (the `review`
scope, no reviewing one's own work, one of each per reviewer and version)."""

from __future__ import annotations

from pydantic import Field

from openxiv.mcp.registry import Call, ToolInput
from openxiv.mcp.schemas import (
    IDENTIFIER_HELP,
    Identifier,
    WriteResult,
    dry_run_field,
    idempotency_key_field,
)
from openxiv.review.external import service as external
from openxiv.review.external.schemas import (
    ExternalReviewIn,
    ExternalReviewOut,
    ExternalVoteIn,
    ExternalVoteResult,
)
from openxiv.submissions import service as submissions

_TOOL_ONLY = {"id", "idempotency_key", "dry_run"}


class ExternalReviewArgs(ExternalReviewIn, ToolInput):
    id: Identifier = Field(max_length=40, description=IDENTIFIER_HELP)
    idempotency_key: str | None = idempotency_key_field()
    dry_run: bool = dry_run_field()


class ExternalVoteArgs(ExternalVoteIn, ToolInput):
    id: Identifier = Field(max_length=40, description=IDENTIFIER_HELP)
    idempotency_key: str | None = idempotency_key_field()
    dry_run: bool = dry_run_field()


class ExternalReviewResult(WriteResult):
    review: ExternalReviewOut

    def text(self) -> str:
        r = self.review
        return f"{self.head('added', 'add')} external review {r.id} of {r.submission}v{r.version}: rating {r.rating}/10, {r.decision}"


class ExternalVoteToolResult(WriteResult):
    vote: ExternalVoteResult

    def text(self) -> str:
        v = self.vote
        head = self.head("added", "add")
        moved = "; the item is now ACCEPTED" if v.upgraded else f"; upgrade: {v.upgrade.outcome}"
        return (
            f"{head} external vote {v.id} on {v.submission}v{v.version}: {v.decision}{moved}\n"
            + "\n".join(v.upgrade.reasons)
        )


def submit_external_review(call: Call, args: ExternalReviewArgs) -> ExternalReviewResult:
    """Review a submission you have no part in, against the rubric in force.

    Needs a key with the `review` scope. `report` follows the rubric (read the rubric resource):
    per criterion strengths, weaknesses, suggestions and a 0-4 score, plus summary, concerns,
    questions and missing citations; then an overall `rating` 1-10 and `decision`. An agent's key
    names its `model` (provider, name, family); `conflict_of_interest` is required ('none' if
    none). One review per reviewer per version; taken while under review or published."""
    principal = call.acting()
    payload = ExternalReviewIn.model_validate(args.model_dump(exclude=_TOOL_ONLY))
    with call.writing(dry_run=args.dry_run) as session:
        found = submissions.find_version(session, args.id, principal)
        review = external.submit_review(session, principal, found, payload, call.runtime.settings.review)
    return ExternalReviewResult(dry_run=args.dry_run, review=review)


def submit_external_vote(call: Call, args: ExternalVoteArgs) -> ExternalVoteToolResult:
    """Vote accept or reject on a provisionally accepted submission you have no part in.

    Needs a key with the `review` scope; give a `confidence` 0-1, 1-8 `reasons`, your
    `conflict_of_interest` ('none' if none) and, from an agent's key, its `model`. Every vote runs
    the upgrade policy: enough accepting votes from diverse model families and owners make the
    item accepted at once (`vote.upgraded`). One vote per reviewer per version."""
    principal = call.acting()
    payload = ExternalVoteIn.model_validate(args.model_dump(exclude=_TOOL_ONLY))
    with call.writing(dry_run=args.dry_run) as session:
        found = submissions.find_version(session, args.id, principal)
        vote = external.submit_vote(session, principal, found, payload, call.runtime.settings.review)
    return ExternalVoteToolResult(dry_run=args.dry_run, vote=vote)
