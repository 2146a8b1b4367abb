"""A person in a real browser (Debian's Chromium via Playwright): register, see the demo, open
an item page with its versions and history."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        missing("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def test_register_sign_in_and_browse(
    browser: Any, live_server: str, server_env: dict[str, str], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from openxiv.cli import app

    seeded = CliRunner().invoke(app, ["demo"], env=server_env)
    assert seeded.exit_code == 0, seeded.output
    page = browser.new_page()
    page.goto(f"{live_server}/register")
    page.fill("input[name=display_name]", "Grace Reader")
    page.fill("input[name=email]", "grace@example.org")
    page.fill("input[name=password]", "short")
    page.check("input[name=accept_policy]")
    page.click("main button[type=submit]")
    assert page.url.endswith("/register")  # the browser's own minlength check keeps the form here
    page.fill("input[name=password]", "a long enough password")
    page.fill("input[name=orcid]", "0000-0002-1825-0098")  # bad checksum: the server refuses it
    page.click("main button[type=submit]")
    assert "not a valid ORCID" in page.inner_text(".error")
    assert page.input_value("input[name=display_name]") == "Grace Reader"  # nothing typed is lost
    page.fill("input[name=orcid]", "0000-0002-1825-0097")
    page.fill("input[name=password]", "a long enough password")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/account")
    assert "Grace Reader" in page.inner_text("h1")
    assert "0000-0002-1825-0097" in page.content()

    page.goto(f"{live_server}/?tab=latest&period=all")
    titles = page.locator(".listing .title").all_inner_texts()
    assert any("Gated state-space blocks" in t for t in titles)
    page.click("text=Curriculum by loss plateaus")
    assert page.inner_text("h1").startswith("Curriculum by loss plateaus")
    assert page.locator(".ids .badge.ai").count() == 1
    history = page.inner_text("table.history")
    assert "submitted" in history
    page.screenshot(path=str(tmp_path / "abs.png"), full_page=True)

    page.click("text=Sign out")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("text=Sign in").count() == 1
    # A forged form post (no CSRF token from our page) is refused.
    response = page.request.post(
        f"{live_server}/login",
        form={"email": "grace@example.org", "password": "a long enough password", "csrf": "forged"},
    )
    assert response.status == 403


def test_the_demo_admin_releases_the_held_paper(
    browser: Any, live_server: str, server_env: dict[str, str]
) -> None:
    from typer.testing import CliRunner

    from openxiv.cli import app

    assert CliRunner().invoke(app, ["demo"], env=server_env).exit_code == 0
    page = browser.new_page()
    page.goto(f"{live_server}/?tab=latest&period=all")
    assert "Warm restarts" not in page.inner_text("main")  # held items are not public
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "ada@demo.openxiv.org")
    page.fill("input[name=password]", "demo-password-123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/account")
    page.click("nav >> text=Moderation")
    held = page.locator("section.held")
    assert held.count() == 1 and "Warm restarts" in held.inner_text()
    assert "integrity risk" in held.inner_text() and "invisible render" in held.inner_text()
    page.click("text=Release to review")  # the browser refuses: a reason is required
    assert page.locator("section.held").count() == 1
    page.fill("input[name=reason]", "the comment is quoted as an example in the paper's threat model")
    page.click("text=Release to review")
    page.wait_for_selector("text=Nothing is waiting")
    page.goto(f"{live_server}/?tab=latest&period=all")
    assert "Warm restarts" in page.inner_text("main")
