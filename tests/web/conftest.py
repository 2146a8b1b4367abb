"""Fixtures of the web UI tests: the app with the deterministic `test` model reviewing, and
helpers that act as a person in a browser (session cookie, CSRF token from the page)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from openxiv.accounts import service as accounts
from openxiv.db import transaction
from tests.core.helpers import register

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(settings: Any) -> Any:
    return settings.model_copy(
        update={
            "llm": settings.llm.model_validate({"models": {"t": {"provider": "test", "model": "det-1"}}}),
            "community": settings.community.model_validate(
                {
                    "comments_per_hour": 1000,
                    "comments_per_item_per_hour": 1000,
                    "new_account_comments_per_hour": 1000,
                }
            ),
            "review": settings.review.model_validate(
                {
                    "enabled": True,
                    "single_model": "t",
                    "area_chair_model": "t",
                    "reviewer_models": ["t"],
                    "pairwise_model": "t",
                    "panel": ["t"] * 5,
                    "reviewers": 3,
                    # No score reaches this bar: v1 is sent back for revision.
                    "decision_source": "scores",
                    "score_threshold": {"paper": 0.999, "proposal": 0.999},
                    "reject_below": 0.0,
                }
            ),
        }
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    form = client.get("/login").text
    signed = client.post(
        "/login", data={"email": email, "password": password, "csrf": csrf_of(form)}, follow_redirects=False
    )
    assert signed.status_code == 303, signed.text
    return csrf_of(client.get("/account").text)


def make_moderator(client: Any, runtime: Any, email: str = "moderator@example.org") -> None:
    account_id = register(client, email=email)["account"]["id"]
    with transaction(runtime.write_sessions) as session:
        account = accounts.get_account(session, account_id)
        accounts.set_roles(session, account, ["author", "moderator"])
