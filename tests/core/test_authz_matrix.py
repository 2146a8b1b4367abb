"""The authorization matrix: every route of the app x every kind of caller -> the expected status.

The table is keyed by the app's own route table, so a new route without an entry here fails
`test_every_route_has_an_entry`, and an entry for a removed route fails it too. MCP tools are held
to this same table: tests/mcp/test_authz.py maps each tool to the route it mirrors and expects
these statuses (the /mcp endpoint itself is an ASGI route without methods, so it is not listed
here). Each write runs on a fresh object, so one caller's success does not change what the next
one sees.

Callers: anonymous; the owner's human keys with each scope set (read; submit; read+submit); the
owner's agent's key; another author (not the owner); a moderator (read+submit+moderate); the same
moderator through a read-only key; an admin (every scope).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from starlette.routing import Mount, Route

from openxiv.accounts import service as accounts
from openxiv.app import create_app
from openxiv.config import Settings
from openxiv.db import make_engine, transaction
from openxiv.events import service as events
from openxiv.models import Base, Submission
from openxiv.runtime import Runtime
from openxiv.submissions.lifecycle import Status
from openxiv.submissions.service import HIDDEN_FROM_PUBLIC
from tests.core.helpers import auth, paper_body, pdf_bytes, register, version_body
from tests.review.external_helpers import review_body, vote_body

CALLERS = (
    "anonymous",
    "read",
    "submit_only",
    "owner",
    "agent",
    "other",
    "moderator",
    "moderator_readonly",
    "admin",
)


def expect(*codes: int) -> dict[str, int]:
    """Expected statuses in the order of CALLERS."""
    assert len(codes) == len(CALLERS)
    return dict(zip(CALLERS, codes, strict=True))


def everyone(code: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, code)


@dataclass
class World:
    client: TestClient
    runtime: Runtime
    tokens: dict[str, str]
    owner_email: str
    owner_account_id: int
    agent_id: int
    public_id: str  # a screened, public paper of the owner (with a PDF)
    held_id: str  # a paper of the owner that screening held
    counter: Iterator[int] = field(default_factory=itertools.count)

    def headers(self, caller: str) -> dict[str, str]:
        return {} if caller == "anonymous" else auth(self.tokens[caller])

    def new_paper(self, *, held: bool = False, by: str = "owner", **overrides: Any) -> str:
        response = self.client.post(
            "/api/v1/submissions", headers=auth(self.tokens[by]), json=paper_body(**overrides)
        )
        assert response.status_code == 201, response.text
        identifier = str(response.json()["id"])
        if held:
            # As screening would hold it, announced like every status change so the read models
            # that follow events (discovery's) drop it too.
            held_status = next(iter(HIDDEN_FROM_PUBLIC))
            with transaction(self.runtime.write_sessions) as session:
                session.execute(
                    update(Submission).where(Submission.identifier == identifier).values(status=held_status)
                )
                submission = session.scalars(
                    select(Submission).where(Submission.identifier == identifier)
                ).one()
                events.record_status(
                    session, submission, 1, "under_review", held_status, "held for the matrix"
                )
        return identifier

    def new_owner_key(self) -> int:
        response = self.client.post(
            "/api/v1/keys", headers=auth(self.tokens["owner"]), json={"scopes": ["read", "submit"]}
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("authz")
    settings = Settings(
        mode="dev",
        database_url=f"sqlite:///{tmp / 'db.sqlite'}",
        secret_key="authz-matrix",
        storage={"root": tmp / "blobs"},
        queue={"url": "immediate"},
        rate_limit={"enabled": False},
        uploads={"versions_per_hour": 0},  # every case submits afresh through the same few accounts
        review={"enabled": False},
        literature={"index_dir": tmp / "literature-index", "index_refresh_interval_s": 0.0},
        # every case comments afresh through the same few accounts, all of them new
        community={
            "comments_per_hour": 10_000,
            "comments_per_item_per_hour": 10_000,
            "new_account_comments_per_hour": 10_000,
            "reports_per_hour": 10_000,
        },
    )
    Base.metadata.create_all(make_engine(settings.database_url))
    runtime = Runtime(settings)
    with TestClient(create_app(settings, runtime)) as client:
        owner = register(client, email="owner@example.org")
        owner_key = owner["key"]["token"]

        def mint(scopes: list[str], **extra: Any) -> str:
            response = client.post("/api/v1/keys", headers=auth(owner_key), json={"scopes": scopes, **extra})
            assert response.status_code == 201, response.text
            return str(response.json()["token"])

        agent = client.post(
            "/api/v1/agents",
            headers=auth(owner_key),
            json={"name": "Scout", "model_identity": "genesys-lite/0.1", "organisation": "Lab"},
        ).json()
        other = register(client, email="other@example.org")["key"]["token"]
        with transaction(runtime.write_sessions) as session:

            def staff(email: str, roles: list[str], *scope_sets: list[str]) -> list[str]:
                account = accounts.register_account(
                    session,
                    email=email,
                    password="correct horse battery",
                    display_name=email,
                    roles=roles,
                    accept_policy=True,
                    policy_version=settings.policy_version,
                )
                return [accounts.issue_key(session, account, scopes=s).token for s in scope_sets]

            moderator, moderator_readonly = staff(
                "mod@example.org", ["author", "moderator"], ["read", "submit", "moderate"], ["read"]
            )
            (admin,) = staff(
                "admin@example.org", ["admin"], ["read", "submit", "review", "moderate", "admin"]
            )
        tokens = {
            "read": mint(["read"]),
            "submit_only": mint(["submit"]),
            "owner": owner_key,
            "agent": mint(["read", "submit"], agent_id=agent["id"]),
            "other": other,
            "moderator": moderator,
            "moderator_readonly": moderator_readonly,
            "admin": admin,
        }
        sha = client.post(
            "/api/v1/uploads",
            headers=auth(owner_key),
            files={"file": ("paper.pdf", pdf_bytes(), "application/pdf")},
        ).json()["sha256"]
        world = World(
            client=client,
            runtime=runtime,
            tokens=tokens,
            owner_email="owner@example.org",
            owner_account_id=owner["account"]["id"],
            agent_id=agent["id"],
            public_id="",
            held_id="",
        )
        world.public_id = world.new_paper(pdf_sha256=sha)
        world.held_id = world.new_paper(held=True, pdf_sha256=sha)
        yield world
    runtime.close()


@dataclass(frozen=True)
class Case:
    """How to call one route, and what each caller gets. `prepare` builds the request (a fresh
    object where the call changes state): it returns the path and keyword arguments."""

    expected: dict[str, int]
    prepare: Callable[[World], tuple[str, dict[str, Any]]]
    name: str = ""


def at(path: str, **kwargs: Any) -> Callable[[World], tuple[str, dict[str, Any]]]:
    """A fixed request; `{public}` / `{held}` / `{agent}` are filled from the world."""
    return lambda w: (path.format(public=w.public_id, held=w.held_id, agent=w.agent_id), kwargs)


def subscribed(w: World) -> tuple[str, dict[str, Any]]:
    """Every caller follows a category first (cases may run in any order, on any worker)."""
    for caller in CALLERS[1:]:
        w.client.put(
            "/api/v1/digests/subscription", headers=w.headers(caller), json={"categories": ["cs.LG"]}
        )
    return "/api/v1/digests/subscription", {}


def fresh_paper(
    suffix: str, body: dict[str, Any] | None = None
) -> Callable[[World], tuple[str, dict[str, Any]]]:
    return lambda w: (f"/api/v1/submissions/{w.new_paper()}{suffix}", {"json": body or {}})


def fresh_published(suffix: str, body: dict[str, Any]) -> Callable[[World], tuple[str, dict[str, Any]]]:
    """A fresh paper of the owner that the panel provisionally accepted (open to external votes)."""

    def prepare(w: World) -> tuple[str, dict[str, Any]]:
        identifier = w.new_paper()
        with transaction(w.runtime.write_sessions) as session:
            session.execute(
                update(Submission)
                .where(Submission.identifier == identifier)
                .values(status=Status.PROVISIONALLY_ACCEPTED.value)
            )
        return f"/api/v1/submissions/{identifier}{suffix}", {"json": body}

    return prepare


def fresh_held(suffix: str, body: dict[str, Any]) -> Callable[[World], tuple[str, dict[str, Any]]]:
    return lambda w: (f"/api/v1/submissions/{w.new_paper(held=True)}{suffix}", {"json": body})


def claimed_by_other(w: World) -> str:
    """A fresh paper of another author that lists the owner's account as a co-author."""
    authors = [
        {"kind": "human", "name": "Other Person"},
        {"kind": "human", "account_id": w.owner_account_id},
    ]
    return w.new_paper(by="other", authors=authors)


