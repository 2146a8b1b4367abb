"""The wizard's live preview: a same-origin script posts the Markdown to /submit/preview, which
answers the sanitised HTML the Preview button shows; the page itself has no inline script."""

from __future__ import annotations

import re
from typing import Any

from tests.core.helpers import register
from tests.web.conftest import sign_in

SOURCE = "# Warm-up\n\nWe fit $y = a x^2$ and <script>alert(1)</script> **bold**."


def test_the_live_preview_renders_what_the_preview_step_renders(client: Any) -> None:
    register(client)
    csrf = sign_in(client, "ada@example.org")
    fragment = client.post("/submit/preview", data={"csrf": csrf, "source_text": SOURCE})
    assert fragment.status_code == 200 and fragment.headers["content-type"].startswith("text/html")
    assert "<h1>Warm-up</h1>" in fragment.text and "<strong>bold</strong>" in fragment.text
    assert '<span class="math inline">' in fragment.text and "<script>" not in fragment.text
    assert "<html" not in fragment.text  # a fragment, not a page
    assert fragment.headers["cache-control"] == "private, no-store"

    form = {
        "csrf": csrf,
        "kind": "paper",
        "title": "Warm-up",
        "abstract": "We study warm-up.",
        "author_0_who": "me",
        "categories": "cs.LG",
        "licence": "CC-BY-4.0",
        "ai_involvement": "None.",
        "model_developer": "none",
        "initiating_human": "Ada Example",
        "source_text": SOURCE,
        "action": "preview",
    }
    step = client.post("/submit", data=form).text
    shown = re.search(r'<div class="preview-body">(.*?)</div></section>', step, re.S)
    assert shown and shown.group(1) == fragment.text  # the same renderer as the Preview button

    assert client.post("/submit/preview", data={"csrf": csrf, "source_text": "  "}).text == ""
    forged = client.post("/submit/preview", data={"csrf": "forged", "source_text": SOURCE})
    assert forged.status_code == 403 and "<h1>" not in forged.text and 'class="error"' in forged.text
    too_long = client.post("/submit/preview", data={"csrf": csrf, "source_text": "x" * 5_000_001})
    assert too_long.status_code == 422 and "5000000" in too_long.text
    client.cookies.clear()
    assert client.post("/submit/preview", data={"csrf": csrf, "source_text": SOURCE}).status_code == 401


def test_the_wizard_loads_its_script_from_the_app_and_keeps_the_strict_policy(client: Any) -> None:
    register(client)
    sign_in(client, "ada@example.org")
    page = client.get("/submit")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page.text, re.S)
    assert scripts == [""]  # one script, nothing inline
    assert '<script src="/static/preview.js" defer></script>' in page.text
    # Without JavaScript the preview section stays hidden until the Preview button fills it.
    assert re.search(
        r'<section class="preview"[^>]*data-live-preview="/submit/preview"[^>]* hidden>', page.text
    )
    script = client.get("/static/preview.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "/submit/preview" not in script.text  # the address comes from the page
    assert "innerHTML = html" in script.text and "source_text" in script.text
    assert "<script" not in client.get("/").text  # the other pages still run no script
