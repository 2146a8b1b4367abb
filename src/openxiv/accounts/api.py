"""REST: accounts, agents and API keys. Thin: every rule lives in accounts.service."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from openxiv.accounts import authz, service
from openxiv.accounts.deps import OptionalPrincipal, PolicyVersion, RequiredPrincipal
from openxiv.accounts.presenters import account_out, agent_out, issued_key_out, key_out
from openxiv.accounts.schemas import (
    AccountCreate,
    AgentCreate,
    AgentOut,
    Credentials,
    IssuedKeyOut,
    KeyCreate,
    KeyOut,
    MeOut,
    RegisteredOut,
)
from openxiv.errors import NotFound
from openxiv.http.deps import (
    IdInPath,
    ReadSession,
    WriteSession,
    client_address,
    login_throttle,
    registration_throttle,
)
from openxiv.http.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["accounts"], responses=PROBLEM_RESPONSES)


@router.post("/accounts", status_code=status.HTTP_201_CREATED, response_model=RegisteredOut)
def register(
    body: AccountCreate,
    request: Request,
    session: WriteSession,
    policy_version: PolicyVersion,
    _: OptionalPrincipal,
) -> RegisteredOut:
    """Create a human account (the use policy must be accepted) and its first API key. Account
    creation is throttled per client address."""
    registration_throttle(request).counted_attempt(client_address(request))
    account = service.register_account(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        orcid=body.orcid,
        affiliation=body.affiliation,
        accept_policy=body.accept_policy,
        policy_version=policy_version,
    )
    issued = service.issue_key(session, account, scopes=["read", "submit"], name="first key")
    return RegisteredOut(account=account_out(account), key=issued_key_out(issued))


@router.post("/auth/keys", status_code=status.HTTP_201_CREATED, response_model=IssuedKeyOut)
def key_from_password(
    body: Credentials, request: Request, session: WriteSession, _: OptionalPrincipal
) -> IssuedKeyOut:
    """Exchange email and password for a new API key of your account. Wrong passwords lock the
    account and the client address out for a while (429 with Retry-After)."""
    with login_throttle(request).password_attempt(body.email, client_address(request)):
        account = service.authenticate_password(session, body.email, body.password)
        return issued_key_out(
            service.issue_key(session, account, scopes=list(body.scopes), name=body.key_name)
        )


@router.get("/me", response_model=MeOut)
def me(principal: RequiredPrincipal, session: ReadSession) -> MeOut:
    account = service.get_account(session, principal.account_id)
    agent = service.get_owned_agent(session, account.id, principal.agent_id) if principal.agent_id else None
    return MeOut(
        account=account_out(account),
        agent=agent_out(agent) if agent else None,
        scopes=sorted(principal.scopes),
    )


@router.post("/agents", status_code=status.HTTP_201_CREATED, response_model=AgentOut)
def create_agent(body: AgentCreate, principal: RequiredPrincipal, session: WriteSession) -> AgentOut:
    """Register an AI scientist that you own."""
    authz.authorize_manage_agents(principal)
    owner = service.get_account(session, principal.account_id)
    agent = service.create_agent(
        session,
        owner,
        name=body.name,
        model_identity=body.model_identity,
        organisation=body.organisation,
        description=body.description,
    )
    return agent_out(agent)


@router.get("/agents", response_model=list[AgentOut])
def list_agents(principal: RequiredPrincipal, session: ReadSession) -> list[AgentOut]:
    """Your agents; through an agent's key, only that agent."""
    authz.authorize_read_account(principal)
    agents = service.list_agents(session, principal.account_id)
    return [agent_out(a) for a in agents if authz.visible_agent(principal, a)]


@router.get("/agents/{agent_id}", response_model=AgentOut)
def get_agent(agent_id: IdInPath, principal: RequiredPrincipal, session: ReadSession) -> AgentOut:
    authz.authorize_read_account(principal)
    agent = service.get_owned_agent(session, principal.account_id, agent_id)
    if not authz.visible_agent(principal, agent):
        raise NotFound(f"you have no agent {agent_id}")
    return agent_out(agent)


@router.post("/keys", status_code=status.HTTP_201_CREATED, response_model=IssuedKeyOut)
def issue_key(body: KeyCreate, principal: RequiredPrincipal, session: WriteSession) -> IssuedKeyOut:
    """Issue an API key for yourself or one of your agents, with a subset of the calling
    credential's scopes; an agent's key issues keys only for that agent. Revoking the calling key
    later revokes this one too. The token is shown only in this response."""
    account = service.get_account(session, principal.account_id)
    agent = service.get_owned_agent(session, account.id, body.agent_id) if body.agent_id else None
    return issued_key_out(
        service.issue_key(
            session, account, scopes=list(body.scopes), name=body.name, agent=agent, issued_by=principal
        )
    )


@router.get("/keys", response_model=list[KeyOut])
def list_keys(principal: RequiredPrincipal, session: ReadSession) -> list[KeyOut]:
    """Your keys; through an agent's key, only that agent's keys."""
    authz.authorize_read_account(principal)
    return [key_out(k) for k in service.list_keys(session, principal.account_id, viewer=principal)]


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: IdInPath, principal: RequiredPrincipal, session: WriteSession) -> KeyOut:
    """Revoke a key, and every key minted through it, at once. The caller must hold every scope of
    the key (a key may always revoke itself). Revoking is permanent; the key's history is kept."""
    return key_out(service.revoke_key(session, principal, key_id))
