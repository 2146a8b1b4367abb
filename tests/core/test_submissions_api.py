"""The submission workflow through real HTTP calls on the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from openxiv.models import Blob, Submission, SubmissionVersion, Transition
from openxiv.submissions.version_meta import VersionMeta
from tests.core.helpers import (
    auth,
    paper_body,
    pdf_bytes,
    proposal_body,
    recorded_statements,
    register,
    version_body,
)


def _count(runtime: Any, model: Any) -> int:
    with runtime.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_agent_submits_proposal_and_pdf_paper_then_revises(client: Any, runtime: Any) -> None:
    owner = register(client)
    human_key = owner["key"]["token"]
    agent = client.post(
        "/api/v1/agents",
        headers=auth(human_key),
        json={"name": "Scout", "model_identity": "genesys-lite/0.1 on model X", "organisation": "Li Lab"},
    )
    assert agent.status_code == 201, agent.text
    agent_id = agent.json()["id"]
    key = client.post(
        "/api/v1/keys", headers=auth(human_key), json={"scopes": ["read", "submit"], "agent_id": agent_id}
    )
    assert key.status_code == 201
    agent_key = key.json()["token"]
    me = client.get("/api/v1/me", headers=auth(agent_key)).json()
    assert me["agent"]["id"] == agent_id and me["account"]["id"] == owner["account"]["id"]

    authors = [
        {"kind": "agent", "agent_id": agent_id},
        {"kind": "human", "account_id": owner["account"]["id"]},
    ]
    proposal = client.post(
        "/api/v1/submissions",
        headers=auth(agent_key),
        json=proposal_body(authors=authors, corresponding_author=1),
    )
    assert proposal.status_code == 201, proposal.text
    proposal_id = proposal.json()["id"]

    upload = client.post(
        "/api/v1/uploads",
        headers=auth(agent_key),
        files={"file": ("paper.pdf", pdf_bytes(), "application/pdf")},
    )
    assert upload.status_code == 201, upload.text
    sha = upload.json()["sha256"]
    body = paper_body(authors=authors, corresponding_author=1, pdf_sha256=sha)
    del body["source"]
    paper = client.post("/api/v1/submissions", headers=auth(agent_key), json=body)
    assert paper.status_code == 201, paper.text
    item = paper.json()
    assert item["id"] != proposal_id and item["version"]["identifier"] == f"{item['id']}v1"
    assert item["version"]["pdf"]["sha256"] == sha
    assert [a["kind"] for a in item["version"]["authors"]] == ["agent", "human"]
    assert item["version"]["authors"][0]["name"] == "Scout"

    # The inline pipeline screened it: format checks pass; review is not configured in these tests.
    after = client.get(f"/api/v1/submissions/{item['id']}").json()
    assert after["status"] == "under_review"
    stages = {s["stage"]: s for s in client.get(f"/api/v1/submissions/{item['id']}/stages").json()}
    assert stages["screening"]["state"] == "completed"
    assert stages["review"]["state"] == "not_configured"
    assert "disabled" in stages["review"]["detail"]["reason"]
    assert client.get(f"/api/v1/submissions/{item['id']}/pdf").content == pdf_bytes()
    assert "warm-up" in client.get(f"/api/v1/submissions/{item['id']}v1/text").text

    revision = client.post(
        f"/api/v1/submissions/{item['id']}/versions",
        headers=auth(agent_key),
        json=version_body(
            authors=authors,
            corresponding_author=1,
            title="Warm-up, revisited",
            response_letter="We added three seeds as asked.",
            base_version=1,
        ),
    )
    assert revision.status_code == 201, revision.text
    assert revision.json()["latest_version"] == 2
    v1 = client.get(f"/api/v1/submissions/{item['id']}v1").json()
    assert v1["version"]["title"] == body["title"] and v1["version"]["pdf"]["sha256"] == sha
    v2 = client.get(f"/api/v1/submissions/{item['id']}v2").json()
    assert v2["version"]["response_letter"] == "We added three seeds as asked."
    assert v2["title"] == "Warm-up, revisited"

    log = client.get(f"/api/v1/submissions/{item['id']}/transitions").json()
    assert [(t["version"], t["from_status"], t["to_status"]) for t in log] == [
        (1, None, "submitted"),
        (1, "submitted", "screening"),
        (1, "screening", "under_review"),
        (2, "under_review", "submitted"),
        (2, "submitted", "screening"),
        (2, "screening", "under_review"),
    ]
    assert log[0]["actor"] == {"account_id": owner["account"]["id"], "agent_id": agent_id, "system": None}
    assert log[1]["actor"]["system"] == "pipeline:screening"

    withdrawn = client.post(
        f"/api/v1/submissions/{item['id']}/withdraw", headers=auth(agent_key), json={"reason": "found a bug"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = client.post(
        f"/api/v1/submissions/{item['id']}/versions",
        headers=auth(agent_key),
        json=version_body(authors=authors, corresponding_author=1, response_letter="fixed"),
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:openxiv:problem:illegal-transition"
    assert again.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/submissions/{item['id']}").json()["latest_version"] == 2


def test_list_filters_and_cursor_paging(client: Any) -> None:
    token = register(client)["key"]["token"]
    made = []
    for index in range(7):
        body = proposal_body(title=f"Proposal {index}") if index % 2 else paper_body(title=f"Paper {index}")
        if index == 3:
            body["authors"] = [{"kind": "human", "name": "Grace Hopper"}]
        made.append(client.post("/api/v1/submissions", headers=auth(token), json=body).json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/submissions", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))
    proposals = client.get("/api/v1/submissions", params={"kind": "proposal"}).json()["items"]
    assert [p["id"] for p in proposals] == [made[5], made[3], made[1]]
    grace = client.get("/api/v1/submissions", params={"author": "grace HOP"}).json()["items"]
    assert [g["id"] for g in grace] == [made[3]]
    assert client.get("/api/v1/submissions", params={"author": "nobody"}).json()["items"] == []
    bad = client.get("/api/v1/submissions", params={"cursor": "garbage!"})
    assert bad.status_code == 422 and bad.json()["type"] == "urn:openxiv:problem:invalid-input"
    assert client.get("/api/v1/submissions", params={"status": "nonsense"}).status_code == 422
    assert (
        client.get("/api/v1/submissions", params={"created_from": "2999-01-01T00:00:00Z"}).json()["items"]
        == []
    )


def test_bad_uploads_are_refused_and_store_nothing(
    client: Any, runtime: Any, settings: Any, tmp_path: Any
) -> None:
    from tests.core.helpers import encrypted_pdf_bytes

    token = register(client)["key"]["token"]
    cases = [
        ("fake.pdf", b"this is not a pdf at all", 415),
        ("empty.pdf", b"", 422),
        ("locked.pdf", encrypted_pdf_bytes(), 422),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF garbage", 422),
        ("binary.md", b"\x00\x01\x02binary", 415),
        ("latin1.tex", "caf\xe9".encode("latin-1"), 422),
        ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, 415),
    ]
    for name, data, expected in cases:
        response = client.post("/api/v1/uploads", headers=auth(token), files={"file": (name, data)})
        assert response.status_code == expected, (name, response.text)
        problem = response.json()
        assert problem["status"] == expected and name in problem["detail"], problem
    assert _count(runtime, Blob) == 0
    assert not any(p.is_file() for p in (tmp_path / "blobs").rglob("*"))


def test_upload_over_the_size_limit(client: Any, runtime: Any) -> None:
    runtime.settings.uploads.max_bytes = 1000
    token = register(client)["key"]["token"]
    response = client.post("/api/v1/uploads", headers=auth(token), files={"file": ("big.md", b"x" * 1001)})
    assert response.status_code == 413
    assert _count(runtime, Blob) == 0


def test_bad_metadata_gets_clear_errors_and_writes_nothing(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    headers = auth(token)
    cases: list[tuple[Any, int, str]] = [
        ("{not json", 422, ""),
        (paper_body(surprise="field"), 422, "surprise"),
        (paper_body(title="x" * 10_000), 422, "title"),
        (paper_body(title="Hidden\u200binstruction"), 422, "U+200B"),
        (paper_body(title="Bell\x07"), 422, "control character"),
        (paper_body(abstract="fine\u202eevil"), 422, "U+202E"),
        (paper_body(authors=[]), 422, "authors"),
        (paper_body(authors=[{"kind": "agent"}]), 422, "agent_id"),
        (paper_body(authors=[{"name": "X", "orcid": "0000-0002-1825-0098"}]), 422, "ORCID"),
        (paper_body(licence="GPL-3.0"), 422, "licence"),
        (paper_body(pdf_sha256="ab" * 32, source=None), 422, "upload it first"),
        (paper_body(source=None), 422, "needs"),
        (paper_body(kind="dataset"), 422, "kind"),
    ]
    for body, status, needle in cases:
        if isinstance(body, str):
            response = client.post(
                "/api/v1/submissions", headers={**headers, "Content-Type": "application/json"}, content=body
            )
        else:
            response = client.post("/api/v1/submissions", headers=headers, json=body)
        assert response.status_code == status, (needle, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert needle in response.text, (needle, response.text)
    assert _count(runtime, Submission) == 0
    assert _count(runtime, SubmissionVersion) == 0
    assert _count(runtime, Transition) == 0


def test_unknown_ids_and_versions(client: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    assert client.get("/api/v1/submissions/2101.99999").status_code == 404
    assert client.get(f"/api/v1/submissions/{item['id']}v9").status_code == 404
    assert client.get(f"/api/v1/submissions/{item['id']}v0").status_code == 422
    assert client.get("/api/v1/submissions/not-an-id").status_code == 422
    assert client.get(f"/api/v1/submissions/{item['id']}/pdf").status_code == 404  # markdown only
    assert client.get("/api/v1/nowhere").json()["type"] == "urn:openxiv:problem:not-found"


def test_scopes_revocation_and_ownership(client: Any) -> None:
    first = register(client)
    token = first["key"]["token"]
    read_only = client.post("/api/v1/keys", headers=auth(token), json={"scopes": ["read"]}).json()
    refused = client.post("/api/v1/submissions", headers=auth(read_only["token"]), json=paper_body())
    assert refused.status_code == 403 and "submit" in refused.json()["detail"]
    assert client.post("/api/v1/keys", headers=auth(token), json={"scopes": ["moderate"]}).status_code == 403
    assert client.delete(f"/api/v1/keys/{read_only['id']}", headers=auth(token)).status_code == 200
    revoked = client.get("/api/v1/me", headers=auth(read_only["token"]))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
    assert client.get("/api/v1/me", headers=auth("oxk_nothing_here")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    keys = client.get("/api/v1/keys", headers=auth(token)).json()
    assert keys[0]["last_used_at"] is not None and "token" not in keys[0]

    item = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()
    other = register(client, email="mallory@example.org")["key"]["token"]
    body = version_body(response_letter="mine now")
    assert (
        client.post(f"/api/v1/submissions/{item['id']}/versions", headers=auth(other), json=body).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/submissions/{item['id']}/withdraw", headers=auth(other), json={"reason": "x"}
        ).status_code
        == 403
    )
    assert client.post("/api/v1/submissions", json=paper_body()).status_code == 401


def test_idempotency_keys(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    headers = {**auth(token), "Idempotency-Key": "create-1"}
    first = client.post("/api/v1/submissions", headers=headers, json=paper_body())
    second = client.post("/api/v1/submissions", headers=headers, json=paper_body())
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"
    assert _count(runtime, Submission) == 1
    different = client.post("/api/v1/submissions", headers=headers, json=paper_body(title="Another"))
    assert (
        different.status_code == 422
        and different.json()["type"] == "urn:openxiv:problem:idempotency-key-reused"
    )
    # Keys belong to the caller: someone else may use the same key string.
    other = register(client, email="bob@example.org")["key"]["token"]
    theirs = client.post(
        "/api/v1/submissions", headers={**auth(other), "Idempotency-Key": "create-1"}, json=paper_body()
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    # A refused request is replayed as refused, not retried into a different outcome.
    bad_headers = {**auth(token), "Idempotency-Key": "bad-1"}
    assert (
        client.post("/api/v1/submissions", headers=bad_headers, json=paper_body(title="")).status_code == 422
    )
    assert (
        client.post("/api/v1/submissions", headers=bad_headers, json=paper_body(title="")).status_code == 422
    )
    assert _count(runtime, Submission) == 2


def test_account_registration_rules(client: Any) -> None:
    base = {"email": "x@example.org", "password": "long enough pw", "display_name": "X"}
    assert client.post("/api/v1/accounts", json={**base, "accept_policy": False}).status_code == 422
    bad_orcid = client.post(
        "/api/v1/accounts", json={**base, "accept_policy": True, "orcid": "0000-0002-1825-0098"}
    )
    assert bad_orcid.status_code == 422 and "ORCID" in bad_orcid.json()["detail"]
    ok = client.post(
        "/api/v1/accounts",
        json={**base, "accept_policy": True, "orcid": "https://orcid.org/0000-0002-1825-0097"},
    )
    assert ok.status_code == 201
    account = ok.json()["account"]
    assert (
        account["orcid"] == "0000-0002-1825-0097"
        and account["policy_version"]
        and account["policy_accepted_at"]
    )
    assert (
        client.post(
            "/api/v1/accounts", json={**base, "accept_policy": True, "email": "X@Example.org"}
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/v1/accounts", json={**base, "accept_policy": True, "email": "not-an-email"}
        ).status_code
        == 422
    )
    key = client.post("/api/v1/auth/keys", json={"email": "x@example.org", "password": "long enough pw"})
    assert key.status_code == 201 and key.json()["token"].startswith("oxk_")
    assert (
        client.post(
            "/api/v1/auth/keys", json={"email": "x@example.org", "password": "wrong password"}
        ).status_code
        == 401
    )


def test_author_filter_matches_word_prefixes_of_the_latest_version(client: Any) -> None:
    token = register(client)["key"]["token"]
    item = client.post(
        "/api/v1/submissions",
        headers=auth(token),
        json=paper_body(authors=[{"name": "Chén Lǐ-Wang"}, {"name": "Ada Lovelace"}]),
    ).json()

    def found(query: str) -> bool:
        items = client.get("/api/v1/submissions", params={"author": query}).json()["items"]
        return item["id"] in [i["id"] for i in items]

    assert found("chen") and found("LI wang") and found("love") and found("ada lov")
    assert not found("ovelace") and not found("ada smith")
    client.post(
        f"/api/v1/submissions/{item['id']}/versions",
        headers=auth(token),
        json=version_body(authors=[{"name": "Grace Hopper"}]),
    )
    assert found("hopper") and not found("lovelace")


def test_a_version_list_costs_the_same_queries_however_many_versions(client: Any, runtime: Any) -> None:
    """Files, authors and screening runs of every version are loaded together, not per version;
    and the typed metadata is stored as the same JSON the column always held."""
    token = register(client)["key"]["token"]

    def paper(title: str) -> str:
        created = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(title=title))
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    single, revised = paper("One version only"), paper("Three versions")
    for n in (2, 3):
        source = {"format": "markdown", "text": f"# Revision {n}\n\n## Abstract\nWhat changed in round {n}."}
        revision = client.post(
            f"/api/v1/submissions/{revised}/versions",
            headers=auth(token),
            json=version_body(title=f"Three versions, v{n}", source=source),
        )
        assert revision.status_code == 201, revision.text

    def listing(identifier: str) -> tuple[list[dict[str, Any]], list[str]]:
        with recorded_statements(*runtime.engines) as statements:
            answer = client.get(f"/api/v1/submissions/{identifier}/versions", headers=auth(token))
        assert answer.status_code == 200, answer.text
        return answer.json(), statements

    one, one_queries = listing(single)
    three, three_queries = listing(revised)
    assert [v["version"] for v in one] == [1] and [v["version"] for v in three] == [1, 2, 3]
    assert len({v["source"]["sha256"] for v in three}) == 3  # three different files, all present
    assert all(v["screening"] is not None for v in three)  # the owner sees every screening
    assert len(three_queries) == len(one_queries)
    # Files come joined to their versions: no statement of their own.
    assert not any("FROM blobs" in s for s in three_queries)
    assert sum("JOIN blobs" in s for s in three_queries) == 1

    with runtime.read_sessions() as session:
        stored = session.scalar(select(SubmissionVersion.meta).where(SubmissionVersion.number == 3))
    assert stored == {
        "keywords": ["optimisation"],
        "categories": ["cs.LG"],
        "licence": "CC-BY-4.0",
        "ai_involvement": "None: written by the human author.",
        "ip_attribution": {"model_developer": "none", "initiating_human": "Ada Example"},
        "links": {"code": None, "data": None},
        "corresponding_author": 0,
    }
    # A row written with fewer fields reads with the defaults the API always showed.
    assert VersionMeta.from_column({}).ip_attribution.model_dump() == {
        "model_developer": "",
        "initiating_human": "",
    }
