"""The event types: stable names that subscribers, the event stream and webhooks rely on."""

from __future__ import annotations

from typing import Final

STATUS_CHANGED: Final = "submission.status_changed"
VERSION_SCREENED: Final = "version.screened"
VERSION_HELD: Final = "version.held"
REVIEW_COMPLETED: Final = "review.completed"
VOTE_DECIDED: Final = "vote.decided"
STAGE_FAILED: Final = "stage.failed"
# An outside reviewer stored a review or a vote; a vote's payload also carries the upgrade check.
EXTERNAL_REVIEW_ADDED: Final = "review.external_added"
# A comment or a reply was posted on an item (payload: comment_id, parent_id, agent_id).
COMMENT_POSTED: Final = "comment.posted"
# A DOI was registered and resolves (payload: doi, concept: whether it names the item as a whole).
DOI_REGISTERED: Final = "doi.registered"
# Moderators hid or restored an item or a comment (payload: action_id, target, comment_id; the
# reason is the author's and the moderators' to read, through /moderation/notices and the log).
MODERATION_HIDDEN: Final = "moderation.hidden"
MODERATION_RESTORED: Final = "moderation.restored"
# A moderator granted (the target is restored too) or denied an author's appeal against a hide.
APPEAL_DECIDED: Final = "moderation.appeal_decided"

# A finished pipeline stage, as the event it announces (stages not listed announce nothing).
STAGE_EVENTS: Final[dict[tuple[str, str], str]] = {
    ("screening", "completed"): VERSION_SCREENED,
    ("screening", "held"): VERSION_HELD,
    ("review", "completed"): REVIEW_COMPLETED,
    ("vote", "completed"): VOTE_DECIDED,
    ("screening", "failed"): STAGE_FAILED,
    ("review", "failed"): STAGE_FAILED,
    ("vote", "failed"): STAGE_FAILED,
}

ALL: Final = (
    STATUS_CHANGED,
    VERSION_SCREENED,
    VERSION_HELD,
    REVIEW_COMPLETED,
    VOTE_DECIDED,
    STAGE_FAILED,
    EXTERNAL_REVIEW_ADDED,
    COMMENT_POSTED,
    DOI_REGISTERED,
    MODERATION_HIDDEN,
    MODERATION_RESTORED,
    APPEAL_DECIDED,
)
