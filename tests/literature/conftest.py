"""Fixtures of the literature tests: recorded responses served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from openxiv.literature.settings import LiteratureSettings, ServiceSettings

FIXTURES = Path(__file__).parent / "fixtures"

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Hit:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float


@dataclass
class ReplayServer:
    """Routes a path to a list of replies, played in order (the last one repeats)."""

    routes: dict[str, list[Reply | Callable[[Hit], Reply]]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    url: str = ""

    def route(self, path: str, *replies: Reply | Callable[[Hit], Reply]) -> None:
        self.routes[path] = list(replies)

    def fixture(self, path: str, name: str, content_type: str = "application/json") -> None:
        self.route(path, (200, {"Content-Type": content_type}, (FIXTURES / name).read_bytes()))

    def hits_for(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def answer(self, hit: Hit) -> Reply:
        replies = self.routes.get(hit.path)
        if not replies:
            return 404, {"Content-Type": "application/json"}, b'{"error": "Not found"}'
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply(hit) if callable(reply) else reply


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    state = ReplayServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            hit = Hit(parts.path, parse_qs(parts.query), dict(self.headers), time.monotonic())
            state.hits.append(hit)
            status, headers, body = state.answer(hit)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def online_settings(
    server: ReplayServer, tmp_path: Path, interval: float = 0.0, **extra: object
) -> LiteratureSettings:
    """Settings that point every service at the replay server under its own prefix."""
    return LiteratureSettings(
        index_dir=tmp_path / "index",
        online=True,
        index_refresh_interval_s=0.0,
        semantic_scholar=ServiceSettings(base_url=f"{server.url}/s2", min_interval_s=interval),
        arxiv=ServiceSettings(base_url=f"{server.url}/arxiv", min_interval_s=interval),
        openalex=ServiceSettings(base_url=f"{server.url}/openalex", min_interval_s=interval),
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def lit_settings(tmp_path: Path) -> LiteratureSettings:
    return LiteratureSettings(index_dir=tmp_path / "index", index_refresh_interval_s=0.0)
