"""Property-based requests generated from our own OpenAPI document (schemathesis): no request,
however odd, may produce a server error, and responses must match the documented schemas --
as an anonymous caller, with a read-only key, and with a read+submit key (the refusals, 401 and
403, must be documented problem documents too)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from openxiv.app import create_app
from openxiv.config import Settings
from openxiv.db import make_engine
from openxiv.models import Base

_tmp = Path(tempfile.mkdtemp(prefix="openxiv-schemathesis-"))
_settings = Settings(
    database_url=f"sqlite:///{_tmp / 'db.sqlite'}",
    mode="dev",
    secret_key="schemathesis",
    storage={"root": _tmp / "blobs"},
    queue={"url": "immediate"},
    rate_limit={"enabled": False},
    review={"enabled": False},
)
Base.metadata.create_all(make_engine(_settings.database_url))
_app = create_app(_settings)
# The event stream never ends by itself (tests/events reads it, and the authorization matrix
# checks who may open it); every other operation is fuzzed.
schema = schemathesis.openapi.from_asgi("/openapi.json", _app).exclude(path="/api/v1/events")


def _tokens() -> tuple[str, str]:
    """A read+submit key (the account's first) and a read-only key minted from it."""
    from fastapi.testclient import TestClient

    with TestClient(_app) as client:
        body = {
            "email": "fuzz@example.org",
            "password": "correct horse battery",
            "display_name": "Fuzz",
            "accept_policy": True,
        }
        token = str(client.post("/api/v1/accounts", json=body).json()["key"]["token"])
        read_only = client.post(
            "/api/v1/keys", headers={"Authorization": f"Bearer {token}"}, json={"scopes": ["read"]}
        )
        return token, str(read_only.json()["token"])


TOKEN, READ_ONLY_TOKEN = _tokens()
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_responses(case: Any) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_read_only_key_gets_documented_answers(case: Any) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {READ_ONLY_TOKEN}"}
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_anonymous_caller_gets_documented_answers(case: Any) -> None:
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = headers
    case.call_and_validate(checks=CHECKS)
