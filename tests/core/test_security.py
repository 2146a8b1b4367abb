"""Security controls (docs/security.md): the secret key and production mode, scopes that hold,
key lineage, authorship that cannot be forged, secrets never stored, password throttling,
response headers and caching. Real app, real database, real HTTP through the TestClient."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from openxiv.accounts import service as accounts
from openxiv.app import create_app
from openxiv.cli import app as cli
from openxiv.config import ConfigError, RateLimitSettings, Settings, resolve_secret_key, write_secret_key_file
from openxiv.db import transaction
from openxiv.http.ratelimit import LoginThrottle
from openxiv.models import IdempotencyRecord, Submission
from openxiv.submissions.service import HIDDEN_FROM_PUBLIC
from tests.core.helpers import auth, paper_body, pdf_bytes, register, version_body

STRONG = "k" * 48


@pytest.fixture
def db_backend() -> str:
    return "sqlite"  # authorization does not depend on the database; both are covered elsewhere


# ----------------------------------------------------------------- secret key, production mode


def test_production_refuses_a_missing_published_or_short_secret(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match="no secret key"):
        resolve_secret_key(Settings(secret_key="", secret_key_file=missing))
    assert not missing.exists()  # production never invents a key behind the operator's back
    with pytest.raises(ConfigError, match="published default"):
        resolve_secret_key(Settings(secret_key="dev-insecure-change-me"))
    with pytest.raises(ConfigError, match="11 characters"):
        resolve_secret_key(Settings(secret_key="short-but-x"))
    assert resolve_secret_key(Settings(secret_key=STRONG)) == STRONG
    with pytest.raises(ConfigError):
        create_app(Settings(secret_key="test-secret", database_url=f"sqlite:///{tmp_path / 'db'}"))


def test_dev_mode_generates_a_private_secret_file_once(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    settings = Settings(mode="dev", secret_key="", secret_key_file=path)
    first = resolve_secret_key(settings)
    assert len(first) >= 48 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert resolve_secret_key(settings) == first  # sessions survive a restart
    # The generated file is strong enough for production too (what `make run` relies on).
    assert resolve_secret_key(Settings(secret_key="", secret_key_file=path)) == first


def test_processes_starting_together_agree_on_one_generated_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda _: write_secret_key_file(path), range(8)))
    assert created.count(True) == 1 and len(path.read_text().strip()) >= 48
    assert list(tmp_path.iterdir()) == [path]  # no drafts left behind


def test_the_cli_refuses_to_serve_or_work_unsafely_and_makes_a_secret(tmp_path: Path) -> None:
    runner = CliRunner()
    base = {
        "OPENXIV_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "OPENXIV_CONFIG": str(tmp_path / "absent.toml"),
        "OPENXIV_SECRET_KEY_FILE": str(tmp_path / "secret"),
    }
    weak = runner.invoke(cli, ["serve"], env={**base, "OPENXIV_SECRET_KEY": "cli-test"})
    assert weak.exit_code == 2 and "refusing to start in production mode" in weak.output
    assert len(weak.output.strip().splitlines()) == 1
    fake_model = {**base, "OPENXIV_LLM__MODELS__T__PROVIDER": "test", "OPENXIV_QUEUE__URL": "redis://x"}
    worker = runner.invoke(cli, ["worker"], env=fake_model)
    assert worker.exit_code == 2 and "'test' provider" in worker.output
    demo = runner.invoke(cli, ["demo"], env={**base, "OPENXIV_SECRET_KEY": STRONG})
    assert demo.exit_code == 2 and "OPENXIV_MODE=demo" in demo.output
    made = runner.invoke(cli, ["secret"], env=base)
    assert made.exit_code == 0 and "created" in made.output
    assert len((tmp_path / "secret").read_text().strip()) >= 48
    assert "already exists" in runner.invoke(cli, ["secret"], env=base).output


def test_the_test_llm_provider_is_refused_in_production(tmp_path: Path) -> None:
    settings = Settings(secret_key=STRONG, database_url=f"sqlite:///{tmp_path / 'db'}")
    fake = settings.llm.model_validate({"models": {"t": {"provider": "test", "model": "det"}}})
    with pytest.raises(ConfigError, match="'test' provider"):
        create_app(settings.model_copy(update={"llm": fake}))
    create_app(settings.model_copy(update={"llm": fake, "mode": "dev"}))  # allowed for tests


# -------------------------------------------------------------------------- keys and scopes


def _agent(client: Any, token: str, name: str = "Scout") -> int:
    response = client.post(
        "/api/v1/agents",
        headers=auth(token),
        json={"name": name, "model_identity": "m", "organisation": "o"},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _mint(client: Any, token: str, scopes: list[str], **extra: Any) -> Any:
    return client.post("/api/v1/keys", headers=auth(token), json={"scopes": scopes, **extra})


def _staff(runtime: Any, email: str, roles: list[str], scopes: list[str]) -> tuple[int, str]:
    with transaction(runtime.write_sessions) as session:
        account = accounts.register_account(
            session,
            email=email,
            password="correct horse battery",
            display_name=email,
            roles=roles,
            accept_policy=True,
            policy_version="x",
        )
        return account.id, accounts.issue_key(session, account, scopes=scopes).token


def test_keys_only_mint_subsets_of_their_scopes_and_never_upwards(client: Any, runtime: Any) -> None:
    admin_id, admin_token = _staff(runtime, "root@example.org", ["admin"], ["read", "submit", "admin"])
    read_only = _mint(client, admin_token, ["read"]).json()["token"]
    escalated = _mint(client, read_only, ["read", "submit"])
    assert escalated.status_code == 403 and "submit" in escalated.json()["detail"]
    assert _mint(client, read_only, ["admin"]).status_code == 403
    assert _mint(client, read_only, ["read"]).status_code == 201  # a subset is fine

    # An agent's key holding `admin` still cannot mint a human key or another agent's key.
    scout, other_agent = _agent(client, admin_token), _agent(client, admin_token, "Other")
    agent_admin = _mint(client, admin_token, ["read", "submit", "admin"], agent_id=scout).json()["token"]
    human = _mint(client, agent_admin, ["read"])
    assert human.status_code == 403 and "same agent" in human.json()["detail"]
    assert _mint(client, agent_admin, ["read"], agent_id=other_agent).status_code == 403
    own = _mint(client, agent_admin, ["read"], agent_id=scout)
    assert own.status_code == 201 and own.json()["agent_id"] == scout
    me = client.get("/api/v1/me", headers=auth(own.json()["token"])).json()
    assert me["agent"]["id"] == scout and me["account"]["id"] == admin_id
    assert (
        client.post(
            "/api/v1/agents",
            headers=auth(agent_admin),
            json={"name": "Spawn", "model_identity": "m", "organisation": "o"},
        ).status_code
        == 403
    )
    # Through its key an agent sees only itself and its own keys.
    assert [a["id"] for a in client.get("/api/v1/agents", headers=auth(agent_admin)).json()] == [scout]
    assert {k["agent_id"] for k in client.get("/api/v1/keys", headers=auth(agent_admin)).json()} == {scout}


def test_revoking_is_restricted_and_takes_every_key_minted_through_it(client: Any) -> None:
    owner = register(client)["key"]
    stolen = _mint(client, owner["token"], ["read", "submit"]).json()
    child = _mint(client, stolen["token"], ["read", "submit"]).json()
    grandchild = _mint(client, child["token"], ["read"]).json()
    read_only = _mint(client, owner["token"], ["read"]).json()
    agent = _mint(client, owner["token"], ["read"], agent_id=_agent(client, owner["token"])).json()

    # Neither a read-only key nor an agent's key can cut off the owner's keys.
    assert client.delete(f"/api/v1/keys/{owner['id']}", headers=auth(read_only["token"])).status_code == 403
    assert client.delete(f"/api/v1/keys/{owner['id']}", headers=auth(agent["token"])).status_code == 404
    assert client.delete(f"/api/v1/keys/{agent['id']}", headers=auth(agent["token"])).status_code == 200

    revoked = client.delete(f"/api/v1/keys/{stolen['id']}", headers=auth(owner["token"]))
    assert revoked.status_code == 200
    for token in (stolen["token"], child["token"], grandchild["token"]):
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 401
    assert client.get("/api/v1/me", headers=auth(read_only["token"])).status_code == 200


def test_a_moderators_key_without_the_moderate_scope_cannot_withdraw_others_work(
    client: Any, runtime: Any
) -> None:
    author = register(client)["key"]["token"]
    moderator_id, moderator = _staff(runtime, "mod@example.org", ["moderator"], ["read", "submit"])
    agent_key = _mint(client, moderator, ["read", "submit"], agent_id=_agent(client, moderator)).json()[
        "token"
    ]
    item = client.post("/api/v1/submissions", headers=auth(author), json=paper_body()).json()["id"]
    for token in (moderator, agent_key):
        refused = client.post(
            f"/api/v1/submissions/{item}/withdraw", headers=auth(token), json={"reason": "x"}
        )
        assert refused.status_code == 403, refused.text
    with transaction(runtime.write_sessions) as session:
        scoped = accounts.issue_key(
            session, accounts.get_account(session, moderator_id), scopes=["moderate"]
        ).token
    done = client.post(f"/api/v1/submissions/{item}/withdraw", headers=auth(scoped), json={"reason": "spam"})
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"


# ------------------------------------------------------------------------------- authorship


def test_listing_someone_else_as_author_stays_pending_until_they_confirm(client: Any) -> None:
    victim = register(client, email="famous@example.org", display_name="Famous Person")
    victim_token = victim["key"]["token"]
    victim_agent = _agent(client, victim_token)
    forger = register(client, email="forger@example.org")["key"]["token"]
    authors = [
        {"kind": "human", "name": "Forger"},
        {"kind": "human", "account_id": victim["account"]["id"]},
        {"kind": "agent", "agent_id": victim_agent},
    ]
    item = client.post("/api/v1/submissions", headers=auth(forger), json=paper_body(authors=authors)).json()
    assert [a["link_status"] for a in item["version"]["authors"]] == [None, "pending", "pending"]

    def listed(**params: Any) -> list[str]:
        return [s["id"] for s in client.get("/api/v1/submissions", params=params).json()["items"]]

    assert item["id"] not in listed(account_id=victim["account"]["id"])
    assert item["id"] not in listed(agent_id=victim_agent)
    assert "not confirmed" in client.get(f"/abs/{item['id']}").text

    # The forger cannot confirm on the victim's behalf.
    assert (
        client.post(
            f"/api/v1/submissions/{item['id']}/authorship", headers=auth(forger), json={"decision": "confirm"}
        ).status_code
        == 404
    )
    confirmed = client.post(
        f"/api/v1/submissions/{item['id']}/authorship",
        headers=auth(victim_token),
        json={"decision": "confirm"},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert [a["link_status"] for a in confirmed.json()["version"]["authors"]] == [
        None,
        "confirmed",
        "confirmed",
    ]
    assert item["id"] in listed(account_id=victim["account"]["id"])
    assert item["id"] in listed(agent_id=victim_agent)

    # A confirmation carries over to later versions; a decline removes the work from their list.
    revised = client.post(
        f"/api/v1/submissions/{item['id']}/versions", headers=auth(forger), json=version_body(authors=authors)
    ).json()
    assert [a["link_status"] for a in revised["version"]["authors"]] == [None, "confirmed", "confirmed"]
    declined = client.post(
        f"/api/v1/submissions/{item['id']}/authorship",
        headers=auth(victim_token),
        json={"decision": "decline"},
    )
    assert {a["link_status"] for a in declined.json()["version"]["authors"][1:]} == {"declined"}
    assert item["id"] not in listed(account_id=victim["account"]["id"])


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_a_signed_in_person_confirms_authorship_on_the_account_page(client: Any) -> None:
    me = register(client, email="me@example.org")
    other = register(client, email="other@example.org")["key"]["token"]
    authors = [{"kind": "human", "name": "Other"}, {"kind": "human", "account_id": me["account"]["id"]}]
    item = client.post("/api/v1/submissions", headers=auth(other), json=paper_body(authors=authors)).json()[
        "id"
    ]
    signed_in = client.post(
        "/login",
        data={
            "email": "me@example.org",
            "password": "correct horse battery",
            "csrf": _csrf(client.get("/login").text),
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    page = client.get("/account").text
    assert "Listed as an author" in page and f"/account/authorship/{item}" in page
    forged = client.post(f"/account/authorship/{item}", data={"decision": "confirm", "csrf": "x"})
    assert forged.status_code == 403
    done = client.post(
        f"/account/authorship/{item}",
        data={"decision": "confirm", "csrf": _csrf(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    authors_now = client.get(f"/api/v1/submissions/{item}").json()["version"]["authors"]
    assert authors_now[1]["link_status"] == "confirmed"
    assert "Listed as an author" not in client.get("/account").text


def test_own_account_and_own_agents_are_linked_at_once(client: Any) -> None:
    owner = register(client)
    token = owner["key"]["token"]
    scout = _agent(client, token)
    agent_key = _mint(client, token, ["read", "submit"], agent_id=scout).json()["token"]
    authors = [{"kind": "agent", "agent_id": scout}, {"kind": "human", "account_id": owner["account"]["id"]}]
    item = client.post(
        "/api/v1/submissions",
        headers=auth(agent_key),
        json=paper_body(authors=authors, corresponding_author=1),
    ).json()
    assert [a["link_status"] for a in item["version"]["authors"]] == ["owned", "owned"]
    found = client.get("/api/v1/submissions", params={"agent_id": scout}).json()["items"]
    assert [s["id"] for s in found] == [item["id"]]


# --------------------------------------------------------------------- secrets never stored


def test_idempotent_replays_never_return_or_store_a_token(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    headers = {**auth(token), "Idempotency-Key": "key-1"}
    first = client.post("/api/v1/keys", headers=headers, json={"scopes": ["read"]})
    issued = first.json()["token"]
    assert client.get("/api/v1/me", headers=auth(issued)).status_code == 200
    replay = client.post("/api/v1/keys", headers=headers, json={"scopes": ["read"]})
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]  # the same key, not a second one
    scheme, prefix, secret_part = issued.split("_", 2)
    assert replay.json()["token"] == f"{scheme}_{prefix}_REDACTED"
    with runtime.read_sessions() as session:
        stored = " ".join(r.response_body or "" for r in session.scalars(select(IdempotencyRecord)))
    assert secret_part not in stored and "REDACTED" in stored


# --------------------------------------------------------------------- password throttling


def test_login_throttle_locks_out_with_doubling_backoff() -> None:
    now = [0.0]
    throttle = LoginThrottle(free_attempts=3, base_lockout_s=10, max_lockout_s=25, clock=lambda: now[0])
    for _ in range(2):
        throttle.failure("email:a", "ip:1")
    throttle.check("email:a", "ip:1")  # two misses cost nothing
    throttle.failure("email:a", "ip:1")
    with pytest.raises(Exception, match="try again in 10 s"):
        throttle.check("email:a")
    now[0] = 10.5
    throttle.check("email:a", "ip:1")
    throttle.failure("email:a", "ip:1")
    with pytest.raises(Exception, match="try again in 20 s"):
        throttle.check("ip:1")
    throttle.success("email:a")  # a right password clears the account, not the address
    throttle.check("email:a")
    with pytest.raises(Exception, match="try again"):
        throttle.check("ip:1")
    now[0] = 31.0
    throttle.failure("ip:1")
    with pytest.raises(Exception, match="try again in 25 s"):  # capped
        throttle.check("ip:1")


@pytest.fixture
def throttled_client(settings: Settings, runtime: Any) -> Any:
    limits = RateLimitSettings(
        per_minute=100_000, burst=100_000, login_free_attempts=3, registrations_per_address=2
    )
    app = create_app(settings.model_copy(update={"rate_limit": limits}), runtime)
    with TestClient(app) as client:
        yield client


def _login(client: Any, email: str, password: str) -> Any:
    csrf = _csrf(client.get("/login").text)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf": csrf}, follow_redirects=False
    )


def test_the_login_page_locks_out_after_repeated_wrong_passwords(throttled_client: Any) -> None:
    client = throttled_client
    register(client, email="ada@example.org")
    for _ in range(3):
        assert _login(client, "ada@example.org", "wrong password").status_code == 401
    locked = _login(client, "ada@example.org", "correct horse battery")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    assert "too many failed attempts" in locked.text
    # The API's password exchange shares the lockout.
    api = client.post(
        "/api/v1/auth/keys", json={"email": "ada@example.org", "password": "correct horse battery"}
    )
    assert api.status_code == 429 and api.headers["retry-after"]


def test_account_creation_is_throttled_per_address(throttled_client: Any) -> None:
    client = throttled_client
    body = {"password": "correct horse battery", "display_name": "X", "accept_policy": True}
    codes = [
        client.post("/api/v1/accounts", json={**body, "email": f"x{n}@example.org"}).status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]
    # The page shares the address's count.
    csrf = _csrf(client.get("/register").text)
    page = client.post(
        "/register", data={**body, "email": "y@example.org", "csrf": csrf, "accept_policy": "yes"}
    )
    assert page.status_code == 429 and page.headers["retry-after"] and "too many" in page.text


# ------------------------------------------------------------------ headers, cookies, caching


def test_pages_carry_a_strict_policy_and_session_cookies_are_locked_down(client: Any) -> None:
    page = client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert page.headers["cache-control"] == "private, no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "<script" not in page.text and " style=" not in page.text
    api = client.get("/api/v1/submissions")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert client.get("/static/style.css").headers["cache-control"].startswith("public")


def test_cookies_are_secure_over_https(app: Any) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        cookie = client.get("/login").headers["set-cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie


def test_api_docs_run_only_the_inline_script_the_server_wrote(client: Any) -> None:
    docs = client.get("/api/docs")
    policy = docs.headers["content-security-policy"]
    assert (
        docs.status_code == 200
        and "'sha256-" in policy
        and "unsafe-inline" not in policy.split("style-src")[0]
    )
    assert "frame-ancestors 'none'" in policy


def test_only_public_screened_versions_may_be_cached_by_shared_caches(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    sha = client.post(
        "/api/v1/uploads", headers=auth(token), files={"file": ("p.pdf", pdf_bytes(), "application/pdf")}
    ).json()["sha256"]
    public = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(pdf_sha256=sha)).json()[
        "id"
    ]
    held = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(pdf_sha256=sha)).json()[
        "id"
    ]
    with transaction(runtime.write_sessions) as session:
        session.execute(
            update(Submission)
            .where(Submission.identifier == held)
            .values(status=next(iter(HIDDEN_FROM_PUBLIC)))
        )
    assert "public" in client.get(f"/api/v1/submissions/{public}v1/pdf").headers["cache-control"]
    assert client.get(f"/api/v1/submissions/{public}/pdf").headers["cache-control"] == "private, no-store"
    hidden = client.get(f"/api/v1/submissions/{held}v1/pdf", headers=auth(token))
    assert hidden.status_code == 200 and hidden.headers["cache-control"] == "private, no-store"
    assert client.get(f"/api/v1/submissions/{held}v1/pdf").status_code == 404
    keys = client.get("/api/v1/keys", headers=auth(token))
    assert keys.headers["cache-control"] == "private, no-store"
