"""Resident memory of the embedded model's process (llama-cpp-python's server, started with the
arguments OpenXiv uses) at rest and after reading two different ~4,500-token papers, for one
prompt-cache size.

    .venv/bin/python bench/model_process_memory.py [--cache-mib 128]

Prints JSON with VmRSS in MiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from openxiv.llm.local import default_model_path, server_command
from openxiv.llm.modelprocess import free_port
from openxiv.llm.settings import EmbeddedSettings, LLMSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache-mib", type=int, default=128)
    args = parser.parse_args()
    port = free_port()
    alias = LLMSettings().alias("embedded")
    command = server_command(default_model_path(), alias, EmbeddedSettings(prompt_cache_mib=args.cache_mib))
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def rss_mib() -> float:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    try:
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        result: dict[str, float] = {"cache_mib": args.cache_mib, "at_rest": rss_mib()}
        for number, topic in enumerate(
            ["routing experts by a learned gate", "protein folding by diffusion"], 1
        ):
            paper = (f"A paper on {topic}: we study it in depth with many experiments. " * 400)[:20_000]
            httpx.post(
                f"http://127.0.0.1:{port}/v1/chat/completions",
                json={"messages": [{"role": "user", "content": paper}], "max_tokens": 1},
                timeout=1800,
            )
            result[f"after_paper_{number}"] = rss_mib()
    finally:
        process.terminate()
        process.wait()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
