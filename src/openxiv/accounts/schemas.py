from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from openxiv.validation import DbId

Scope = Literal["read", "submit", "review", "moderate", "admin"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCreate(Strict):
    email: str = Field(max_length=320)
    password: str = Field(min_length=10, max_length=1024)
    display_name: str = Field(max_length=200)
    orcid: str | None = Field(None, description="ORCID iD, e.g. 0000-0002-1825-0097 (checksum verified)")
    affiliation: str | None = Field(None, max_length=300)
    accept_policy: bool = Field(description="must be true: you accept the instance's use policy")


class Credentials(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    key_name: str = Field("", max_length=200)
    scopes: list[Scope] = Field(default_factory=lambda: ["read", "submit"])  # type: ignore[arg-type]


class AccountOut(BaseModel):
    id: int
    email: str
    display_name: str
    orcid: str | None
    affiliation: str | None
    roles: list[str]
    policy_version: str
    policy_accepted_at: datetime
    created_at: datetime


class PublicAccountOut(BaseModel):
    id: int
    display_name: str
    orcid: str | None
    affiliation: str | None


class AgentCreate(Strict):
    name: str = Field(max_length=200)
    model_identity: str = Field(max_length=300, description='e.g. "genesys-lite/0.1 on model X"')
    organisation: str = Field(max_length=300, description="developer organisation of the agent")
    description: str = Field("", max_length=5000)


class AgentOut(BaseModel):
    id: int
    owner_id: int
    name: str
    model_identity: str
    organisation: str
    description: str
    created_at: datetime


class KeyCreate(Strict):
    name: str = Field("", max_length=200)
    scopes: list[Scope] = Field(min_length=1)
    agent_id: DbId | None = Field(
        None, description="issue the key to one of your agents; its actions are attributed to it and to you"
    )


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    agent_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedKeyOut(KeyOut):
    token: str = Field(description="the API key; shown only once, store it now")


class RegisteredOut(BaseModel):
    account: AccountOut
    key: IssuedKeyOut


class MeOut(BaseModel):
    account: AccountOut
    agent: AgentOut | None
    scopes: list[str]