def fresh_owner_key(w: World) -> tuple[str, dict[str, Any]]:
    return f"/api/v1/keys/{w.new_owner_key()}", {}


def new_account(w: World) -> tuple[str, dict[str, Any]]:
    n = next(w.counter)
    body = {
        "email": f"new{n}@example.org",
        "password": "correct horse battery",
        "display_name": "New",
        "accept_policy": True,
    }
    return "/api/v1/accounts", {"json": body}


def owner_webhook(w: World) -> int:
    """A fresh webhook of the owner's human key (its receiver is a closed loopback port); the
    earlier ones go first, so the cases stay under the per-account limit."""
    from openxiv.models import Webhook, WebhookDelivery

    with transaction(w.runtime.write_sessions) as session:
        hooks = session.scalars(select(Webhook).where(Webhook.owner_id == w.owner_account_id)).all()
        for delivery in session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.webhook_id.in_([h.id for h in hooks]))
        ):
            session.delete(delivery)
        session.flush()
        for hook in hooks:
            session.delete(hook)
    response = w.client.post(
        "/api/v1/webhooks", headers=auth(w.tokens["owner"]), json={"url": "http://127.0.0.1:9/hook"}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def failed_delivery(w: World) -> tuple[str, dict[str, Any]]:
    """A delivery of a fresh owner webhook that gave up (so it may be replayed)."""
    from openxiv.models import WebhookDelivery

    hook = owner_webhook(w)
    w.new_paper()
    with transaction(w.runtime.write_sessions) as session:
        delivery = session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook)).first()
        assert delivery is not None
        delivery.status = "failed"
        delivery_id = delivery.id
    return f"/api/v1/webhooks/{hook}/deliveries/{delivery_id}/replay", {}


