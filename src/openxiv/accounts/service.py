"""Accounts, agents and API keys. No web framework here: callers pass a session and commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openxiv.accounts import authz
from openxiv.accounts.authz import Principal
from openxiv.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from openxiv.models import Account, Agent, ApiKey
from openxiv.models.base import utcnow
from openxiv.validation import clean_text, normalise_orcid

ROLES = ("author", "reviewer", "moderator", "admin")
SCOPES = ("read", "submit", "review", "moderate", "admin")
# A scope beyond what every author may hold needs the matching role on the owning account.
_SCOPE_NEEDS_ROLE = {"review": "reviewer", "moderate": "moderator", "admin": "admin"}
KEY_PREFIX = "oxk"
_TOUCH_INTERVAL = timedelta(minutes=1)
_hasher = PasswordHasher()


def _validate_email(email: str) -> str:
    email = clean_text(email, "email", max_length=320).lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or domain.startswith(".") or domain.endswith("."):
        raise InvalidInput(f"{email!r} is not a valid email address", field="email")
    return email


def _validate_password(password: str) -> str:
    if len(password) < 10:
        raise InvalidInput("password must have at least 10 characters", field="password")
    if len(password) > 1024:
        raise InvalidInput("password must have at most 1024 characters", field="password")
    return password


def register_account(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    accept_policy: bool,
    policy_version: str,
    orcid: str | None = None,
    affiliation: str | None = None,
    roles: list[str] | None = None,
) -> Account:
    if not accept_policy:
        raise InvalidInput(
            f"the use policy (version {policy_version}) must be accepted to create an account",
            field="accept_policy",
        )
    roles = sorted(set(roles or ["author"]))
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(sorted(unknown))}", field="roles")
    now = utcnow()
    account = Account(
        email=_validate_email(email),
        display_name=clean_text(display_name, "display_name", max_length=200),
        orcid=normalise_orcid(orcid) if orcid else None,
        affiliation=clean_text(affiliation, "affiliation", max_length=300) if affiliation else None,
        password_hash=_hasher.hash(_validate_password(password)),
        roles=roles,
        policy_version=policy_version,
        policy_accepted_at=now,
        created_at=now,
    )
    if session.scalar(select(Account.id).where(Account.email == account.email)) is not None:
        raise Conflict(f"an account with email {account.email} already exists", field="email")
    session.add(account)
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent registration won the race
        raise Conflict(f"an account with email {account.email} already exists", field="email") from error
    return account


def authenticate_password(session: Session, email: str, password: str) -> Account:
    account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
    failure = Unauthenticated("wrong email or password")
    if account is None or account.disabled_at is not None:
        _hasher.hash(password[:1024])  # same cost either way: do not reveal which emails exist
        raise failure
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    return account


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account


def set_roles(session: Session, account: Account, roles: list[str]) -> Account:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(sorted(unknown))}", field="roles")
    account.roles = sorted(set(roles))
    return account


def create_agent(
    session: Session,
    owner: Account,
    *,
    name: str,
    model_identity: str,
    organisation: str,
    description: str = "",
) -> Agent:
    agent = Agent(
        owner_id=owner.id,
        name=clean_text(name, "name", max_length=200),
        model_identity=clean_text(model_identity, "model_identity", max_length=300),
        organisation=clean_text(organisation, "organisation", max_length=300),
        description=clean_text(description, "description", max_length=5000, multiline=True, required=False),
    )
    exists = session.scalar(select(Agent.id).where(Agent.owner_id == owner.id, Agent.name == agent.name))
    if exists is not None:
        raise Conflict(f"you already have an agent named {agent.name!r}", field="name")
    session.add(agent)
    session.flush()
    return agent


def list_agents(session: Session, owner_id: int) -> list[Agent]:
    return list(session.scalars(select(Agent).where(Agent.owner_id == owner_id).order_by(Agent.id)))


def get_owned_agent(session: Session, owner_id: int, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.owner_id != owner_id:
        raise NotFound(f"you have no agent {agent_id}")
    return agent


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown once, never stored


def _hash_secret(secret: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough; argon2 would cost every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    session: Session,
    account: Account,
    *,
    scopes: list[str],
    name: str = "",
    agent: Agent | None = None,
    issued_by: Principal | None = None,
) -> IssuedKey:
    """Mint a key. `issued_by` is the credential asking (None: a password, the operator's CLI);
    its own scopes bound the new key's (accounts.authz), and revoking it later revokes this key."""
    scopes = sorted(set(scopes))
    if not scopes:
        raise InvalidInput("a key needs at least one scope", field="scopes")
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise InvalidInput(
            f"unknown scopes: {', '.join(sorted(unknown))} (known: {', '.join(SCOPES)})", field="scopes"
        )
    roles = set(account.roles)
    for scope in scopes:
        role = _SCOPE_NEEDS_ROLE.get(scope)
        if role and role not in roles and "admin" not in roles:
            raise Forbidden(f"the '{scope}' scope needs the '{role}' role", field="scopes")
    if agent is not None and agent.owner_id != account.id:
        raise NotFound(f"you have no agent {agent.id}")
    if issued_by is not None:
        authz.authorize_issue_key(issued_by, scopes, agent.id if agent else None)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        name=clean_text(name, "name", max_length=200, required=False),
        account_id=account.id,
        agent_id=agent.id if agent else None,
        scopes=scopes,
        issued_by_key_id=issued_by.key_id if issued_by else None,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, token=f"{KEY_PREFIX}_{prefix}_{secret}")


