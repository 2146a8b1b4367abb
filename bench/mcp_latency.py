"""MCP read-tool latency over streamable HTTP against the same REST call, in one run, and the size
of the tool list an agent loads.

Starts `openxiv serve` (a real server process on loopback, SQLite, review off), seeds an account
and a paper, then times each pair alternately -- REST with a keep-alive httpx client, MCP with
the `mcp` SDK's client on one connection -- after a warm-up. Reports p50/p95 per pair and the
MCP/REST ratio. Tool-list size is in characters and in tokens estimated as characters / 4: the
whole `tools/list` JSON, and the part a host puts in the model's context (name, description,
input schema), per toolset.

    .venv/bin/python bench/mcp_latency.py [--requests 200] [--out result.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
import httpx2
from mcp.client.streamable_http import streamable_http_client

from mcp import Client

SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdef"
PAPER = {
    "kind": "paper",
    "title": "Warm-up length and batch size in small transformers",
    "abstract": "We study how the learning-rate warm-up length interacts with batch size.",
    "authors": [{"kind": "human", "name": "Ada Example"}],
    "categories": ["cs.LG"],
    "ai_involvement": "None.",
    "ip_attribution": {"model_developer": "none", "initiating_human": "Ada Example"},
    "source": {"format": "markdown", "text": "# Warm-up\n\n" + "A sentence about warm-up. " * 2000},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    config = root / "openxiv.toml"
    config.write_text(
        f'mode = "dev"\ndatabase_url = "sqlite:///{root / "bench.db"}"\nsecret_key = "{SECRET}"\n'
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
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start:\n" + (root / "server.log").read_text())


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def tool_list_size(tools: list[Any]) -> dict[str, int]:
    full = json.dumps([t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools])
    context = json.dumps(
        [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools]
    )
    return {
        "tools": len(tools),
        "full_chars": len(full),
        "full_tokens_est": len(full) // 4,
        "context_chars": len(context),
        "context_tokens_est": len(context) // 4,
    }


async def measure(url: str, token: str, identifier: str, requests: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    pairs = {
        "get_submission": (
            ("get_submission", {"id": identifier}),
            f"/api/v1/submissions/{identifier}",
            {},
        ),
        "read_text": (
            ("read_text", {"id": identifier, "start": 0, "max_chars": 8000}),
            f"/api/v1/submissions/{identifier}/text",
            {},
        ),
        "search_submissions": (
            ("search_submissions", {"kind": "paper", "limit": 10}),
            "/api/v1/submissions",
            {"kind": "paper", "limit": 10},
        ),
    }
    results: dict[str, Any] = {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as transport,
        Client(streamable_http_client(f"{url}/mcp", http_client=transport)) as client,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as rest,
    ):
        protocol = client.protocol_version
        sizes = {"all": tool_list_size((await client.list_tools()).tools)}
        for name, ((tool, arguments), path, params) in pairs.items():
            mcp_times: list[float] = []
            rest_times: list[float] = []
            for round_number in range(requests + 20):
                started = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                mcp_elapsed = time.perf_counter() - started
                assert not result.is_error, result.content
                started = time.perf_counter()
                response = await rest.get(path, params=params)
                rest_elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if round_number >= 20:  # warm-up: connections, caches, first imports
                    mcp_times.append(mcp_elapsed)
                    rest_times.append(rest_elapsed)
            mcp_stats, rest_stats = percentiles(mcp_times), percentiles(rest_times)
            results[name] = {
                "mcp": mcp_stats,
                "rest": rest_stats,
                "ratio_p50": round(mcp_stats["p50_ms"] / rest_stats["p50_ms"], 2),
                "ratio_p95": round(mcp_stats["p95_ms"] / rest_stats["p95_ms"], 2),
            }
    for toolset in ("reader", "author"):
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as transport,
            Client(streamable_http_client(f"{url}/mcp?toolsets={toolset}", http_client=transport)) as client,
        ):
            sizes[toolset] = tool_list_size((await client.list_tools()).tools)
    return {"protocol": protocol, "requests": requests, "latency": results, "tool_list": sizes}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="timed calls per tool and per API")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="openxiv-mcp-bench-"))
    process, url = start_server(root)
    try:
        account = httpx.post(
            f"{url}/api/v1/accounts",
            json={
                "email": "bench@example.org",
                "password": "correct horse battery",
                "display_name": "Bench",
                "accept_policy": True,
            },
        ).json()
        token = account["key"]["token"]
        created = httpx.post(
            f"{url}/api/v1/submissions", json=PAPER, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
        created.raise_for_status()
        report = asyncio.run(measure(url, token, created.json()["id"], args.requests))
    finally:
        process.terminate()
        process.wait(30)
    report["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
