"""Latency probes (one request at a time over a kept-alive connection) and the concurrent-create race."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

# A request: method, path, JSON body (or None), extra headers.
Request = tuple[str, str, dict[str, Any] | None, dict[str, str]]


@dataclass
class Latency:
    name: str
    samples_ms: list[float]
    target_ms: float | None
    errors: int = 0
    first_error: str = ""
    note: str = ""
    server_cpu_ms: float = float("nan")  # server CPU time per measured request

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def worst(self) -> float:
        return max(self.samples_ms) if self.samples_ms else float("nan")

    @property
    def meets_target(self) -> bool | None:
        return None if self.target_ms is None else (self.errors == 0 and self.p95 < self.target_ms)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(
    client: httpx.Client,
    name: str,
    make: Callable[[int], Request],
    *,
    count: int,
    warmup: int,
    cpu: Callable[[], float],
    expect: int = 200,
    target_ms: float | None = None,
    note: str = "",
) -> Latency:
    """`count` sequential requests after `warmup` unmeasured ones; any other status is an error.
    `cpu()` reads the server's CPU seconds, so the CPU cost per request is known whatever else the
    machine is doing."""
    result = Latency(name, [], target_ms, note=note)
    cpu_start = 0.0
    for i in range(warmup + count):
        if i == warmup:
            cpu_start = cpu()
        method, path, body, headers = make(i)
        started = time.perf_counter()
        response = client.request(method, path, json=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            result.errors += 1
            result.first_error = result.first_error or f"{response.status_code} {response.text[:300]}"
        elif i >= warmup:
            result.samples_ms.append(elapsed)
    result.server_cpu_ms = (cpu() - cpu_start) * 1000 / max(count, 1)
    return result


@dataclass
class Race:
    requests: int
    servers: int
    statuses: dict[int, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    first_error: str = ""

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 201)

    @property
    def distinct(self) -> int:
        return len(set(self.ids))


async def _race(urls: list[str], token: str, body_for: Callable[[int], dict[str, Any]], total: int) -> Race:
    race = Race(requests=total, servers=len(urls))
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=total, max_keepalive_connections=total)
    clients = [httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) for url in urls]
    gate = asyncio.Event()

    async def one(i: int) -> None:
        await gate.wait()
        try:
            response = await clients[i % len(clients)].post("/api/v1/submissions", json=body_for(i))
        except httpx.HTTPError as error:
            race.statuses[0] = race.statuses.get(0, 0) + 1
            race.first_error = race.first_error or repr(error)
            return
        race.statuses[response.status_code] = race.statuses.get(response.status_code, 0) + 1
        if response.status_code == 201:
            race.ids.append(response.json()["id"])
        else:
            race.first_error = race.first_error or f"{response.status_code} {response.text[:300]}"

    tasks = [asyncio.create_task(one(i)) for i in range(total)]
    await asyncio.sleep(0.05)  # every task is parked at the gate
    started = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    race.seconds = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return race


def create_race(
    urls: list[str], token: str, body_for: Callable[[int], dict[str, Any]], total: int = 200
) -> Race:
    """`total` creates released at once, spread evenly over the given server processes."""
    return asyncio.run(_race(urls, token, body_for, total))
