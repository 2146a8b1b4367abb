"""axe-core (vendored, no network) on each main page, light and dark: no serious or critical
violation. Chromium runs the pages of a real `openxiv serve` with reviewed, revised, commented
and held items, signed in as a moderator so every page has content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.core.helpers import PARAGRAPH, auth, paper_body, version_body
from tests.core.processes import Instance, serve
from tests.core.test_integrity_screening import _hidden_prompt_pdf
from tests.web.test_browser_flow import PASSWORD, REVIEW, browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server with a reviewed and revised item (with a comment) and a held one; its moderator."""
    instance = Instance(tmp_path / "server", queue_url="immediate", extra_toml=REVIEW)
    try:
        url = serve(instance, with_worker=False)
        created = instance.openxiv(
            "user",
            "create",
            "mo@example.org",
            "--name",
            "Mo",
            "--password",
            PASSWORD,
            "--role",
            "author",
            "--role",
            "moderator",
            "--key",
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.rsplit("API key (shown once): ", 1)[1].split()[0]
        with httpx.Client(base_url=url, headers=auth(token), timeout=120) as http:
            item = http.post("/api/v1/submissions", json=paper_body()).json()["id"]
            revised = http.post(
                f"/api/v1/submissions/{item}/versions",
                json=version_body(source={"format": "markdown", "text": "# Revised\n\n" + PARAGRAPH * 3}),
            )
            assert revised.status_code == 201, revised.text
            http.post(f"/api/v1/submissions/{item}/comments", json={"body": "A *fine* point, $x^2$."})
            sha = http.post("/api/v1/uploads", files={"file": ("p.pdf", _hidden_prompt_pdf())}).json()[
                "sha256"
            ]
            body = paper_body(pdf_sha256=sha)
            del body["source"]
            assert http.post("/api/v1/submissions", json=body).status_code == 201
        yield url, item
    finally:
        instance.stop()


def _violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE.read_text("utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target)}))"
    )
    return [v for v in result if v["impact"] in BLOCKING]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_main_pages_have_no_serious_accessibility_violations(
    browser: Any,  # noqa: F811 (the imported fixture)
    site: tuple[str, str],
    theme: str,
) -> None:
    url, item = site
    # The pages forbid inline scripts (CSP); the test's own injected engine is let through.
    context = browser.new_context(bypass_csp=True, color_scheme=theme)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=email]", "mo@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/account")
    found = {}
    for path in (
        "/",
        "/?tab=latest&period=all",
        f"/abs/{item}",
        f"/abs/{item}/diff",
        "/submit",
        f"/abs/{item}/revise",
        "/account",
        "/moderation",
    ):
        page.goto(f"{url}{path}")
        for details in page.locator("details").all():
            details.evaluate("d => d.open = true")  # check what is folded too
        blocking = _violations(page)
        if blocking:
            found[path] = blocking
    # The engine does find what it should: an image without a text alternative is critical.
    page.set_content('<html lang="en"><title>t</title><main><img src="/x.png"></main></html>')
    assert [v["id"] for v in _violations(page)] == ["image-alt"]
    context.close()
    assert not found, json.dumps(found, indent=1)
