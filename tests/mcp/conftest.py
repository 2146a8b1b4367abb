"""A real site for the MCP tests: the web app served by uvicorn on a loopback port (REST and
streamable HTTP at /mcp) and `openxiv mcp` subprocesses over stdio, on one SQLite database.

The deterministic `test` model answers every review call, so submissions go through screening,
review and the vote inline (queue `immediate`) and have real reviews and panels to read.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import tomllib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from mcp import Client
from openxiv.app import create_app
from openxiv.config import Settings
from openxiv.db import make_engine
from openxiv.models import Base
from openxiv.runtime import Runtime
from tests.core.helpers import auth, paper_body, register

SECRET = "mcp-tests-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def site_toml(root: Path, *, rate_limit: str = "enabled = false") -> str:
    return f"""
mode = "dev"
database_url = "sqlite:///{root / "openxiv.db"}"
secret_key = "{SECRET}"
[storage]
root = "{root / "blobs"}"
[queue]
url = "immediate"
[rate_limit]
{rate_limit}
[literature]
index_dir = "{root / "literature-index"}"
index_refresh_interval_s = 0.0
[llm.models.t]
provider = "test"
model = "det-1"
[review]
enabled = true
single_model = "t"
area_chair_model = "t"
reviewer_models = ["t"]
pairwise_model = "t"
panel = ["t", "t", "t"]
accept_votes = 2
"""


@dataclass
class Site:
    root: Path
    url: str
    runtime: Runtime
    http: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)
    papers: dict[str, str] = field(default_factory=dict)

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    def env(self, api_key: str | None) -> dict[str, str]:
        env = {"OPENXIV_CONFIG": str(self.root / "openxiv.toml"), "PYTHONUNBUFFERED": "1"}
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        if api_key:
            env["OPENXIV_API_KEY"] = api_key
        return env

    def submit_paper(self, token: str, **overrides: Any) -> str:
        response = self.http.post("/api/v1/submissions", headers=auth(token), json=paper_body(**overrides))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def mint(self, token: str, scopes: list[str], **extra: Any) -> dict[str, Any]:
        response = self.http.post("/api/v1/keys", headers=auth(token), json={"scopes": scopes, **extra})
        assert response.status_code == 201, response.text
        return dict(response.json())


class ServedApp:
    """The web app in a uvicorn server on a thread of this process (so tests can also reach the
    database directly)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise AssertionError("the test server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def make_site(root: Path, *, rate_limit: str = "enabled = false") -> Iterator[Site]:
    root.mkdir(parents=True, exist_ok=True)
    text = site_toml(root, rate_limit=rate_limit)
    (root / "openxiv.toml").write_text(text, "utf-8")
    settings = Settings(**tomllib.loads(text))
    Base.metadata.create_all(make_engine(settings.database_url))
    runtime = Runtime(settings)
    with ServedApp(create_app(settings, runtime)) as url, httpx.Client(base_url=url, timeout=120) as http:
        yield Site(root=root, url=url, runtime=runtime, http=http)
    runtime.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Accounts: `owner` (read+submit), `reader` (the owner's read-only key), `other` (another
    author); papers: `public` (screened, reviewed, with two versions of history) and `held`."""
    for built in make_site(tmp_path_factory.mktemp("mcp-site")):
        owner = register(built.http, email="owner@example.org")
        built.tokens["owner"] = owner["key"]["token"]
        built.tokens["reader"] = built.mint(built.tokens["owner"], ["read"])["token"]
        built.tokens["other"] = register(built.http, email="other@example.org")["key"]["token"]
        built.papers["public"] = built.submit_paper(built.tokens["owner"])
        yield built


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def http_client(
    site: Site, token: str | None, query: str = "", **options: Any
) -> AsyncIterator[Client]:
    headers = auth(token) if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=120) as transport_client,
        Client(
            streamable_http_client(site.mcp_url + query, http_client=transport_client), **options
        ) as client,
    ):
        yield client


@asynccontextmanager
async def stdio_client(site: Site, token: str | None, *args: str) -> AsyncIterator[Client]:
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "openxiv.cli", "mcp", *args],
        env=site.env(token),
        cwd=str(site.root),
    )
    async with Client(parameters, read_timeout_seconds=120) as client:
        yield client


def connect(transport: str, site: Site, token: str | None) -> Any:
    return http_client(site, token) if transport == "http" else stdio_client(site, token)
