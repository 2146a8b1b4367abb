"""Requests per second under a concurrent load generator on loopback: `wrk` when installed
(little CPU of its own, which matters on 2 cores), else the asyncio/httpx driver in loadgen.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# A line of the paths file is a path, or a path, a tab and an entity tag sent as If-None-Match.
# Requests are formatted once in init(); response() counts 304s, which wrk itself counts as successes.
WRK_SCRIPT = r"""
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end
init = function(args)
  prepared = {}
  for line in io.lines(args[1]) do
    local path, etag = line:match("^([^\t]+)\t(.+)$")
    if path then
      prepared[#prepared + 1] = wrk.format("GET", path, {["If-None-Match"] = etag})
    elseif #line > 0 then
      prepared[#prepared + 1] = wrk.format("GET", line)
    end
  end
  not_modified = 0
  math.randomseed(os.time())
end
request = function()
  return prepared[math.random(#prepared)]
end
response = function(status, headers, body)
  if status == 304 then not_modified = not_modified + 1 end
end
done = function(summary, latency, requests)
  local unchanged = 0
  for _, thread in ipairs(threads) do unchanged = unchanged + thread:get("not_modified") end
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %f, "not_modified": %d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean, unchanged))
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
    not_modified: int = 0  # 304 answers (conditional requests)
    failed_responses: int = 0  # 4xx/5xx answers; `requests` counts answers, so socket errors are not in it

    @property
    def rps(self) -> float:
        """Answers that are not 4xx/5xx, per second."""
        return (self.requests - self.failed_responses) / self.seconds if self.seconds else 0.0


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
        not_modified=int(data.get("not_modified", 0)),
        failed_responses=int(data["status"]),
    )
