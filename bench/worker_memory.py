"""Memory of `openxiv worker` while it reviews with the embedded model: the worker process and
its model process (llama-cpp-python's server), sampled from /proc every half second.

Starts a server and a worker on a throwaway site, submits papers (one per worker thread, so the
threads share the one model process), and samples until every version is voted on or the time
limit is reached. Prints the peaks as JSON (MiB of resident memory).

    .venv/bin/python bench/worker_memory.py [--threads 2] [--limit-s 600]
        [--database-url postgresql://postgres@127.0.0.1:5432/openxiv_bench] [--queue-url redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.core.helpers import auth, paper_body
from tests.core.processes import Instance, account_token, serve


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found + [grandchild for child in found for grandchild in children(child)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit-s", type=float, default=600)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--queue-url", default="")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="openxiv-memory-"))
    instance = Instance(
        root, queue_url=args.queue_url or f"sqlite:///{root / 'huey.db'}", database_url=args.database_url
    )
    # The default review engine: every role on the embedded model.
    instance.config.write_text(instance.config.read_text().replace('"t"', '"embedded"'))
    if args.queue_url.startswith("redis"):
        from openxiv.config import QueueSettings
        from openxiv.worker import make_huey

        make_huey(QueueSettings(url=args.queue_url)).flush()
    peaks = {"worker_mib": 0.0, "model_mib": 0.0, "total_mib": 0.0}
    started = time.monotonic()
    done = 0
    try:
        url = serve(instance, with_worker=False)
        with httpx.Client(base_url=url, timeout=60) as http:
            headers = auth(account_token(http))
            ids = [
                http.post("/api/v1/submissions", headers=headers, json=paper_body(title=f"Paper {i}")).json()[
                    "id"
                ]
                for i in range(args.threads)
            ]
            worker = instance.start("worker", "--threads", str(args.threads), log="worker.log")
            while time.monotonic() - started < args.limit_s:
                model = sum(rss_mib(pid) for pid in children(worker.pid))
                own = rss_mib(worker.pid)
                peaks = {
                    "worker_mib": max(peaks["worker_mib"], own),
                    "model_mib": max(peaks["model_mib"], model),
                    "total_mib": max(peaks["total_mib"], own + model),
                }
                if int(time.monotonic() - started) % 10 == 0:
                    done = sum(
                        any(s["stage"] == "vote" and s["state"] == "completed" for s in
                            http.get(f"/api/v1/submissions/{i}/stages", headers=headers).json())
                        for i in ids
                    )  # fmt: skip
                    if done == len(ids):
                        break
                time.sleep(0.5)
    finally:
        instance.stop()
    result = {
        **{k: round(v, 1) for k, v in peaks.items()},
        "threads": args.threads,
        "versions_voted": done,
        "seconds": round(time.monotonic() - started, 1),
        "database": args.database_url or "sqlite",
        "queue": args.queue_url or "sqlite",
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    print(instance.log("worker.log")[-2000:], file=sys.stderr)


if __name__ == "__main__":
    main()
