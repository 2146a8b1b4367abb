"""External reviewers: the upgrade rule on its own, then reviews and votes through the REST API on
both databases (who may review, one per reviewer, the upgrade to accepted with its evidence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mcp import Client
from openxiv.accounts import service as accounts
from openxiv.config import Settings
from openxiv.db import transaction
from openxiv.events import types as event_types
from openxiv.mcp import stdio
from openxiv.mcp.registry import DEFAULT_TOOLSETS
from openxiv.models import Event, Submission
from openxiv.models.review import ExternalVote
from openxiv.review.decision import Ballot, Outcome, UpgradePolicy, decide_upgrade
from openxiv.review.settings import ReviewSettings
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status, can_transition
from openxiv.submissions.service import SystemActor, transition
from tests.core.helpers import auth, paper_body, register
from tests.review.external_helpers import model, report, review_body, vote_body

# ----------------------------------------------------------------------------- the pure rule

POLICY = UpgradePolicy(min_evaluations=3, min_families=2, min_owners=2)


def votes(*specs: str) -> list[Ballot]:
    """Each spec is 'A|R family owner' (accept or reject, the model family, the owner)."""
    out = []
    for n, spec in enumerate(specs):
        mark, family, owner = spec.split()
        out.append(
            Ballot(decision="accept" if mark == "A" else "reject", voter=f"v{n}", family=family, owner=owner)
        )
    return out


@pytest.mark.parametrize(
    ("ballots", "policy", "outcome", "families", "owners", "share"),
    [
        pytest.param([], POLICY, Outcome.PENDING, 0, 0, 0.0, id="no votes"),
        pytest.param(votes("A claude o1", "A gpt o2"), POLICY, Outcome.PENDING, 2, 2, 1.0, id="too few"),
        pytest.param(
            votes("A gpt o1", "A GPT o2", "A  gpt o3"), POLICY, Outcome.PENDING, 1, 3, 1.0, id="one family"
        ),
        pytest.param(
            votes("A claude o1", "A gpt o1", "A llama o1"), POLICY, Outcome.PENDING, 3, 1, 1.0, id="one owner"
        ),
        pytest.param(
            votes("A claude o1", "A gpt o2", "A claude o2"), POLICY, Outcome.ACCEPT, 2, 2, 1.0, id="diverse"
        ),
        pytest.param(
            votes("A claude o1", "A gpt o2", "R llama o3"), POLICY, Outcome.ACCEPT, 3, 3, 0.6667, id="2 of 3"
        ),
        pytest.param(
            votes("A claude o1", "R gpt o2", "R llama o3"),
            POLICY,
            Outcome.REJECT,
            3,
            3,
            0.3333,
            id="negative",
        ),
        # an even split between two owners is no majority
        pytest.param(
            votes("A claude o1", "A gpt o1", "R llama o2", "R qwen o2"),
            POLICY,
            Outcome.REJECT,
            4,
            2,
            0.5,
            id="tie",
        ),
        # one owner's three accepting agents weigh as one owner against two rejecting owners
        pytest.param(
            votes("A claude o1", "A gpt o1", "A llama o1", "R qwen o2", "R mistral o3"),
            POLICY,
            Outcome.REJECT,
            5,
            3,
            0.3333,
            id="one owner's many agents",
        ),
        # people: each one a family of their own
        pytest.param(
            votes("A human:7 o7", "A human:8 o8", "A human:9 o9"),
            POLICY,
            Outcome.ACCEPT,
            3,
            3,
            1.0,
            id="people",
        ),
        pytest.param(votes("A gpt o1"), UpgradePolicy(1, 1, 1), Outcome.ACCEPT, 1, 1, 1.0, id="bars off"),
        pytest.param(
            votes("A gpt o1", "A gpt o2", "A gpt o3", "A gpt o4"),
            UpgradePolicy(4, 2, 1),
            Outcome.PENDING,
            1,
            4,
            1.0,
            id="N met, M not",
        ),
    ],
)
def test_the_upgrade_policy(
    ballots: list[Ballot], policy: UpgradePolicy, outcome: Outcome, families: int, owners: int, share: float
) -> None:
    decision = decide_upgrade(ballots, policy)
    tally = decision.tally
    assert decision.outcome == outcome
    assert decision.status == (
        Status.ACCEPTED if outcome == Outcome.ACCEPT else Status.PROVISIONALLY_ACCEPTED
    )
    assert (len(tally.families), len(tally.owners), tally.accept_share) == (families, owners, share)  # type: ignore[attr-defined]
    assert can_transition(Status.PROVISIONALLY_ACCEPTED, Status.ACCEPTED)
    assert tally.cast == len(ballots)
    summary = decision.summary
    if outcome == Outcome.ACCEPT:
        assert summary.endswith("accepted: enough diverse external reviewers accept it")
    else:
        assert "stays provisionally accepted" in summary


def test_the_reasons_carry_the_evidence() -> None:
    decision = decide_upgrade(votes("A claude o1", "A gpt o2", "R claude o2"), POLICY)
    assert decision.reasons[:4] == (
        "external: 2/3 accept (needs at least 3 evaluations)",
        "model families: 2 (claude, gpt; needs 2)",
        "owners: 2 (needs 2)",
        "owner-weighted accept share 0.75 (needs more than 0.50)",
    )
    assert "voters: v0, v1, v2" in decision.reasons
    missing = decide_upgrade(votes("A gpt o1", "A gpt o1"), POLICY)
    assert missing.reasons[-1] == (
        "stays provisionally accepted: only 2 of 3 external evaluations, 1 of 2 model families, 1 of 2 owners"
    )


def test_the_policy_comes_from_the_review_settings() -> None:
    settings = ReviewSettings(external_min_evaluations=5, external_min_families=3, external_min_owners=4)
    assert UpgradePolicy.from_settings(settings) == UpgradePolicy(5, 3, 4)
    assert UpgradePolicy.from_settings(ReviewSettings()) == UpgradePolicy(3, 2, 2)


# ------------------------------------------------------------------------------- over REST


@dataclass
class Reviewer:
    account_id: int
    token: str  # the person's own key (read, review)
    agents: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (agent id, key)

    def agent(self, name: str) -> dict[str, str]:
        return auth(self.agents[name][1])


def reviewer(
    runtime: Any, settings: Settings, email: str, *agent_names: str, roles: list[str] | None = None
) -> Reviewer:
    with transaction(runtime.write_sessions) as session:
        account = accounts.register_account(
            session,
            email=email,
            password="correct horse battery",
            display_name=email.split("@")[0],
            roles=roles or ["author", "reviewer"],
            accept_policy=True,
            policy_version=settings.policy_version,
        )
        person = Reviewer(account.id, accounts.issue_key(session, account, scopes=["read", "review"]).token)
        for name in agent_names:
            agent = accounts.create_agent(
                session, account, name=name, model_identity=f"{name}/1", organisation="Lab"
            )
            key = accounts.issue_key(session, account, scopes=["read", "review"], agent=agent)
            person.agents[name] = (agent.id, key.token)
    return person


def provisionally_accepted(client: Any, runtime: Any, token: str, **overrides: Any) -> str:
    """A paper screened into review (review is off in the tests), then passed by the panel."""
    response = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(**overrides))
    assert response.status_code == 201, response.text
    identifier = str(response.json()["id"])
    with transaction(runtime.write_sessions) as session:
        submission = repository.by_identifier(session, identifier)
        assert submission is not None and submission.status == Status.UNDER_REVIEW
        transition(
            session, submission, Status.PROVISIONALLY_ACCEPTED, SystemActor("test:panel"), "panel accepts"
        )
    return identifier


def status_of(client: Any, identifier: str) -> str:
    return str(client.get(f"/api/v1/submissions/{identifier}").json()["status"])


def events_of(runtime: Any, identifier: str, event_type: str) -> list[Event]:
    with runtime.read_sessions() as session:
        submission = session.scalar(select(Submission).where(Submission.identifier == identifier))
        assert submission is not None
        query = select(Event).where(Event.submission_id == submission.id, Event.type == event_type)
        return list(session.scalars(query.order_by(Event.id)))


def assert_problem(response: Any, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    for word in words:
        assert word in problem["detail"], problem
    return problem


@pytest.fixture
def owner_token(client: Any) -> str:
    return str(register(client, email="owner@example.org")["key"]["token"])


def test_diverse_accepting_votes_make_the_item_accepted_with_the_evidence(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = provisionally_accepted(client, runtime, owner_token)
    lab = reviewer(runtime, settings, "lab@example.org", "claude-reviewer", "gpt-reviewer")
    other = reviewer(runtime, settings, "other@example.org", "llama-reviewer")
    url = f"/api/v1/submissions/{item}/external-votes"

    first = client.post(url, headers=lab.agent("claude-reviewer"), json=vote_body(model=model("claude")))
    assert first.status_code == 201, first.text
    assert first.json()["upgraded"] is False and first.json()["upgrade"]["outcome"] == "pending"
    assert first.json()["reviewer"] == {
        "origin": "external_agent",
        "owner_id": lab.account_id,
        "agent_id": lab.agents["claude-reviewer"][0],
        "model_provider": "claude-labs",
        "model": "claude-large-2",
        "model_family": "claude",
    }
    # two families but one owner: not yet
    second = client.post(url, headers=lab.agent("gpt-reviewer"), json=vote_body(model=model("gpt")))
    assert second.status_code == 201 and second.json()["upgraded"] is False
    assert "1 of 2 owners" in second.json()["upgrade"]["reasons"][-1]
    assert status_of(client, item) == "provisionally_accepted"

    third = client.post(url, headers=other.agent("llama-reviewer"), json=vote_body(model=model("llama")))
    assert third.status_code == 201, third.text
    result = third.json()
    assert result["upgraded"] is True
    assert result["upgrade"]["outcome"] == "accept" and result["upgrade"]["status"] == "accepted"
    assert result["upgrade"]["families"] == ["claude", "gpt", "llama"]
    assert result["upgrade"]["owners"] == sorted([lab.account_id, other.account_id])
    assert status_of(client, item) == "accepted"

    # the transition is logged by the platform with the evidence as its reason
    last = client.get(f"/api/v1/submissions/{item}/transitions").json()[-1]
    assert (last["from_status"], last["to_status"]) == ("provisionally_accepted", "accepted")
    assert "3/3 accept" in last["reason"] and "claude, gpt, llama" in last["reason"]
    assert "owners: 2" in last["reason"]
    # the events: one per vote, the last one carrying the decision, and the status change
    added = events_of(runtime, item, event_types.EXTERNAL_REVIEW_ADDED)
    assert [e.payload["upgraded"] for e in added] == [False, False, True]
    evidence = added[-1].payload
    assert evidence["item"] == "vote" and evidence["upgrade"]["accepts"] == 3
    assert evidence["voters"] == [
        f"agent:{lab.agents[n][0]}" for n in ("claude-reviewer", "gpt-reviewer")
    ] + [f"agent:{other.agents['llama-reviewer'][0]}"]
    changed = events_of(runtime, item, event_types.STATUS_CHANGED)[-1]
    assert changed.payload["status"] == "accepted" and "claude, gpt, llama" in changed.payload["reason"]

    # the public listing shows the votes and the decision; an accepted item takes no more votes
    listing = client.get(url).json()
    assert [v["decision"] for v in listing["votes"]] == ["accept"] * 3
    assert all(v["counted"] for v in listing["votes"]) and listing["upgrade"]["outcome"] == "accept"
    late = reviewer(runtime, settings, "late@example.org")
    assert_problem(client.post(url, headers=auth(late.token), json=vote_body()), 409, "accepted")


def test_one_owners_agents_are_not_enough_and_a_negative_majority_keeps_the_status(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = provisionally_accepted(client, runtime, owner_token)
    url = f"/api/v1/submissions/{item}/external-votes"
    farm = reviewer(runtime, settings, "farm@example.org", "a", "b", "c")
    for name, family in zip("abc", ("claude", "gpt", "llama"), strict=True):
        response = client.post(url, headers=farm.agent(name), json=vote_body(model=model(family)))
        assert response.status_code == 201 and response.json()["upgraded"] is False
    assert status_of(client, item) == "provisionally_accepted"
    # two other owners reject: enough diverse reviewers now, but the owner-weighted majority is against
    for email in ("critic1@example.org", "critic2@example.org"):
        person = reviewer(runtime, settings, email)
        response = client.post(url, headers=auth(person.token), json=vote_body("reject"))
        assert response.status_code == 201, response.text
        assert response.json()["reviewer"]["origin"] == "external_human"
    upgrade = client.get(url).json()["upgrade"]
    assert upgrade["outcome"] == "reject" and upgrade["evaluations"] == 5 and upgrade["accepts"] == 3
    assert upgrade["accept_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert status_of(client, item) == "provisionally_accepted"


def test_the_work_own_side_cannot_review_it(client: Any, runtime: Any, settings: Settings) -> None:
    # the owner holds the reviewer role too, and has an agent; another owner's agent co-authors it
    owner = reviewer(runtime, settings, "author@example.org", "helper")
    with transaction(runtime.write_sessions) as session:
        account = accounts.get_account(session, owner.account_id)
        submit_key = accounts.issue_key(session, account, scopes=["read", "submit"]).token
    coauthor = reviewer(runtime, settings, "coauthor@example.org", "scribe")
    authors = [
        {"kind": "human", "name": "Ada Example"},
        {"kind": "agent", "name": "Scribe", "agent_id": coauthor.agents["scribe"][0]},
    ]
    item = provisionally_accepted(client, runtime, submit_key, authors=authors)
    for headers, body in (
        (auth(owner.token), vote_body()),
        (owner.agent("helper"), vote_body(model=model("gpt"))),
        (coauthor.agent("scribe"), vote_body(model=model("gpt"))),
        (auth(coauthor.token), vote_body()),  # the owner of an authoring agent
    ):
        for what, payload in (
            ("external-votes", body),
            ("external-reviews", review_body(model=body.get("model"))),
        ):
            if "model" in payload and payload["model"] is None:
                del payload["model"]
            response = client.post(f"/api/v1/submissions/{item}/{what}", headers=headers, json=payload)
            problem = assert_problem(response, 403, "your own work")
            assert problem["reason"] == "self_review"
    assert client.get(f"/api/v1/submissions/{item}/external-votes").json()["votes"] == []


def test_one_review_and_one_vote_per_reviewer_per_version(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = provisionally_accepted(client, runtime, owner_token)
    lab = reviewer(runtime, settings, "lab@example.org", "bot")
    reviews = f"/api/v1/submissions/{item}/external-reviews"
    first = client.post(reviews, headers=lab.agent("bot"), json=review_body(model=model("qwen")))
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["reviewer"]["origin"] == "external_agent" and stored["rubric_id"] == "openxiv-paper"
    assert stored["report"]["criteria"]["clarity"]["score"] == 3 and stored["conflict_of_interest"] == "none"
    again = client.post(reviews, headers=lab.agent("bot"), json=review_body(model=model("qwen"), rating=2))
    assert_problem(again, 409, "already reviewed")
    # the person behind the agent is a reviewer of their own, once
    assert client.post(reviews, headers=auth(lab.token), json=review_body()).status_code == 201
    assert_problem(client.post(reviews, headers=auth(lab.token), json=review_body()), 409, "already reviewed")

    votes_url = f"/api/v1/submissions/{item}/external-votes"
    assert (
        client.post(votes_url, headers=lab.agent("bot"), json=vote_body(model=model("qwen"))).status_code
        == 201
    )
    duplicate = client.post(
        votes_url, headers=lab.agent("bot"), json=vote_body("reject", model=model("qwen"))
    )
    assert_problem(duplicate, 409, "already voted")

    # the list shows both reviews, labelled; the platform's own review list sees them too
    listed = client.get(reviews).json()
    assert [r["reviewer"]["origin"] for r in listed] == ["external_agent", "external_human"]
    assert [r["rating"] for r in listed] == [6, 6]
    internal_view = client.get(f"/api/v1/submissions/{item}/reviews").json()["reviews"]
    assert [(r["mode"], r["ai_generated"]) for r in internal_view] == [
        ("external", True),
        ("external", False),
    ]


def test_a_retried_write_with_the_same_idempotency_key_is_answered_once(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = provisionally_accepted(client, runtime, owner_token)
    lab = reviewer(runtime, settings, "lab@example.org", "bot")
    headers = {**lab.agent("bot"), "Idempotency-Key": "vote-1"}
    url = f"/api/v1/submissions/{item}/external-votes"
    first = client.post(url, headers=headers, json=vote_body(model=model("gpt")))
    replay = client.post(url, headers=headers, json=vote_body(model=model("gpt")))
    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert len(client.get(url).json()["votes"]) == 1


def test_who_may_write_and_what_is_found(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = provisionally_accepted(client, runtime, owner_token)
    person = reviewer(runtime, settings, "person@example.org")
    plain = register(client, email="plain@example.org")["key"]["token"]  # read+submit, no review
    for what, body in (("external-reviews", review_body()), ("external-votes", vote_body())):
        url = f"/api/v1/submissions/{item}/{what}"
        assert_problem(client.post(url, json=body), 401)
        problem = assert_problem(client.post(url, headers=auth(plain), json=body), 403, "'review' scope")
        assert problem["scope"] == "review"
        assert_problem(
            client.post(f"/api/v1/submissions/2601.99999/{what}", headers=auth(person.token), json=body), 404
        )
        assert_problem(client.get(f"/api/v1/submissions/2601.99999/{what}"), 404)
        assert client.get(url).status_code == 200  # public item: anyone reads

    # a held item is hidden from reviewers and the public alike
    held = client.post("/api/v1/submissions", headers=auth(owner_token), json=paper_body()).json()["id"]
    with transaction(runtime.write_sessions) as session:
        submission = repository.by_identifier(session, held)
        assert submission is not None
        submission.status = Status.HELD.value
    for what, body in (("external-reviews", review_body()), ("external-votes", vote_body())):
        url = f"/api/v1/submissions/{held}/{what}"
        assert_problem(client.post(url, headers=auth(person.token), json=body), 404)
        assert_problem(client.get(url), 404)
        assert client.get(url, headers=auth(owner_token)).status_code == 200


def test_what_a_review_or_vote_must_carry(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = provisionally_accepted(client, runtime, owner_token)
    lab = reviewer(runtime, settings, "lab@example.org", "bot")
    reviews = f"/api/v1/submissions/{item}/external-reviews"
    votes_url = f"/api/v1/submissions/{item}/external-votes"
    broken = report()
    del broken["criteria"]["clarity"]
    assert_problem(
        client.post(reviews, headers=auth(lab.token), json=review_body(report=broken)), 422, "clarity"
    )
    assert_problem(
        client.post(reviews, headers=auth(lab.token), json=review_body(rubric_version="1999.1")),
        422,
        "in force",
    )
    assert_problem(client.post(reviews, headers=lab.agent("bot"), json=review_body()), 422, "names the model")
    assert_problem(
        client.post(votes_url, headers=auth(lab.token), json=vote_body(model=model("gpt"))), 422, "person"
    )
    no_declaration = vote_body(model=model("gpt"))
    del no_declaration["conflict_of_interest"]
    assert client.post(votes_url, headers=lab.agent("bot"), json=no_declaration).status_code == 422
    blank = client.post(
        votes_url, headers=lab.agent("bot"), json=vote_body(model=model("gpt"), conflict_of_interest=" ")
    )
    assert blank.status_code == 422
    # nothing of the refused writes was stored
    assert client.get(reviews).json() == [] and client.get(votes_url).json()["votes"] == []


def test_reviews_are_taken_during_review_but_votes_only_once_provisionally_accepted(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = client.post("/api/v1/submissions", headers=auth(owner_token), json=paper_body()).json()["id"]
    assert status_of(client, item) == "under_review"
    person = reviewer(runtime, settings, "person@example.org")
    reviewed = client.post(
        f"/api/v1/submissions/{item}/external-reviews", headers=auth(person.token), json=review_body()
    )
    assert reviewed.status_code == 201, reviewed.text
    early = client.post(
        f"/api/v1/submissions/{item}/external-votes", headers=auth(person.token), json=vote_body()
    )
    assert_problem(early, 409, "under_review", "provisionally_accepted")


async def _call_tool(runtime: Any, token: str, tool: str, arguments: dict[str, Any]) -> Any:
    server = stdio.build(runtime.settings, token, DEFAULT_TOOLSETS, runtime=runtime)
    async with Client(server.server) as mcp_client:
        return await mcp_client.call_tool(tool, arguments)


def test_the_mcp_tools_write_through_the_same_rules(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    item = provisionally_accepted(client, runtime, owner_token)
    lab = reviewer(runtime, settings, "lab@example.org", "bot")
    bot = lab.agents["bot"][1]
    vote = {**vote_body(model=model("gemini")), "id": item}

    dry = anyio.run(_call_tool, runtime, bot, "submit_external_vote", {**vote, "dry_run": True})
    assert not dry.is_error and dry.structured_content["dry_run"] is True
    assert client.get(f"/api/v1/submissions/{item}/external-votes").json()["votes"] == []

    keyed = {**vote, "idempotency_key": "mcp-vote-1"}
    first = anyio.run(_call_tool, runtime, bot, "submit_external_vote", keyed)
    assert not first.is_error, first.content[0].text
    stored = first.structured_content["vote"]
    assert stored["reviewer"]["model_family"] == "gemini" and stored["upgraded"] is False
    assert "upgrade: pending" in first.content[0].text
    replay = anyio.run(_call_tool, runtime, bot, "submit_external_vote", keyed)
    assert not replay.is_error and replay.structured_content["vote"]["id"] == stored["id"]
    again = anyio.run(_call_tool, runtime, bot, "submit_external_vote", vote)
    assert again.is_error and again.structured_content["error"]["status"] == 409
    listed = client.get(f"/api/v1/submissions/{item}/external-votes").json()["votes"]
    assert [v["id"] for v in listed] == [stored["id"]]

    review = {**review_body(model=model("gemini")), "id": item}
    written = anyio.run(_call_tool, runtime, bot, "submit_external_review", review)
    assert not written.is_error, written.content[0].text
    assert written.structured_content["review"]["rating"] == 6
    own = anyio.run(_call_tool, runtime, owner_token, "submit_external_review", {**review_body(), "id": item})
    assert own.is_error and own.structured_content["error"]["status"] == 403
    bad = anyio.run(_call_tool, runtime, bot, "submit_external_vote", {**vote, "confidence": 3})
    assert bad.is_error


def test_the_database_itself_keeps_one_vote_per_reviewer(
    client: Any, runtime: Any, settings: Settings, owner_token: str
) -> None:
    """The service checks first and locks the submission; the partial unique indexes are the last
    word should two writers still meet (a person and their agent are different reviewers)."""
    item = provisionally_accepted(client, runtime, owner_token)
    lab = reviewer(runtime, settings, "lab@example.org", "bot")
    agent_id = lab.agents["bot"][0]
    with runtime.read_sessions() as session:
        submission = repository.by_identifier(session, item)
        assert submission is not None
        version = repository.version(session, submission.id, 1)
        assert version is not None
        submission_id, version_id = submission.id, version.id

    def row(origin: str, agent: int | None) -> ExternalVote:
        return ExternalVote(
            submission_id=submission_id,
            version_id=version_id,
            reviewer_origin=origin,
            account_id=lab.account_id,
            agent_id=agent,
            owner_id=lab.account_id,
            decision="accept",
            confidence=0.5,
            reasons=["r"],
            conflict_of_interest="none",
            status_at_vote="provisionally_accepted",
        )

    with transaction(runtime.write_sessions) as session:
        session.add_all([row("external_agent", agent_id), row("external_human", None)])
    for origin, agent in (("external_agent", agent_id), ("external_human", None)):
        with pytest.raises(IntegrityError), transaction(runtime.write_sessions) as session:
            session.add(row(origin, agent))
    assert len(client.get(f"/api/v1/submissions/{item}/external-votes").json()["votes"]) == 2
