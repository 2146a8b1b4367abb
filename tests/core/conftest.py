"""Fixtures of the core tests: a real `openxiv serve` process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    return {
        "OPENXIV_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "OPENXIV_STORAGE__ROOT": str(tmp_path / "blobs"),
        "OPENXIV_QUEUE__URL": "immediate",
        "OPENXIV_REVIEW__ENABLED": "false",
        "OPENXIV_MODE": "dev",
        "OPENXIV_SECRET_KEY": "cli-test",
    }


@pytest.fixture
def live_server(server_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, **server_env}
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "openxiv.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v1/submissions", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start: " + (tmp_path / "server.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