def new_comment(w: World, by: str = "other", body: str = "A comment") -> int:
    """A fresh comment on the public paper."""
    response = w.client.post(
        f"/api/v1/submissions/{w.public_id}/comments", headers=auth(w.tokens[by]), json={"body": body}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def on_comment(
    suffix: str, by: str = "other", body: dict[str, Any] | None = None
) -> Callable[[World], tuple[str, dict[str, Any]]]:
    def prepare(w: World) -> tuple[str, dict[str, Any]]:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        return f"/api/v1/comments/{new_comment(w, by)}{suffix}", kwargs

    return prepare


def hidden_owner_comment(w: World) -> int:
    """The id of the admin's hide of a fresh comment by the owner (human key)."""
    response = w.client.post(
        "/api/v1/moderation/actions",
        headers=auth(w.tokens["admin"]),
        json={"action": "hide", "comment_id": new_comment(w, "owner"), "reason": "off topic"},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def open_appeal(w: World) -> tuple[str, dict[str, Any]]:
    response = w.client.post(
        f"/api/v1/moderation/actions/{hidden_owner_comment(w)}/appeal",
        headers=auth(w.tokens["owner"]),
        json={"statement": "it was on topic"},
    )
    assert response.status_code == 201, response.text
    path = f"/api/v1/moderation/appeals/{response.json()['id']}/decision"
    return path, {"json": {"decision": "deny", "reason": "checked"}}


def upload(_: World) -> tuple[str, dict[str, Any]]:
    return "/api/v1/uploads", {"files": {"file": ("p.pdf", pdf_bytes(), "application/pdf")}}


# Who sees a held item: the owner's credentials (any scope) and moderators with `moderate`.
HIDDEN = expect(404, 200, 200, 200, 200, 404, 200, 404, 200)
SUBMITTERS = expect(401, 403, 201, 201, 201, 201, 201, 403, 201)
MODERATORS = expect(401, 403, 403, 403, 403, 403, 200, 403, 200)
# External reviews and votes: the `review` scope, held by the admin alone here (who is not on the
# work's side). On a held item those who cannot see it get 404; the admin passes the checks and
# finds it closed (409).
EXTERNAL_REVIEWERS = expect(401, 403, 403, 403, 403, 403, 403, 403, 201)
EXTERNAL_ON_HELD = expect(401, 403, 403, 403, 403, 404, 403, 404, 409)
SIGNED_IN = expect(401, 200, 200, 200, 200, 200, 200, 200, 200)
ACCOUNT_READERS = expect(401, 200, 403, 200, 200, 200, 200, 200, 200)
# Likes: `submit` on the credential (an agent likes as itself).
ENGAGERS = expect(401, 403, 200, 200, 200, 200, 200, 403, 200)
# A webhook of the owner's human key: the owner's human credentials with `read` (not the agent's).
OWNERS_WEBHOOK = expect(401, 200, 403, 200, 404, 404, 404, 404, 404)


def public_and_held(suffix: str) -> list[Case]:
    return [
        Case(everyone(200), at(f"/api/v1/submissions/{{public}}{suffix}"), "public"),
        Case(HIDDEN, at(f"/api/v1/submissions/{{held}}{suffix}"), "held"),
    ]


MATRIX: dict[tuple[str, str], list[Case]] = {
    # ---- accounts, agents, keys
    ("POST", "/api/v1/accounts"): [Case(everyone(201), new_account)],
    ("POST", "/api/v1/auth/keys"): [
        Case(
            everyone(201),
            at("/api/v1/auth/keys", json={"email": "owner@example.org", "password": "correct horse battery"}),
        )
    ],
    ("GET", "/api/v1/me"): [Case(SIGNED_IN, at("/api/v1/me"))],
    ("POST", "/api/v1/agents"): [
        # an agent's key cannot register agents; read-only keys cannot either
        Case(
            expect(401, 403, 201, 201, 403, 201, 201, 403, 201),
            lambda w: (
                "/api/v1/agents",
                {"json": {"name": f"Agent {next(w.counter)}", "model_identity": "m", "organisation": "o"}},
            ),
        )
    ],
    ("GET", "/api/v1/agents"): [Case(ACCOUNT_READERS, at("/api/v1/agents"))],
    ("GET", "/api/v1/agents/{agent_id}"): [
        Case(expect(401, 200, 403, 200, 200, 404, 404, 404, 404), at("/api/v1/agents/{agent}"))
    ],
    ("POST", "/api/v1/keys"): [
        # read+submit: only credentials holding both; an agent's key only for its own agent
        Case(
            expect(401, 403, 403, 201, 403, 201, 201, 403, 201),
            at("/api/v1/keys", json={"scopes": ["read", "submit"]}),
        ),
        Case(
            expect(401, 403, 403, 201, 201, 404, 404, 404, 404),
            lambda w: ("/api/v1/keys", {"json": {"scopes": ["read", "submit"], "agent_id": w.agent_id}}),
            "for the agent",
        ),
    ],
    ("GET", "/api/v1/keys"): [Case(ACCOUNT_READERS, at("/api/v1/keys"))],
    ("DELETE", "/api/v1/keys/{key_id}"): [
        # the owner's read+submit key: only the owner's credentials holding both scopes
        Case(expect(401, 403, 403, 200, 404, 404, 404, 404, 404), fresh_owner_key)
    ],
    # ---- submissions
    ("POST", "/api/v1/uploads"): [Case(SUBMITTERS, upload)],
    ("POST", "/api/v1/submissions"): [Case(SUBMITTERS, at("/api/v1/submissions", json=paper_body()))],
    ("GET", "/api/v1/submissions"): [Case(everyone(200), at("/api/v1/submissions"))],
    ("GET", "/api/v1/submissions/{identifier}"): public_and_held(""),
    ("GET", "/api/v1/submissions/{identifier}/versions"): public_and_held("/versions"),
    ("POST", "/api/v1/submissions/{identifier}/versions"): [
        Case(expect(401, 403, 201, 201, 201, 403, 403, 403, 403), fresh_paper("/versions", version_body()))
    ],
    ("POST", "/api/v1/submissions/{identifier}/withdraw"): [
        # a moderator's read-only key cannot withdraw somebody's work
        Case(expect(401, 403, 200, 200, 200, 403, 200, 403, 200), fresh_paper("/withdraw", {"reason": "x"}))
    ],
    ("POST", "/api/v1/submissions/{identifier}/authorship"): [
        Case(
            expect(401, 403, 200, 200, 404, 404, 404, 403, 404),
            lambda w: (
                f"/api/v1/submissions/{claimed_by_other(w)}/authorship",
                {"json": {"decision": "confirm"}},
            ),
        )
    ],
    # ---- publishing: citations follow the item's visibility; failed DOIs are retried by moderators
    ("GET", "/api/v1/submissions/{identifier}/cite"): public_and_held("/cite"),
    ("GET", "/api/v1/submissions/{identifier}/dois"): public_and_held("/dois"),
    ("POST", "/api/v1/submissions/{identifier}/dois/retry"): [
        Case(MODERATORS, at("/api/v1/submissions/{public}/dois/retry"))
    ],
    ("GET", "/api/v1/moderation/held"): [Case(MODERATORS, at("/api/v1/moderation/held"))],
    ("POST", "/api/v1/submissions/{identifier}/moderation"): [
        Case(MODERATORS, fresh_held("/moderation", {"decision": "reject", "reason": "checked"}))
    ],
    ("GET", "/api/v1/submissions/{identifier}/transitions"): public_and_held("/transitions"),
    ("GET", "/api/v1/submissions/{identifier}/stages"): public_and_held("/stages"),
    ("GET", "/api/v1/submissions/{identifier}/text"): public_and_held("/text"),
    ("GET", "/api/v1/submissions/{identifier}/pdf"): public_and_held("/pdf"),
    ("GET", "/api/v1/submissions/{identifier}/source"): public_and_held("/source"),
    ("GET", "/api/v1/submissions/{identifier}/integrity"): public_and_held("/integrity"),
    ("GET", "/api/v1/submissions/{identifier}/reviews"): public_and_held("/reviews"),
    ("GET", "/api/v1/submissions/{identifier}/calls"): public_and_held("/calls"),
    ("GET", "/api/v1/submissions/{identifier}/trajectory"): public_and_held("/trajectory"),
    ("POST", "/api/v1/submissions/{identifier}/external-reviews"): [
        Case(
            EXTERNAL_REVIEWERS, fresh_published("/external-reviews", review_body()), "provisionally accepted"
        ),
        Case(EXTERNAL_ON_HELD, fresh_held("/external-reviews", review_body()), "held"),
    ],
    ("GET", "/api/v1/submissions/{identifier}/external-reviews"): public_and_held("/external-reviews"),
    ("POST", "/api/v1/submissions/{identifier}/external-votes"): [
        Case(EXTERNAL_REVIEWERS, fresh_published("/external-votes", vote_body()), "provisionally accepted"),
        Case(EXTERNAL_ON_HELD, fresh_held("/external-votes", vote_body()), "held"),
    ],
    ("GET", "/api/v1/submissions/{identifier}/external-votes"): public_and_held("/external-votes"),
    ("GET", "/api/v1/literature/search"): [
        Case(everyone(200), at("/api/v1/literature/search", params={"q": "warm-up"}))
    ],
    # ---- events (a bounded stream: `timeout` ends it) and webhooks (the `read` scope; an agent's
    # key sees only the agent's own webhooks)
    # ---- discovery and experience data: public reads; a digest subscription is the caller's own
    ("GET", "/api/v1/search"): [Case(everyone(200), at("/api/v1/search", params={"q": "warm-up"}))],
    ("GET", "/api/v1/trajectories"): [Case(everyone(200), at("/api/v1/trajectories"))],
    ("GET", "/feeds/{feed_file}"): [Case(everyone(200), at("/feeds/latest.atom"))],
    ("GET", "/oai"): [Case(everyone(200), at("/oai", params={"verb": "Identify"}))],
    ("POST", "/oai"): [Case(everyone(200), at("/oai", data={"verb": "Identify"}))],
    ("GET", "/api/daily_papers"): [Case(everyone(200), at("/api/daily_papers"))],
    ("GET", "/api/papers/search"): [Case(everyone(200), at("/api/papers/search", params={"q": "warm-up"}))],
    ("GET", "/api/papers/{paper_id}"): [
        Case(everyone(200), at("/api/papers/{public}"), "public"),
        Case(everyone(404), at("/api/papers/{held}"), "held: not in the public read model"),
    ],
    ("PUT", "/api/v1/digests/subscription"): [
        Case(SIGNED_IN, at("/api/v1/digests/subscription", json={"categories": ["cs.LG"]}))
    ],
    ("GET", "/api/v1/digests/subscription"): [Case(SIGNED_IN, subscribed)],
    ("DELETE", "/api/v1/digests/subscription"): [
        Case(expect(401, 204, 204, 204, 204, 204, 204, 204, 204), subscribed)
    ],
    ("GET", "/api/v1/events"): [
        Case(everyone(200), at("/api/v1/events", params={"timeout": 0.2})),
        Case(
            expect(401, 200, 200, 200, 200, 200, 200, 200, 200),
            at("/api/v1/events", params={"timeout": 0.2, "mine": "true"}),
            "mine",
        ),
        Case(
            HIDDEN,
            lambda w: ("/api/v1/events", {"params": {"timeout": 0.2, "submission": w.held_id}}),
            "held",
        ),
    ],
    ("POST", "/api/v1/webhooks"): [
        Case(
            expect(401, 201, 403, 201, 201, 201, 201, 201, 201),
            at("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}),
        )
    ],
    ("GET", "/api/v1/webhooks"): [Case(ACCOUNT_READERS, at("/api/v1/webhooks"))],
    ("GET", "/api/v1/webhooks/{webhook_id}"): [
        Case(OWNERS_WEBHOOK, lambda w: (f"/api/v1/webhooks/{owner_webhook(w)}", {}))
    ],
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): [
        Case(OWNERS_WEBHOOK, lambda w: (f"/api/v1/webhooks/{owner_webhook(w)}", {}))
    ],
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): [
        Case(OWNERS_WEBHOOK, lambda w: (f"/api/v1/webhooks/{owner_webhook(w)}/deliveries", {}))
    ],
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"): [
        Case(expect(401, 202, 403, 202, 404, 404, 404, 404, 404), failed_delivery)
    ],
    # ---- community: likes, comments, reports (the `submit` scope), moderation (role + scope)
    ("GET", "/api/v1/submissions/{identifier}/like"): public_and_held("/like"),
    ("PUT", "/api/v1/submissions/{identifier}/like"): [
        Case(ENGAGERS, at("/api/v1/submissions/{public}/like"))
    ],
    ("DELETE", "/api/v1/submissions/{identifier}/like"): [
        Case(ENGAGERS, at("/api/v1/submissions/{public}/like"))
    ],
    ("PUT", "/api/v1/comments/{comment_id}/like"): [Case(ENGAGERS, on_comment("/like"))],
    ("DELETE", "/api/v1/comments/{comment_id}/like"): [Case(ENGAGERS, on_comment("/like"))],
    ("GET", "/api/v1/submissions/{identifier}/comments"): public_and_held("/comments"),
    ("POST", "/api/v1/submissions/{identifier}/comments"): [
        Case(SUBMITTERS, at("/api/v1/submissions/{public}/comments", json={"body": "Nice"}), "public"),
        Case(
            expect(401, 403, 201, 201, 201, 404, 201, 403, 201),
            at("/api/v1/submissions/{held}/comments", json={"body": "Nice"}),
            "held",
        ),
    ],
    ("POST", "/api/v1/comments/{comment_id}/replies"): [
        Case(SUBMITTERS, on_comment("/replies", body={"body": "Agreed"}))
    ],
    ("GET", "/api/v1/comments/{comment_id}"): [Case(everyone(200), on_comment(""))],
    ("PATCH", "/api/v1/comments/{comment_id}"): [
        # only the author: here `other` wrote it
        Case(expect(401, 403, 403, 403, 403, 200, 403, 403, 403), on_comment("", body={"body": "Edited"}))
    ],
    ("DELETE", "/api/v1/comments/{comment_id}"): [
        # the owner's human comment: the owner's human keys with `submit`, not the owner's agent
        Case(expect(401, 403, 200, 200, 403, 403, 403, 403, 403), on_comment("", by="owner"))
    ],
    ("GET", "/api/v1/comments/{comment_id}/history"): [Case(everyone(200), on_comment("/history"))],
    ("POST", "/api/v1/submissions/{identifier}/reports"): [
        Case(SUBMITTERS, fresh_paper("/reports", {"category": "spam"}))
    ],
    ("POST", "/api/v1/comments/{comment_id}/reports"): [
        Case(SUBMITTERS, on_comment("/reports", body={"category": "spam"}))
    ],
    ("GET", "/api/v1/moderation/queue"): [Case(MODERATORS, at("/api/v1/moderation/queue"))],
    ("POST", "/api/v1/moderation/actions"): [
        Case(
            expect(401, 403, 403, 403, 403, 403, 201, 403, 201),
            lambda w: (
                "/api/v1/moderation/actions",
                {"json": {"action": "hide", "comment_id": new_comment(w), "reason": "spam"}},
            ),
        )
    ],
    ("GET", "/api/v1/moderation/actions"): [Case(MODERATORS, at("/api/v1/moderation/actions"))],
    ("POST", "/api/v1/moderation/actions/{action_id}/appeal"): [
        # the hidden comment's author: the owner's account, through any credential with `submit`
        Case(
            expect(401, 403, 201, 201, 201, 403, 403, 403, 403),
            lambda w: (
                f"/api/v1/moderation/actions/{hidden_owner_comment(w)}/appeal",
                {"json": {"statement": "please look again"}},
            ),
        )
    ],
    ("POST", "/api/v1/moderation/appeals/{appeal_id}/decision"): [Case(MODERATORS, open_appeal)],
    ("GET", "/api/v1/moderation/notices"): [Case(ACCOUNT_READERS, at("/api/v1/moderation/notices"))],
    # ---- documents and pages (bearer keys work on pages too; forms need the session's CSRF token)
    ("GET", "/openapi.json"): [Case(everyone(200), at("/openapi.json"))],
    ("GET", "/api/docs"): [Case(everyone(200), at("/api/docs"))],
    ("GET", "/"): [Case(everyone(200), at("/"))],
    ("GET", "/abs/{identifier}"): [
        Case(everyone(200), at("/abs/{public}"), "public"),
        Case(HIDDEN, at("/abs/{held}"), "held"),
    ],
    ("GET", "/abs"): [Case(everyone(404), at("/abs"))],
    ("GET", "/login"): [Case(everyone(200), at("/login"))],
    ("GET", "/register"): [Case(everyone(200), at("/register"))],
    ("GET", "/account"): [Case(expect(303, 200, 200, 200, 200, 200, 200, 200, 200), at("/account"))],
    ("GET", "/moderation"): [Case(expect(303, 403, 403, 403, 403, 403, 200, 403, 200), at("/moderation"))],
    ("POST", "/login"): [
        Case(
            everyone(403),
            at("/login", data={"email": "owner@example.org", "password": "x", "csrf": "forged"}),
        )
    ],
    ("POST", "/logout"): [Case(everyone(403), at("/logout", data={"csrf": "forged"}))],
    ("POST", "/account/authorship/{identifier}"): [
        Case(
            expect(303, 403, 403, 403, 403, 403, 403, 403, 403),
            lambda w: (
                f"/account/authorship/{claimed_by_other(w)}",
                {"data": {"decision": "confirm", "csrf": "forged"}},
            ),
            "forged CSRF",
        )
    ],
    ("POST", "/register"): [
        Case(
            everyone(403),
            at(
                "/register",
                data={"email": "z@example.org", "password": "p" * 12, "display_name": "Z", "csrf": "forged"},
            ),
        )
    ],
    ("POST", "/moderation/{identifier}"): [
        Case(
            expect(303, 403, 403, 403, 403, 403, 403, 403, 403),
            lambda w: (
                f"/moderation/{w.new_paper(held=True)}",
                {"data": {"decision": "reject", "reason": "r", "csrf": "forged"}},
            ),
            "forged CSRF",
        )
    ],
    # ---- web UI pages (tests/web): reads follow the API's visibility; every form checks CSRF first
    ("GET", "/abs/{identifier}/diff"): [
        Case(everyone(200), at("/abs/{public}/diff"), "public"),
        Case(HIDDEN, at("/abs/{held}/diff"), "held"),
    ],
    ("GET", "/abs/{identifier}/integrity/page/{page}.png"): [
        Case(everyone(200), at("/abs/{public}/integrity/page/1.png"), "public"),
        Case(HIDDEN, at("/abs/{held}/integrity/page/1.png"), "held"),
    ],
    ("GET", "/abs/{identifier}/revise"): [
        Case(expect(303, 403, 200, 200, 200, 403, 403, 403, 403), at("/abs/{public}/revise"))
    ],
    ("GET", "/submit"): [Case(expect(303, 403, 200, 200, 200, 200, 200, 403, 200), at("/submit"))],
    # The wizard's live preview (fetched by its script): a fragment, so no redirect to sign in.
    ("POST", "/submit/preview"): [
        Case(expect(401, *[403] * 8), at("/submit/preview", data={"source_text": "# t", "csrf": "forged"}))
    ],
    ("GET", "/account/webhooks/{webhook_id}"): [
        Case(
            expect(303, 200, 403, 200, 404, 404, 404, 404, 404),
            lambda w: (f"/account/webhooks/{owner_webhook(w)}", {}),
        )
    ],
    ("POST", "/theme"): [Case(everyone(403), at("/theme", data={"theme": "dark", "csrf": "forged"}))],
    **{
        ("POST", path): [Case(expect(303, *[403] * 8), prepare, "forged CSRF")]
        for path, prepare in (
            ("/submit", at("/submit", data={"title": "t", "csrf": "forged"})),
            ("/abs/{identifier}/revise", at("/abs/{public}/revise", data={"title": "t", "csrf": "forged"})),
            (
                "/abs/{identifier}/comments",
                at("/abs/{public}/comments", data={"body": "b", "csrf": "forged"}),
            ),
            ("/abs/{identifier}/like", at("/abs/{public}/like", data={"liked": "1", "csrf": "forged"})),
            (
                "/account/agents",
                at(
                    "/account/agents",
                    data={"name": "n", "model_identity": "m", "organisation": "o", "csrf": "forged"},
                ),
            ),
            ("/account/keys", at("/account/keys", data={"scopes": ["read"], "csrf": "forged"})),
            (
                "/account/keys/{key_id}/revoke",
                lambda w: (f"/account/keys/{w.new_owner_key()}/revoke", {"data": {"csrf": "forged"}}),
            ),
            (
                "/account/webhooks",
                at("/account/webhooks", data={"url": "https://example.org/h", "csrf": "forged"}),
            ),
            (
                "/account/webhooks/{webhook_id}/delete",
                lambda w: (f"/account/webhooks/{owner_webhook(w)}/delete", {"data": {"csrf": "forged"}}),
            ),
            (
                "/moderation/act",
                at(
                    "/moderation/act",
                    data={"identifier": "{public}", "action": "hide", "reason": "r", "csrf": "forged"},
                ),
            ),
            (
                "/moderation/appeals/{appeal_id}",
                at("/moderation/appeals/1", data={"decision": "deny", "reason": "r", "csrf": "forged"}),
            ),
        )
    },
}


