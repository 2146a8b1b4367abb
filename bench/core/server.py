"""Start and stop real `openxiv serve` processes on loopback for the benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_environment(database_url: str, workdir: Path) -> dict[str, str]:
    """Production settings, except: no rate limit (the load generator is one client), and no model
    work in the pipeline (jobs are queued in a SQLite file that no worker consumes)."""
    return {
        **os.environ,
        "OPENXIV_DATABASE_URL": database_url,
        "OPENXIV_STORAGE__ROOT": str(workdir / "blobs"),
        "OPENXIV_QUEUE__URL": f"sqlite:///{workdir / 'q.db'}",
        "OPENXIV_RATE_LIMIT__ENABLED": "false",
        "OPENXIV_UPLOADS__VERSIONS_PER_HOUR": "0",  # one account creates every item
        "OPENXIV_REVIEW__ENABLED": "false",
        "OPENXIV_INTEGRITY__ENABLED": "false",
        "OPENXIV_MODE": "dev",
        "OPENXIV_SECRET_KEY": "benchmark-secret",
        "OPENXIV_CONFIG": str(workdir / "absent.toml"),  # no openxiv.toml from the caller's directory
    }


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    workers: int


def start(env: dict[str, str], workdir: Path, *, workers: int = 1, name: str = "server") -> Server:
    """`openxiv serve --workers N` (the production command), ready once every worker has started."""
    command = [sys.executable, "-m", "openxiv.cli", "serve", "--workers", str(workers), "--no-upgrade"]
    return start_command(command, env, workdir, workers=workers, name=name)


def start_command(
    command: list[str], env: dict[str, str], workdir: Path, *, workers: int = 1, name: str = "server"
) -> Server:
    """Any uvicorn-based server taking `--port` (appended here): ready once every worker has
    started and it answers the listing."""
    port = free_port()
    log = workdir / f"{name}-{port}.log"
    command = [*command, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log, workers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        started = log.read_text(errors="replace").count("Application startup complete")
        if started >= workers:
            try:
                if httpx.get(f"{server.url}/api/v1/submissions?limit=1", timeout=5).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"server did not start within 120 s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(server: Server, *, grace_s: float = 30) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            # Only this server's own process group (it was started in a new session).
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


def cpu_seconds(server: Server) -> float:
    """User + system CPU time of every live process in the server's process group (workers included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        # After the command name: state, ppid, pgrp, ..., utime (index 11), stime (index 12).
        if int(fields[2]) == server.process.pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def errors_in_log(server: Server) -> list[str]:
    """Tracebacks or 5xx lines the server logged (the load generators count client-side errors)."""
    lines = server.log.read_text(errors="replace").splitlines()
    return [line for line in lines if "Traceback" in line or '" 5' in line or "ERROR" in line]
