"""A person in a real browser (Debian's Chromium via Playwright) against a real `openxiv serve`
whose reviews come from the deterministic `test` model: register, create an agent and a key,
submit through the wizard, read the reviews, revise, compare the versions, see the trajectory,
and, as a moderator, release a held paper after looking at its findings on the page image.
Screenshots of the main pages are kept under the test's artifacts directory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import missing
from tests.core.helpers import PARAGRAPH, auth, paper_body
from tests.core.processes import Instance, serve
from tests.core.test_integrity_screening import _hidden_prompt_pdf

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"
# Decide on scores with a bar no score reaches, so v1 is sent back for revision.
REVIEW = (
    'reviewers = 3\ndecision_source = "scores"\nreject_below = 0.0\nscore_threshold = { paper = 0.999 }\n'
)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $OPENXIV_TEST_ARTIFACTS/ui when set (CI keeps it), else tmp."""
    root = Path(os.environ.get("OPENXIV_TEST_ARTIFACTS", tmp_path)) / "ui"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    server = Instance(tmp_path / "server", queue_url="immediate", extra_toml=REVIEW)
    yield server
    server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        missing("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield launched
        launched.close()


def _register(page: Any, url: str, name: str, email: str) -> None:
    page.goto(f"{url}/register")
    page.fill("input[name=display_name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=accept_policy]")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/account")


def test_author_submits_reads_reviews_revises_and_a_moderator_releases(
    browser: Any, instance: Instance, artifacts: Path
) -> None:
    url = serve(instance, with_worker=False)
    page = browser.new_page(viewport={"width": 1200, "height": 900})

    _register(page, url, "Ada Example", "ada@example.org")
    page.click("summary:has-text('Register an agent')") if not page.is_visible(
        "input[name=model_identity]"
    ) else None
    page.fill("input[name=name]", "Scout")
    page.fill("input[name=model_identity]", "genesys-lite/0.1")
    page.fill("input[name=organisation]", "Example Labs")
    page.click("text=Register agent")
    page.wait_for_url(f"{url}/account#agents")
    assert "genesys-lite/0.1" in page.inner_text("ul.agents")
    page.click("summary:has-text('Issue a key')")
    page.select_option("#keys select[name=agent_id]", label="agent Scout")
    page.click("text=Issue key")
    token = page.inner_text("#secret").strip()
    assert token.startswith("oxk_")
    page.screenshot(path=str(artifacts / "key-once.png"))
    assert httpx.get(f"{url}/api/v1/agents", headers=auth(token)).status_code == 200

    # The wizard: kind, metadata with a person and the agent, Markdown with a preview, submit.
    page.goto(f"{url}/submit")
    page.check("input[name=kind][value=paper]")
    page.fill("input[name=title]", "Warm-up length and batch size")
    page.fill("textarea[name=abstract]", PARAGRAPH)
    page.select_option("select[name=author_1_who]", label="agent: Scout (genesys-lite/0.1)")
    page.fill("textarea[name=ai_involvement]", "Scout wrote the first draft; Ada checked every number.")
    page.fill("input[name=model_developer]", "Example Labs")
    page.fill(
        "textarea[name=source_text]", "# Warm-up\n\nWe fit $y = a x^2$.\n\n## Results\n" + PARAGRAPH * 3
    )
    # The live preview (the app's own script, rendered by the server) appears without a click.
    page.wait_for_selector("section.preview:not([hidden]) h1:has-text('Warm-up')", timeout=15_000)
    live = page.inner_text("section.preview")
    assert "We fit" in live and "y = a x^2" in live
    page.click("button[value=preview]")
    assert "We fit" in page.inner_text("section.preview")
    page.screenshot(path=str(artifacts / "wizard-preview.png"), full_page=True)
    page.click("button[value=submit]")
    page.wait_for_url(f"{url}/abs/*")
    identifier = page.url.rsplit("/", 1)[1]
    # The immediate queue ran screening, the meta review and the panel before the redirect.
    assert "Meta-review" in page.inner_text("section.reviews")
    assert "Panel vote" in page.inner_text("section.reviews")
    assert "genesys-lite/0.1" in page.inner_text("p.authors")
    page.screenshot(path=str(artifacts / "item-v1.png"), full_page=True)

    page.click("text=Submit a revision")
    letter = page.input_value("textarea[name=response_letter]")
    assert "P1 (" in letter and "Response:" in letter
    page.fill("textarea[name=response_letter]", letter.replace("Response: ", "Response: addressed."))
    page.fill(
        "textarea[name=source_text]",
        "# Warm-up, revised\n\nA new opening line.\n\n## Results\n" + PARAGRAPH * 3,
    )
    page.click("button[value=submit]")
    page.wait_for_url(f"{url}/abs/{identifier}v2")

    page.goto(f"{url}/abs/{identifier}")
    chart = page.locator("figure.chart svg[role=img]")
    assert chart.count() == 1 and page.locator("figure.chart circle").count() >= 2
    assert "v2" in (page.text_content("table.trajectory-table") or "")
    page.screenshot(path=str(artifacts / "item-v2.png"), full_page=True)
    page.click("text=Compare versions")
    assert (
        "A new opening line." in page.inner_text("div.diff ins >> nth=0")
        or page.locator("div.diff ins", has_text="A new opening line.").count()
    )
    page.screenshot(path=str(artifacts / "diff.png"), full_page=True)

    # Keyboard: the skip link is the first stop and lands on the main content.
    page.goto(url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)
    page.click("button[name=theme]")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.screenshot(path=str(artifacts / "home-dark.png"), full_page=True)

    # A held paper, submitted by the agent's key, and a moderator who looks and releases it.
    sha = httpx.post(
        f"{url}/api/v1/uploads", headers=auth(token), files={"file": ("p.pdf", _hidden_prompt_pdf())}
    ).json()["sha256"]
    body = paper_body(pdf_sha256=sha, title="Hidden instructions inside")
    del body["source"]
    held = httpx.post(f"{url}/api/v1/submissions", headers=auth(token), json=body, timeout=120)
    assert held.status_code == 201, held.text
    created = instance.openxiv(
        "user",
        "create",
        "mo@example.org",
        "--name",
        "Mo Derator",
        "--password",
        PASSWORD,
        "--role",
        "author",
        "--role",
        "moderator",
    )
    assert created.returncode == 0, created.stderr
    moderator = browser.new_page(viewport={"width": 1200, "height": 900})
    moderator.goto(f"{url}/login")
    moderator.fill("input[name=email]", "mo@example.org")
    moderator.fill("input[name=password]", PASSWORD)
    moderator.click("main button[type=submit]")
    moderator.click("nav >> text=Moderation")
    section = moderator.locator("section.held", has_text="Hidden instructions inside")
    image = section.locator("figure.page-image img")
    image.scroll_into_view_if_needed()
    # Lazy: it loads once scrolled into view, and it must be a real picture (not a broken link).
    moderator.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000
    )
    moderator.screenshot(path=str(artifacts / "moderation.png"), full_page=True)
    section.locator("input[name=reason]").fill("the instruction is quoted as an example")
    section.locator("text=Release to review").click()
    moderator.wait_for_selector("text=Nothing is waiting")
