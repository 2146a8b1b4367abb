"""Real `openxiv` processes for the load and fault tests: a server with its worker, a worker alone.

Each instance gets its own directory, configuration file and log; the deterministic `test` model
answers every review call, so the tests exercise the queue, the database and the processes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.core.helpers import register

SECRET = "a-long-random-secret-for-the-process-tests-0123456789abcdefghij"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    root: Path
    queue_url: str
    database_url: str = ""
    workers: int = 2
    extra_toml: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.database_url = self.database_url or f"sqlite:///{self.root / 'openxiv.db'}"
        self.config = self.root / "openxiv.toml"
        self.config.write_text(
            f"""
mode = "dev"
database_url = "{self.database_url}"
secret_key = "{SECRET}"
[storage]
root = "{self.root / "blobs"}"
[queue]
url = "{self.queue_url}"
workers = {self.workers}
[rate_limit]
enabled = false
[literature]
index_dir = "{self.root / "literature-index"}"
[llm.models.t]
provider = "test"
model = "det-1"
[review]
enabled = true
single_model = "t"
area_chair_model = "t"
reviewer_models = ["t"]
pairwise_model = "t"
panel = ["t", "t", "t", "t", "t"]
{self.extra_toml}
""",
            "utf-8",
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENXIV_")}
        return {**env, "OPENXIV_CONFIG": str(self.config), "PYTHONUNBUFFERED": "1"}

    def start(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        """`openxiv ARGS...` with stdout and stderr in ROOT/LOG."""
        with open(self.root / log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "openxiv.cli", *args],
                cwd=self.root,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def openxiv(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "openxiv.cli", *args],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def log(self, name: str) -> str:
        path = self.root / name
        return path.read_text("utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def serve(instance: Instance, *, with_worker: bool) -> str:
    """Start `openxiv serve` (with or without its worker); return its URL once it answers."""
    port = free_port()
    args = ["serve", "--port", str(port), "--no-access-log"]
    process = instance.start(*args, *(["--with-worker"] if with_worker else []), log="server.log")
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(
                f"the server exited with {process.returncode}:\n{instance.log('server.log')}"
            )
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server never answered:\n{instance.log('server.log')}")


def account_token(http: httpx.Client) -> str:
    return str(register(http)["key"]["token"])


def wait_for(condition: Any, what: str, *, limit_s: float = 600) -> Any:
    """Poll until `condition()` is truthy (a safety limit against hangs, not a speed assertion)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what}")
