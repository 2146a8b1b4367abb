"""Requests per second under a concurrent load generator on loopback: `wrk` when installed
(little CPU of its own, which matters on 2 cores), else the asyncio/httpx driver in loadgen.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WRK_SCRIPT = r"""
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time())
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass
class Throughput:
    concurrency: int
    workers: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    driver: str
    server_cpu_ms: float = float("nan")  # server CPU time per request, all workers together

    @property
    def rps(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


# "auto" (wrk when on PATH), "wrk" or "httpx"; chosen on the command line.
_preference = "auto"


def set_preference(choice: str) -> None:
    global _preference
    _preference = choice


def _wrk() -> str | None:
    if _preference == "httpx":
        return None
    found = shutil.which("wrk")
    if found is None and _preference == "wrk":
        raise RuntimeError(
            "wrk is not installed (Debian/Ubuntu: apt-get install -y wrk); or use --load-generator httpx"
        )
    return found


def driver_name() -> str:
    return "wrk" if _wrk() else "httpx (bench/core/loadgen.py)"


def run(
    url: str, paths_file: Path, *, concurrency: int, seconds: float, workers: int, workdir: Path
) -> Throughput:
    wrk = _wrk()
    timeout = seconds + 60
    if wrk:
        script = workdir / "get_by_id.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        command = [
            wrk,
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
            "--",
            str(paths_file),
        ]
    else:
        command = [
            sys.executable,
            str(Path(__file__).with_name("loadgen.py")),
            url,
            str(paths_file),
            str(concurrency),
            str(seconds),
        ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
    data = json.loads(line)
    errors = int(data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"])
    return Throughput(
        concurrency=concurrency,
        workers=workers,
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        driver=driver_name(),
    )
