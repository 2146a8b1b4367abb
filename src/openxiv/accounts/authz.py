"""Who may do what: one function per action, called by the services behind every route and page
(the operator's administration commands act with the database's own authority and skip them).

A request is made by a `Principal`: a human account, possibly through one of its agents, holding
the scopes of the credential it used (an API key's scopes, or for a browser session the scopes
its roles allow). An action needs both the *scope* on the credential and, where it touches
somebody's object, the right *relation* to that object (owner, the agent itself, a moderator).
Roles alone never authorise anything: a moderator's read-only key cannot moderate.

The `authorize_*` functions raise `Forbidden` (or `NotFound`, where admitting that the object
exists would leak it) and return nothing, so a call site reads as a precondition; the predicates
(`is_moderator`, `visible_*`, `can_view_hidden`) decide what a listing shows. The matrix test
(tests/core/test_authz_matrix.py) checks every route against these rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openxiv.errors import Forbidden, NotFound
from openxiv.models import Agent, ApiKey, Submission


@dataclass(frozen=True)
class Principal:
    """Who is acting: always a human account, and the agent acting for it when there is one."""

    account_id: int
    roles: frozenset[str]
    scopes: frozenset[str]
    agent_id: int | None = None
    key_id: int | None = None
    via_session: bool = False

    @property
    def rate_key(self) -> str:
        return f"key:{self.key_id}" if self.key_id else f"account:{self.account_id}"

    @property
    def owner_rate_key(self) -> str:
        """One budget for everything an account's keys, agents and sessions do together."""
        return f"owner:{self.account_id}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            held = ", ".join(sorted(self.scopes)) or "none"
            raise Forbidden(f"this credential lacks the '{scope}' scope (it has: {held})", scope=scope)

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


def is_moderator(principal: Principal | None) -> bool:
    """Moderator powers need the role on the account *and* the `moderate` scope on the credential."""
    return principal is not None and "moderate" in principal.scopes and principal.has_role("moderator")


# ------------------------------------------------------------------------------- accounts


def authorize_manage_agents(principal: Principal) -> None:
    """Registering an agent is the human's act: an agent cannot spawn further agents."""
    principal.require("submit")
    if principal.agent_id is not None:
        raise Forbidden("an agent's key cannot register agents; use the owner's key or session")


def authorize_read_account(principal: Principal) -> None:
    """Listing agents and keys of the account."""
    principal.require("read")


def visible_agent(principal: Principal, agent: Agent) -> bool:
    """An agent's key sees only its own agent, not its owner's other agents."""
    if agent.owner_id != principal.account_id:
        return False
    return principal.agent_id is None or principal.agent_id == agent.id


def visible_key(principal: Principal, key: ApiKey) -> bool:
    """A human sees every key of the account; an agent's key only the keys of that agent."""
    if key.account_id != principal.account_id:
        return False
    return principal.agent_id is None or principal.agent_id == key.agent_id


def authorize_issue_key(principal: Principal, scopes: Iterable[str], agent_id: int | None) -> None:
    """A key can only mint keys with a subset of its own scopes, for the same principal or, from
    a human, for one of the human's agents; never upwards (an agent's key cannot mint a human key
    or another agent's key). Role checks (e.g. `moderate` needs the moderator role) stay in
    `accounts.service.issue_key`, which every path uses."""
    wanted = set(scopes)
    beyond = wanted - principal.scopes
    if beyond:
        raise Forbidden(
            f"a key can only be issued with scopes its issuer holds; this credential lacks "
            f"{', '.join(sorted(beyond))}",
            field="scopes",
        )
    if principal.agent_id is not None and agent_id != principal.agent_id:
        raise Forbidden(
            "an agent's key can only issue keys for that same agent (pass its agent_id)", field="agent_id"
        )


def authorize_revoke_key(principal: Principal, key: ApiKey) -> None:
    """Revoking is destructive: the caller must see the key and hold every scope it carries
    (any credential may always revoke itself), so a read-only key cannot cut off an admin key."""
    if not visible_key(principal, key):
        raise NotFound(f"you have no key {key.id}")
    if key.id == principal.key_id:
        return
    beyond = set(key.scopes) - principal.scopes
    if beyond:
        raise Forbidden(
            f"revoking key {key.id} needs every scope it holds; this credential lacks "
            f"{', '.join(sorted(beyond))}"
        )


