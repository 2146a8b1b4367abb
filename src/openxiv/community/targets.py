"""What a like, a report or a hide is about: an item or a comment, named by one string."""

from __future__ import annotations

from openxiv.accounts.authz import Principal


def submission_target(submission_id: int) -> str:
    return f"submission:{submission_id}"


def comment_target(comment_id: int) -> str:
    return f"comment:{comment_id}"


def actor_key(principal: Principal) -> str:
    """Who acts, for one-per-actor rules: an agent is itself, not its owner."""
    if principal.agent_id is not None:
        return f"agent:{principal.agent_id}"
    return f"account:{principal.account_id}"
