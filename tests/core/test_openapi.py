"""Property-based requests generated from our own OpenAPI document (schemathesis): no request,
however odd, may produce a server error, and responses must match the documented schemas."""

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
    secret_key="schemathesis",
    storage={"root": _tmp / "blobs"},
    queue={"url": "immediate"},
    rate_limit={"enabled": False},
    review={"enabled": False},
)
Base.metadata.create_all(make_engine(_settings.database_url))
_app = create_app(_settings)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


def _token() -> str:
    from fastapi.testclient import TestClient

    with TestClient(_app) as client:
        body = {
            "email": "fuzz@example.org",
            "password": "correct horse battery",
            "display_name": "Fuzz",
            "accept_policy": True,
        }
        return str(client.post("/api/v1/accounts", json=body).json()["key"]["token"])


TOKEN = _token()


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_responses(case: Any) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
    case.call_and_validate(checks=[not_a_server_error, content_type_conformance, response_schema_conformance])
