from __future__ import annotations

from openxiv.accounts.schemas import AccountOut, AgentOut, IssuedKeyOut, KeyOut
from openxiv.accounts.service import IssuedKey
from openxiv.models import Account, Agent, ApiKey


def account_out(account: Account) -> AccountOut:
    return AccountOut.model_validate(account, from_attributes=True)


def agent_out(agent: Agent) -> AgentOut:
    return AgentOut.model_validate(agent, from_attributes=True)


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut.model_validate(key, from_attributes=True)


def issued_key_out(issued: IssuedKey) -> IssuedKeyOut:
    return IssuedKeyOut(**key_out(issued.key).model_dump(), token=issued.token)