# ---------------------------------------------------------------------------- submissions


def authorize_upload(principal: Principal) -> None:
    principal.require("submit")


def authorize_submit(principal: Principal) -> None:
    principal.require("submit")


def authorize_revise(principal: Principal, submission: Submission) -> None:
    principal.require("submit")
    if submission.owner_id != principal.account_id:
        raise Forbidden(f"only the owner of {submission.identifier} may post a new version")


def authorize_withdraw(principal: Principal, submission: Submission) -> None:
    """The owner (with `submit`) or a moderator (role and `moderate` scope)."""
    if is_moderator(principal):
        return
    principal.require("submit")
    if submission.owner_id != principal.account_id:
        raise Forbidden(
            f"only the owner of {submission.identifier} or a moderator (with the 'moderate' scope) may "
            "withdraw it"
        )


def authorize_moderate(principal: Principal) -> None:
    principal.require("moderate")
    if not principal.has_role("moderator"):
        raise Forbidden("only moderators may do this")


def authorize_confirm_authorship(principal: Principal) -> None:
    """Accepting or declining co-authorship speaks for the account (or the agent): `submit`."""
    principal.require("submit")


def authorize_external_review(
    principal: Principal,
    submission: Submission,
    *,
    author_account_ids: Iterable[int],
    author_agent_ids: Iterable[int],
    author_agent_owner_ids: Iterable[int],
) -> None:
    """An outside review or vote needs the `review` scope, and must not come from the work's own
    side: its owner (or any agent of the owner, which acts for the same account), an account or
    agent named among the version's authors or that wrote it, or an agent of such an author."""
    principal.require("review")
    own_accounts = {submission.owner_id, *author_account_ids, *author_agent_owner_ids}
    if principal.account_id in own_accounts or (
        principal.agent_id is not None and principal.agent_id in set(author_agent_ids)
    ):
        raise Forbidden(
            f"you cannot review {submission.identifier}: it is your own work or your agent's "
            "(owner, author or authoring agent)",
            reason="self_review",
        )


def can_view_hidden(principal: Principal | None, owner_id: int) -> bool:
    """Items hidden from the public (held by screening): the owner's credentials and moderators."""
    if principal is None:
        return False
    return principal.account_id == owner_id or is_moderator(principal)


# ------------------------------------------------------------------------------ community


def authorize_engage(principal: Principal) -> None:
    """Liking, commenting and reporting speak for the account (or its agent): `submit`."""
    principal.require("submit")


def authorize_edit_comment(principal: Principal, author_account_id: int, author_agent_id: int | None) -> None:
    """Only the comment's own author edits it: the same agent, or the human for a human's comment
    (an owner does not put words into an agent's comment, nor an agent into its owner's)."""
    principal.require("submit")
    if (principal.account_id, principal.agent_id) != (author_account_id, author_agent_id):
        raise Forbidden("only the author of a comment may edit it")


def authorize_delete_comment(
    principal: Principal, author_account_id: int, author_agent_id: int | None
) -> None:
    """The author, or the human who owns the agent that wrote it (the owner answers for it)."""
    principal.require("submit")
    if principal.account_id != author_account_id:
        raise Forbidden("only the author of a comment (or the owner of its agent) may delete it")
    if principal.agent_id is not None and principal.agent_id != author_agent_id:
        raise Forbidden("an agent's key may delete only that agent's comments")


def authorize_appeal(principal: Principal, author_account_id: int) -> None:
    """An appeal against hiding is the author's: the account that wrote (or owns) the content."""
    principal.require("submit")
    if principal.account_id != author_account_id:
        raise Forbidden("only the author of the hidden content may appeal")


def can_see_moderated(principal: Principal | None, author_account_id: int) -> bool:
    """Hidden or deleted content, and why it was hidden: its author's account and moderators."""
    if principal is None:
        return False
    return principal.account_id == author_account_id or is_moderator(principal)
