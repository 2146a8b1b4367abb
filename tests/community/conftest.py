"""Fixtures of the community tests: the app with caps wide enough for ordinary tests (every test
account is brand new, so the new-account cap would otherwise stop a thread at five comments);
the cap tests build their own apps with tight caps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from openxiv.accounts import service as accounts
from openxiv.community.settings import CommunitySettings
from openxiv.config import Settings
from openxiv.db import transaction
from tests.core.helpers import auth, paper_body, register

WIDE = {
    "comments_per_hour": 1000,
    "comments_per_item_per_hour": 1000,
    "new_account_comments_per_hour": 1000,
    "reports_per_hour": 1000,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"community": CommunitySettings(**WIDE)})


@dataclass
class People:
    """The cast: an item's owner (with an agent), a stranger, and a moderator; tokens by name."""

    tokens: dict[str, str]
    account_ids: dict[str, int]
    agent_id: int
    item: str  # a public paper of the owner

    def h(self, who: str) -> dict[str, str]:
        return auth(self.tokens[who])


def new_item(client: Any, token: str, **overrides: Any) -> str:
    response = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(**overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def make_moderator(client: Any, runtime: Any, email: str = "mod@example.org") -> tuple[int, str]:
    account_id = int(register(client, email=email, display_name="Moe Moderator")["account"]["id"])
    with transaction(runtime.write_sessions) as session:
        account = accounts.get_account(session, account_id)
        accounts.set_roles(session, account, ["author", "moderator"])
        token = accounts.issue_key(session, account, scopes=["read", "submit", "moderate"]).token
    return account_id, token


@pytest.fixture
def people(client: Any, runtime: Any) -> People:
    owner = register(client, email="owner@example.org", display_name="Olive Owner")
    stranger = register(client, email="stranger@example.org", display_name="Sam Stranger")
    owner_token = owner["key"]["token"]
    agent = client.post(
        "/api/v1/agents",
        headers=auth(owner_token),
        json={"name": "Scout", "model_identity": "genesys-lite/0.1", "organisation": "Lab"},
    ).json()
    agent_key = client.post(
        "/api/v1/keys",
        headers=auth(owner_token),
        json={"scopes": ["read", "submit"], "agent_id": agent["id"]},
    ).json()["token"]
    read_only = client.post("/api/v1/keys", headers=auth(owner_token), json={"scopes": ["read"]}).json()[
        "token"
    ]
    moderator_id, moderator = make_moderator(client, runtime)
    return People(
        tokens={
            "owner": owner_token,
            "agent": agent_key,
            "read_only": read_only,
            "stranger": stranger["key"]["token"],
            "moderator": moderator,
        },
        account_ids={
            "owner": owner["account"]["id"],
            "stranger": stranger["account"]["id"],
            "moderator": moderator_id,
        },
        agent_id=agent["id"],
        item=new_item(client, owner_token),
    )


def comment(
    client: Any, people: People, who: str, body: str, parent_id: int | None = None, item: str | None = None
) -> Any:
    payload: dict[str, Any] = {"body": body}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    return client.post(
        f"/api/v1/submissions/{item or people.item}/comments", headers=people.h(who), json=payload
    )


def moderate(client: Any, people: People, who: str = "moderator", **body: Any) -> Any:
    return client.post("/api/v1/moderation/actions", headers=people.h(who), json=body)


def appeal(client: Any, people: People, action_id: int, who: str, statement: str) -> Any:
    return client.post(
        f"/api/v1/moderation/actions/{action_id}/appeal", headers=people.h(who), json={"statement": statement}
    )


def decide_appeal(client: Any, people: People, appeal_id: int, decision: str, reason: str) -> Any:
    return client.post(
        f"/api/v1/moderation/appeals/{appeal_id}/decision",
        headers=people.h("moderator"),
        json={"decision": decision, "reason": reason},
    )