def list_keys(session: Session, account_id: int, viewer: Principal | None = None) -> list[ApiKey]:
    """The account's keys; through an agent's key, only that agent's keys."""
    keys = session.scalars(select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.id))
    return [k for k in keys if viewer is None or authz.visible_key(viewer, k)]


def revoke_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    """Revoke a key and every key minted through it, so a stolen key leaves nothing behind."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"you have no key {key_id}")
    authz.authorize_revoke_key(principal, key)
    revoke_key_tree(session, key)
    return key


def revoke_key_tree(session: Session, key: ApiKey) -> None:
    now = utcnow()
    pending = [key]
    while pending:
        current = pending.pop()
        if current.revoked_at is None:
            current.revoked_at = now
        pending.extend(session.scalars(select(ApiKey).where(ApiKey.issued_by_key_id == current.id)))


def authenticate_key(session: Session, token: str) -> tuple[Principal, bool]:
    """Resolve a bearer token. Returns the principal and whether `last_used_at` is due an update."""
    parts = token.split("_", 2)
    invalid = Unauthenticated("invalid API key")
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise invalid
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(parts[2])):
        raise invalid
    if key.revoked_at is not None:
        raise Unauthenticated("this API key has been revoked")
    account = key.account
    if account.disabled_at is not None or (key.agent is not None and key.agent.disabled_at is not None):
        raise Unauthenticated("the account or agent behind this key is disabled")
    principal = Principal(
        account_id=account.id,
        roles=frozenset(account.roles),
        scopes=frozenset(key.scopes),
        agent_id=key.agent_id,
        key_id=key.id,
    )
    now = utcnow()
    return principal, key.last_used_at is None or now - key.last_used_at > _TOUCH_INTERVAL


def record_key_use(session: Session, key_id: int, when: datetime | None = None) -> None:
    key = session.get(ApiKey, key_id)
    if key is not None:
        key.last_used_at = when or utcnow()


def session_principal(session: Session, account_id: int) -> Principal:
    """A signed-in browser user may do everything their roles allow."""
    account = get_account(session, account_id)
    if account.disabled_at is not None:
        raise Unauthenticated("this account is disabled")
    roles = set(account.roles)
    scopes = {"read", "submit"} | {
        s for s, role in _SCOPE_NEEDS_ROLE.items() if role in roles or "admin" in roles
    }
    return Principal(
        account_id=account.id, roles=frozenset(roles), scopes=frozenset(scopes), via_session=True
    )
