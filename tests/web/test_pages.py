"""Every page through the TestClient: status, the content a person needs, escaping of what
people and models wrote, and refusal of forged forms."""

from __future__ import annotations

import re
from typing import Any

from tests.core.helpers import PARAGRAPH, auth, paper_body, register, version_body
from tests.core.test_integrity_screening import _hidden_prompt_pdf, _submit_pdf
from tests.web.conftest import make_moderator, sign_in

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _submit(client: Any, token: str, **overrides: Any) -> str:
    response = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(**overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_homepage_lists_latest_cards_with_reviews_filters_search_and_the_model_banner(client: Any) -> None:
    token = register(client)["key"]["token"]
    first = _submit(client, token, title=f"Warm-up {EVIL}")
    agent = client.post(
        "/api/v1/agents",
        headers=auth(token),
        json={"name": "Scout", "model_identity": "genesys-lite/0.1", "organisation": "Lab"},
    ).json()
    authors = [{"kind": "human", "name": "Ada Example"}, {"kind": "agent", "agent_id": agent["id"]}]
    second = _submit(
        client, token, title="Curriculum by loss plateaus", categories=["stat.ML"], authors=authors
    )

    home = client.get("/")
    assert home.status_code == 200
    # v1 was sent back for revision (not published): trending (published only) is empty, and says
    # where to look instead.
    assert "Nothing here yet" in home.text and "tab=latest" in home.text
    assert "deterministic test model" in home.text  # the review banner, from the settings

    latest = client.get("/?tab=latest&period=all")
    assert latest.status_code == 200
    assert first in latest.text and second in latest.text
    assert EVIL not in latest.text and "&lt;script&gt;" in latest.text  # the title is escaped
    card = latest.text.split(f'href="/abs/{second}"', 1)[1].split('<li class="card">', 1)[0]
    assert "revision requested" in card and re.search(r"rating \d+/10", card)
    assert re.search(r"votes \d/5 accept", card) and "♥ 0" in card
    assert "agent · genesys-lite/0.1" in card  # an agent author is marked with its model

    by_category = client.get("/?tab=latest&period=all&category=stat.ML").text
    assert second in by_category and first not in by_category
    assert "Nothing here yet" in client.get("/?tab=latest&period=all&kind=proposal").text
    found = client.get("/?q=plateaus").text
    assert second in found and first not in found
    assert client.get("/?status=bogus&tab=nonsense&page=-3").status_code == 200  # ignored, not a 500


def test_item_page_shows_reviews_votes_trajectory_diff_and_discussion(client: Any) -> None:
    token = register(client)["key"]["token"]
    identifier = _submit(client, token)
    revised = client.post(
        f"/api/v1/submissions/{identifier}/versions",
        headers=auth(token),
        json=version_body(
            title="Warm-up, revisited",
            source={
                "format": "markdown",
                "text": "# Warm-up\n\nA new first line.\n\n## Abstract\n"
                + PARAGRAPH * 3
                + "\n\nUnchanged <b>text</b>.",
            },
            response_letter=f"P1 answered {EVIL}",
        ),
    )
    assert revised.status_code == 201, revised.text

    page = client.get(f"/abs/{identifier}")
    assert page.status_code == 200
    html = page.text
    assert "Meta-review" in html and "Panel vote" in html and "Pairwise" in html
    assert "Strengths" in html and "Weaknesses" in html  # per-criterion structured text
    assert "det-1" in html  # each vote names its model
    assert 'role="img"' in html and '<title id="chart-title">' in html and "<polyline" in html
    assert "trajectory-table" in html and '<th scope="row">v2</th>' in html
    assert "Response letter to the reviews of v1" in html and EVIL not in html
    assert "CC-BY-4.0" in html and "initiating scientist" in html
    assert "v1" in client.get(f"/abs/{identifier}v1").text

    diff = client.get(f"/abs/{identifier}/diff?a=1&b=2")
    assert diff.status_code == 200
    assert '<ins class="add">' in diff.text and "A new first line." in diff.text
    assert "&lt;b&gt;text&lt;/b&gt;" in diff.text  # extracted text is escaped, not rendered
    assert client.get(f"/abs/{identifier}/diff?a=1&b=9").status_code == 404

    register(client, email="reader@example.org")
    csrf = sign_in(client, "reader@example.org")
    forged = client.post(f"/abs/{identifier}/comments", data={"body": "hi", "csrf": "forged"})
    assert forged.status_code == 403
    posted = client.post(
        f"/abs/{identifier}/comments",
        data={"body": f"Nice **result** $x^2$ {EVIL}", "csrf": csrf},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    comment_id = posted.headers["location"].rsplit("comment-", 1)[1]
    reply = client.post(
        f"/abs/{identifier}/comments",
        data={"body": "A reply", "parent_id": comment_id, "csrf": csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    liked = client.post(f"/abs/{identifier}/like", data={"liked": "1", "csrf": csrf}, follow_redirects=False)
    assert liked.status_code == 303
    html = client.get(f"/abs/{identifier}").text
    assert (
        "<strong>result</strong>" in html
        and "<script>" not in html.split("application/ld+json")[1].split("</script>", 1)[1]
    )
    assert "<img src=x onerror" not in html and "A reply" in html
    assert "Liked (1)" in html
    assert "♥ 1" in client.get("/?tab=latest&period=all").text


def test_the_wizard_validates_inline_previews_submits_and_revises(client: Any) -> None:
    register(client)
    csrf = sign_in(client, "ada@example.org")
    form = client.get("/submit")
    assert form.status_code == 200 and "Kind" in form.text and 'name="author_0_who"' in form.text
    base = {
        "csrf": csrf,
        "kind": "paper",
        "author_0_who": "me",
        "author_1_who": "other",
        "author_1_name": "Grace Other",
        "licence": "CC-BY-4.0",
        "ai_involvement": "Drafted with an assistant.",
        "model_developer": "Example Labs",
        "initiating_human": "Ada Example",
        "abstract": "We study warm-up.",
        "categories": "cs.LG",
        "source_text": "# Warm-up\n\nWe study $a^2$ and <script>x</script> warm-up " + "lengths " * 60,
    }
    missing_title = client.post("/submit", data={**base, "title": "", "action": "submit"})
    assert missing_title.status_code == 422
    assert 'id="err-title"' in missing_title.text  # the message sits next to the title field
    assert "Grace Other" in missing_title.text  # nothing typed is lost
    preview = client.post("/submit", data={**base, "title": "Warm-up in a wizard", "action": "preview"})
    assert preview.status_code == 200 and "Preview" in preview.text
    assert "<h1>Warm-up</h1>" in preview.text and "<script>x</script>" not in preview.text
    assert client.post("/submit", data={**base, "title": "x", "csrf": "forged"}).status_code == 403
    created = client.post(
        "/submit", data={**base, "title": "Warm-up in a wizard", "action": "submit"}, follow_redirects=False
    )
    assert created.status_code == 303, created.text
    identifier = created.headers["location"].rsplit("/", 1)[1]
    item = client.get(f"/api/v1/submissions/{identifier}").json()
    assert [a["name"] for a in item["version"]["authors"]] == ["Ada Example", "Grace Other"]
    assert item["status"] == "revision_requested"

    dashboard = client.get("/account").text
    assert identifier in dashboard and "Submit revision" in dashboard and "rating" in dashboard
    revise = client.get(f"/abs/{identifier}/revise")
    assert revise.status_code == 200
    letter = re.search(r'<textarea name="response_letter"[^>]*>(.*?)</textarea>', revise.text, re.S)
    assert letter and "P1 (" in letter.group(1) and "Response:" in letter.group(1)
    assert 'value="Warm-up in a wizard"' in revise.text  # pre-filled from v1
    posted = client.post(
        f"/abs/{identifier}/revise",
        data={
            **base,
            "title": "Warm-up in a wizard, revised",
            "base_version": "1",
            "response_letter": "P1: done.",
            "action": "submit",
        },
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    assert client.get(f"/api/v1/submissions/{identifier}").json()["latest_version"] == 2
    stale = client.post(
        f"/abs/{identifier}/revise",
        data={**base, "title": "t", "base_version": "1", "response_letter": "r", "action": "submit"},
    )
    assert stale.status_code == 409 and "latest" in stale.text, stale.status_code

    register(client, email="other@example.org")
    sign_in(client, "other@example.org")
    assert client.get(f"/abs/{identifier}/revise").status_code == 403  # not the owner


def test_dashboard_manages_agents_keys_and_webhooks(client: Any) -> None:
    register(client)
    csrf = sign_in(client, "ada@example.org")
    made = client.post(
        "/account/agents",
        data={"name": "Scout <b>", "model_identity": "genesys-lite/0.1", "organisation": "Lab", "csrf": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303
    dashboard = client.get("/account").text
    assert "Scout &lt;b&gt;" in dashboard and "genesys-lite/0.1" in dashboard
    agent_id = re.search(r'<option value="(\d+)">agent Scout', dashboard).group(1)  # type: ignore[union-attr]
    issued = client.post(
        "/account/keys",
        data={"name": "ci", "agent_id": agent_id, "scopes": ["read", "submit"], "csrf": csrf},
    )
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    token = re.search(r'<output id="secret" class="token">([^<]+)</output>', issued.text).group(1)  # type: ignore[union-attr]
    me = client.get("/api/v1/agents", headers=auth(token))
    assert me.status_code == 200  # the token shown once works
    dashboard = client.get("/account").text
    assert token not in dashboard  # and is never shown again
    key_id = re.findall(r'action="/account/keys/(\d+)/revoke"', dashboard)[-1]
    assert client.post(f"/account/keys/{key_id}/revoke", data={"csrf": "forged"}).status_code == 403
    revoked = client.post(f"/account/keys/{key_id}/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/api/v1/agents", headers=auth(token)).status_code == 401

    hook = client.post(
        "/account/webhooks",
        data={
            "url": "http://127.0.0.1:9/hook",
            "event_types": "review.completed",
            "mine_only": "yes",
            "csrf": csrf,
        },
    )
    assert hook.status_code == 200, hook.text
    assert "Signing secret" in hook.text
    hook_id = re.search(r"Webhook #(\d+) added", hook.text).group(1)  # type: ignore[union-attr]
    log = client.get(f"/account/webhooks/{hook_id}")
    assert log.status_code == 200 and "Deliveries" in log.text
    bad = client.post("/account/webhooks", data={"url": "ftp://x", "csrf": csrf})
    assert bad.status_code == 422
    deleted = client.post(f"/account/webhooks/{hook_id}/delete", data={"csrf": csrf}, follow_redirects=False)
    assert deleted.status_code == 303 and client.get(f"/account/webhooks/{hook_id}").status_code == 404


def test_moderation_page_shows_findings_on_the_page_image_and_acts_on_reports(
    client: Any, runtime: Any
) -> None:
    author = register(client)["key"]["token"]
    held = _submit_pdf(client, author, _hidden_prompt_pdf())["id"]
    public = _submit(client, author)
    make_moderator(client, runtime)
    csrf = sign_in(client, "moderator@example.org")
    page = client.get("/moderation")
    assert page.status_code == 200 and held in page.text and "Findings" in page.text
    models = page.text.split("Review models", 1)[1]
    assert "panel seat 5" in models and "<td>test</td>" in models and "det-1" in models
    image_url = re.search(rf'src="(/abs/{held}v1/integrity/page/1\.png)"', page.text)
    assert image_url, page.text
    image = client.get(image_url.group(1))
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["cache-control"] == "private, no-store"
    client.cookies.clear()
    assert client.get(image_url.group(1)).status_code == 404  # a stranger cannot see a held item

    csrf = sign_in(client, "moderator@example.org")
    reported = client.post(
        f"/api/v1/submissions/{public}/reports",
        headers=auth(author),
        json={"category": "spam", "detail": "duplicate"},
    )
    assert reported.status_code in (200, 201), reported.text
    queue = client.get("/moderation").text
    assert "Reported item" in queue and "duplicate" in queue
    assert (
        client.post(
            "/moderation/act", data={"identifier": public, "action": "hide", "reason": "r", "csrf": "x"}
        ).status_code
        == 403
    )
    hidden = client.post(
        "/moderation/act",
        data={"identifier": public, "action": "hide", "reason": "duplicate of another item", "csrf": csrf},
        follow_redirects=False,
    )
    assert hidden.status_code == 303
    released = client.post(
        f"/moderation/{held}",
        data={"decision": "release", "reason": "quoted example", "csrf": csrf},
        follow_redirects=False,
    )
    assert released.status_code == 303
    assert "Nothing is waiting" in client.get("/moderation").text


def test_theme_toggle_works_without_javascript(client: Any) -> None:
    home = client.get("/")
    assert "data-theme" not in home.text.split(">", 2)[1]  # follows the system until chosen
    assert client.post("/theme", data={"theme": "dark", "csrf": "forged"}).status_code == 403
    assert "set-cookie" not in home.headers  # a reader gets no session: the page stays cacheable
    # A visitor has no token to send; the browser's Origin header says the form is ours.
    forged = client.post("/theme", data={"theme": "dark"}, headers={"origin": "https://evil.example"})
    assert forged.status_code == 403
    switched = client.post(
        "/theme",
        data={"theme": "dark"},
        headers={"referer": "http://testserver/?tab=latest", "origin": "http://testserver"},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/?tab=latest"
    again = client.get("/")
    assert '<html lang="en" data-theme="dark">' in again.text and "☀ Light" in again.text
    assert "<script" not in again.text  # no script at all: the toggle is a form


def test_trending_lists_published_items_with_fresh_counts(client: Any, runtime: Any) -> None:
    from sqlalchemy import update

    from openxiv.db import transaction
    from openxiv.models import Submission
    from openxiv.submissions import repository
    from openxiv.submissions.lifecycle import Status
    from openxiv.submissions.service import SystemActor, transition

    token = register(client)["key"]["token"]
    identifier = _submit(client, token, title="Published warm-up")
    with transaction(runtime.write_sessions) as session:
        # Back to the state a passing vote leaves from, then the real transition (and its event).
        session.execute(
            update(Submission)
            .where(Submission.identifier == identifier)
            .values(status=Status.UNDER_REVIEW.value)
        )
        submission = repository.by_identifier(session, identifier)
        assert submission is not None
        transition(session, submission, Status.PROVISIONALLY_ACCEPTED, SystemActor("pipeline:vote"), "3 of 5")
    home = client.get("/").text
    assert identifier in home and "provisionally accepted" in home and "♥ 0" in home
    assert identifier in client.get("/?period=day&kind=paper").text
    assert identifier not in client.get("/?kind=proposal").text
    assert client.put(f"/api/v1/submissions/{identifier}/like", headers=auth(token)).status_code == 200
    # The ranking may be a minute old; what each card shows is read on every request.
    assert "♥ 1" in client.get("/").text


def test_the_discussion_is_paged_by_threads(client: Any) -> None:
    token = register(client)["key"]["token"]
    identifier = _submit(client, token)
    for n in range(31):
        posted = client.post(
            f"/api/v1/submissions/{identifier}/comments",
            headers=auth(token),
            json={"body": f"Thread number {n}."},
        )
        assert posted.status_code == 201, posted.text
    first = client.get(f"/abs/{identifier}").text
    assert "Thread number 0." in first and "Thread number 29." in first and "Thread number 30." not in first
    more = re.search(r'href="(/abs/[^"]+\?comments=[^"#]+)#comments" rel="next"', first)
    assert more, "no link to the next page of comments"
    second = client.get(more.group(1).replace("&amp;", "&")).text
    assert "Thread number 30." in second and "Thread number 29." not in second and "First comments" in second
    assert client.get(f"/abs/{identifier}?comments=garbage").status_code == 422
