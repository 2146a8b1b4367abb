"""The moderators' queue through the API: held versions are listed with screening's findings,
released to review (the pipeline continues) or rejected; only moderators may do either."""

from __future__ import annotations

import re
from typing import Any

from openxiv.accounts import service as accounts
from openxiv.db import transaction
from tests.core.helpers import auth, register
from tests.core.test_integrity_screening import _hidden_prompt_pdf, _submit_pdf


def _moderator(client: Any, runtime: Any) -> str:
    account_id = register(client, email="moderator@example.org")["account"]["id"]
    with transaction(runtime.write_sessions) as session:
        account = accounts.get_account(session, account_id)
        accounts.set_roles(session, account, ["author", "moderator"])
        return accounts.issue_key(session, account, scopes=["read", "moderate"]).token


def _decide(client: Any, token: str, identifier: str, decision: str, reason: str = "checked by hand") -> Any:
    return client.post(
        f"/api/v1/submissions/{identifier}/moderation",
        headers=auth(token),
        json={"decision": decision, "reason": reason},
    )


def test_a_moderator_releases_one_held_version_and_rejects_another(client: Any, runtime: Any) -> None:
    author = register(client)["key"]["token"]
    first = _submit_pdf(client, author, _hidden_prompt_pdf())["id"]
    second = _submit_pdf(client, author, _hidden_prompt_pdf())["id"]
    moderator = _moderator(client, runtime)

    queue = client.get("/api/v1/moderation/held", headers=auth(moderator))
    assert queue.status_code == 200, queue.text
    held = queue.json()
    assert [item["submission"]["id"] for item in held] == [first, second]  # longest-waiting first
    assert "moderator" in held[0]["reason"] and held[0]["screening"]["integrity"]["flagged"] is True
    assert "page 1" in held[0]["reason"]  # where the finding is, as the author is told

    released = _decide(client, moderator, first, "release", "white text quoted in the paper's appendix")
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "under_review"
    log = client.get(f"/api/v1/submissions/{first}/transitions", headers=auth(author)).json()
    assert log[-1]["to_status"] == "under_review" and "appendix" in log[-1]["reason"]
    assert log[-1]["actor"]["account_id"] is not None and log[-1]["actor"]["system"] is None
    # The pipeline went on from review (not configured in tests), screening kept its findings.
    runs = {
        r["stage"]: r for r in client.get(f"/api/v1/submissions/{first}/stages", headers=auth(author)).json()
    }
    assert runs["screening"]["state"] == "completed" and "released" in runs["screening"]["detail"]
    assert runs["screening"]["detail"]["integrity"]["flagged"] is True
    assert runs["review"]["state"] == "not_configured"
    public = client.get(f"/api/v1/submissions/{first}")
    assert public.status_code == 200 and public.json()["version"]["screening"] is None  # public now
    # The owner still reads why screening held it.
    mine = client.get(f"/api/v1/submissions/{first}", headers=auth(author)).json()["version"]["screening"]
    assert mine["action"] == "hold" and mine["findings"][0]["page"] == 1

    assert _decide(client, moderator, second, "reject").json()["status"] == "rejected"
    assert client.get("/api/v1/moderation/held", headers=auth(moderator)).json() == []
    again = _decide(client, moderator, second, "release")
    assert again.status_code == 409 and "not held" in again.json()["detail"]


def test_only_moderators_see_the_queue_or_decide(client: Any, runtime: Any) -> None:
    author = register(client)["key"]["token"]
    item = _submit_pdf(client, author, _hidden_prompt_pdf())["id"]
    assert client.get("/api/v1/moderation/held", headers=auth(author)).status_code == 403
    assert client.get("/api/v1/moderation/held").status_code == 401
    refused = _decide(client, author, item, "release")
    assert refused.status_code == 403
    status = client.get(f"/api/v1/submissions/{item}", headers=auth(author)).json()["status"]
    assert status == "held"  # nothing changed


def test_bad_moderation_requests_are_refused_and_change_nothing(client: Any, runtime: Any) -> None:
    author = register(client)["key"]["token"]
    item = _submit_pdf(client, author, _hidden_prompt_pdf())["id"]
    moderator = _moderator(client, runtime)
    assert _decide(client, moderator, item, "release", "").status_code == 422
    assert _decide(client, moderator, item, "publish").status_code == 422
    assert _decide(client, moderator, "2611.99999", "release").status_code == 404
    assert _decide(client, moderator, item, "release", "fine\u202e").status_code == 422  # invisible control
    assert client.get("/api/v1/moderation/held?limit=0", headers=auth(moderator)).status_code == 422
    assert len(client.get("/api/v1/moderation/held", headers=auth(moderator)).json()) == 1


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _sign_in(client: Any, email: str) -> None:
    form = client.get("/login").text
    signed = client.post(
        "/login",
        data={"email": email, "password": "correct horse battery", "csrf": _csrf(form)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text


def test_the_moderation_page_releases_a_held_version(client: Any, runtime: Any) -> None:
    author = register(client)["key"]["token"]
    item = _submit_pdf(client, author, _hidden_prompt_pdf())["id"]
    _sign_in(client, "ada@example.org")
    assert client.get("/moderation").status_code == 403  # an author is not a moderator
    _moderator(client, runtime)
    _sign_in(client, "moderator@example.org")
    page = client.get("/moderation")
    assert page.status_code == 200 and item in page.text and "integrity risk" in page.text
    assert "page 1" in page.text  # each finding with its page
    assert 'href="/moderation"' in page.text  # the menu offers the queue to moderators
    token = _csrf(page.text)

    def post(reason: str, csrf: str) -> Any:
        return client.post(
            f"/moderation/{item}",
            data={"decision": "release", "reason": reason, "csrf": csrf},
            follow_redirects=False,
        )

    assert post("looks fine", "forged").status_code == 403
    refused = post("   ", token)
    assert refused.status_code == 422 and "reason" in refused.text and item in refused.text
    assert client.get(f"/api/v1/submissions/{item}", headers=auth(author)).json()["status"] == "held"
    assert post("the white text is a quoted example of an attack", token).status_code == 303
    assert client.get(f"/api/v1/submissions/{item}").json()["status"] == "under_review"
    assert "Nothing is waiting" in client.get("/moderation").text
