"""Event fan-out: how long a decision takes to reach 100 SSE subscribers.

Starts `openxiv serve` (a real server process on loopback, SQLite, review off), opens N streams
(`GET /api/v1/events?type=submission.status_changed`, httpx in one asyncio loop of this process),
then, round after round, makes a status transition and times, for every subscriber, the moment
its copy of that event arrives. Two kinds of decision:

- `rest`: the owner withdraws a paper through the API (the transition commits in the server,
  which wakes its stream poller at once); timed from just before the request is sent;
- `worker`: another process (this one, writing to the same database, as the job worker does when
  a vote decides) moves a paper to provisionally accepted; timed from just before its commit, so
  it includes the server's polling interval (default 200 ms).

Reports per kind p50/p95/max over all subscriber deliveries and the per-round maximum (the time
until *all* N subscribers had it).

    .venv/bin/python bench/events_fanout.py [--subscribers 100] [--rounds 20] [--out result.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdef"
PAPER = {
    "kind": "paper",
    "title": "Warm-up length and batch size in small transformers",
    "abstract": "We study how the learning-rate warm-up length interacts with batch size.",
    "authors": [{"kind": "human", "name": "Ada Example"}],
    "categories": ["cs.LG"],
    "ai_involvement": "None.",
    "ip_attribution": {"model_developer": "none", "initiating_human": "Ada Example"},
    "source": {"format": "markdown", "text": "# Warm-up\n\n" + "A sentence about warm-up. " * 200},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    database_url = f"sqlite:///{root / 'bench.db'}"
    config = root / "openxiv.toml"
    config.write_text(
        f'mode = "dev"\ndatabase_url = "{database_url}"\nsecret_key = "{SECRET}"\n'
        f'[storage]\nroot = "{root / "blobs"}"\n[queue]\nurl = "immediate"\n[rate_limit]\nenabled = false\n'
        f'[review]\nenabled = false\n[literature]\nindex_dir = "{root / "index"}"\n',
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENXIV_")}
    env["OPENXIV_CONFIG"] = str(config)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "openxiv.cli", "serve", "--port", str(port), "--no-access-log"],
        cwd=root,
        env=env,
        stdout=(root / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return process, url, database_url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start:\n" + (root / "server.log").read_text())


class Subscriber:
    """One stream; records when each (submission, status) event arrived."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.url = url
        self.arrived: dict[tuple[str, str], float] = {}
        self.ready = asyncio.Event()

    async def run(self) -> None:
        params = {"type": "submission.status_changed"}
        async with self.client.stream(
            "GET", f"{self.url}/api/v1/events", params=params, timeout=None
        ) as response:
            async for line in response.aiter_lines():
                if line.startswith("retry:"):
                    self.ready.set()
                elif line.startswith("data: "):
                    now = time.perf_counter()
                    document = json.loads(line[6:])
                    self.arrived[(document["submission"], document["payload"]["status"])] = now


async def measure(url: str, database_url: str, subscribers: int, rounds: int) -> dict[str, Any]:
    from openxiv.db import make_engine, make_session_factory, transaction
    from openxiv.submissions import repository
    from openxiv.submissions.lifecycle import Status
    from openxiv.submissions.service import SystemActor, transition

    limits = httpx.Limits(max_connections=subscribers + 10, max_keepalive_connections=subscribers + 10)
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as api,
        httpx.AsyncClient(limits=limits, timeout=60) as streams,
    ):
        account = await api.post(
            "/api/v1/accounts",
            json={
                "email": "bench@example.org",
                "password": "correct horse battery",
                "display_name": "Bench",
                "accept_policy": True,
            },
        )
        headers = {"Authorization": f"Bearer {account.json()['key']['token']}"}
        listeners = [Subscriber(streams, url) for _ in range(subscribers)]
        tasks = [asyncio.create_task(listener.run()) for listener in listeners]
        await asyncio.wait_for(asyncio.gather(*(listener.ready.wait() for listener in listeners)), 60)

        engine = make_engine(database_url, pool_size=2)
        other_process = make_session_factory(engine, write=True)
        results: dict[str, dict[str, list[float]]] = {
            kind: {"each": [], "all": []} for kind in ("rest", "worker")
        }
        for round_number in range(rounds):
            for kind in ("rest", "worker"):
                created = await api.post("/api/v1/submissions", headers=headers, json=PAPER)
                identifier = created.json()["id"]
                await asyncio.sleep(0.3)  # the creation's own events pass first
                if kind == "rest":
                    key = (identifier, "withdrawn")
                    started = time.perf_counter()
                    answer = await api.post(
                        f"/api/v1/submissions/{identifier}/withdraw",
                        headers=headers,
                        json={"reason": "bench"},
                    )
                    assert answer.status_code == 200, answer.text
                else:
                    key = (identifier, "provisionally_accepted")

                    def decide(identifier: str = identifier) -> float:
                        with transaction(other_process) as session:
                            submission = repository.by_identifier(session, identifier)
                            assert submission is not None
                            transition(
                                session,
                                submission,
                                Status.PROVISIONALLY_ACCEPTED,
                                SystemActor("bench"),
                                "vote",
                            )
                            session.flush()
                            moment = time.perf_counter()
                        return moment

                    started = await asyncio.to_thread(decide)
                deadline = time.perf_counter() + 30
                while any(key not in listener.arrived for listener in listeners):
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"round {round_number} {kind}: not every subscriber got the event")
                    await asyncio.sleep(0.005)
                delays = [(listener.arrived[key] - started) * 1000 for listener in listeners]
                results[kind]["each"].extend(delays)
                results[kind]["all"].append(max(delays))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        engine.dispose()

    def summary(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)], 1),  # nearest rank
            "max_ms": round(ordered[-1], 1),
        }

    return {
        "subscribers": subscribers,
        "rounds": rounds,
        **{
            kind: {"each_subscriber": summary(values["each"]), "all_subscribers": summary(values["all"])}
            for kind, values in results.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openxiv-events-bench-") as tmp:
        process, url, database_url = start_server(Path(tmp))
        try:
            result = asyncio.run(measure(url, database_url, args.subscribers, args.rounds))
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