def _route_table(tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, included routers flattened."""
    settings = Settings(mode="dev", secret_key="x", database_url=f"sqlite:///{tmp_path / 'routes.db'}")
    routes = set()
    for route in create_app(settings).routes:
        if isinstance(route, Mount):  # /static serves files, not actions
            continue
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI >= 0.16x)
            endpoints = [(c.path, c.methods) for c in route.effective_route_contexts()]
        else:
            assert isinstance(route, Route), f"a kind of route this test does not know: {route!r}"
            endpoints = [(route.path, route.methods)]
        routes.update((m, path) for path, methods in endpoints for m in methods or () if m != "HEAD")
    return routes


def test_every_route_has_an_entry(tmp_path: Path) -> None:
    routes = _route_table(tmp_path)
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"routes without an authorization entry in MATRIX: {missing}"
    assert not stale, f"MATRIX entries for routes that no longer exist: {stale}"


def _cases() -> list[Any]:
    return [
        pytest.param(method, case, id=f"{method} {path}{' (' + case.name + ')' if case.name else ''}")
        for (method, path), cases in MATRIX.items()
        for case in cases
    ]


@pytest.mark.parametrize("method,case", _cases())
def test_each_caller_gets_the_expected_status(world: World, method: str, case: Case) -> None:
    wrong = {}
    for caller, expected in case.expected.items():
        path, kwargs = case.prepare(world)
        response = world.client.request(
            method, path, headers=world.headers(caller), follow_redirects=False, **kwargs
        )
        if response.status_code != expected:
            wrong[caller] = (expected, response.status_code, response.text[:200])
    assert not wrong, f"{method} {path}: caller -> (expected, got, body): {wrong}"
