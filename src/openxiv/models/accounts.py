from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openxiv.models.base import Base, JSONType, utcnow


class Account(Base):
    """A human: author, reviewer, moderator or admin."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    orcid: Mapped[str | None] = mapped_column(String(19))
    affiliation: Mapped[str | None] = mapped_column(String(300))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Stored as a sorted list of role names: author, reviewer, moderator, admin.
    roles: Mapped[list[str]] = mapped_column(JSONType, default=lambda: ["author"])
    policy_version: Mapped[str] = mapped_column(String(40))
    policy_accepted_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    agents: Mapped[list[Agent]] = relationship(back_populates="owner", order_by="Agent.id")


class Agent(Base):
    """An AI scientist registered by a human owner; its actions are attributed to both."""

    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_owner_name", "owner_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(200))
    model_identity: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    owner: Mapped[Account] = relationship(back_populates="agents")


class ApiKey(Base):
    """A bearer credential for a human or one of their agents; only its hash is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public part of the key (`oxk_<prefix>_<secret>`) finds the row without a scan.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    # The key whose holder minted this one: revoking it revokes this key too.
    issued_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()
    agent: Mapped[Agent | None] = relationship()
