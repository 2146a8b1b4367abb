"""Fallback load generator when `wrk` is not installed: asyncio + httpx in its own process.

Usage: python bench/core/loadgen.py URL PATHS_FILE CONCURRENCY SECONDS  -> one JSON line on stdout,
with the same keys as the wrk script (latencies in microseconds). A line of PATHS_FILE is a path, or
a path, a tab and an entity tag to send as `If-None-Match`.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

import httpx


async def main(url: str, paths: list[str], concurrency: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    unchanged = {"not_modified": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    path, _, etag = rng.choice(paths).partition("\t")
                    response = await client.get(path, headers={"If-None-Match": etag} if etag else None)
                except httpx.TimeoutException:
                    errors["timeout"] += 1
                    continue
                except httpx.ConnectError:
                    errors["connect"] += 1
                    continue
                except httpx.HTTPError:
                    errors["read"] += 1
                    continue
                latencies.append((time.perf_counter() - t0) * 1e6)
                if response.status_code >= 400:
                    errors["status"] += 1
                elif response.status_code == 304:
                    unchanged["not_modified"] += 1

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] if latencies else 0.0

    return {
        "requests": len(latencies),  # answers, as wrk counts them; socket errors are counted apart
        "duration_us": elapsed * 1e6,
        **errors,
        "p50_us": pct(50),
        "p99_us": pct(99),
        "max_us": latencies[-1] if latencies else 0.0,
        "mean_us": sum(latencies) / len(latencies) if latencies else 0.0,
        **unchanged,
    }


if __name__ == "__main__":
    base, paths_file, concurrency, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    with open(paths_file, encoding="utf-8") as handle:
        all_paths = [line.strip() for line in handle if line.strip()]
    print(json.dumps(asyncio.run(main(base, all_paths, concurrency, seconds))))
