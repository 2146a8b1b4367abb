"""Append-only JSON Lines of finished work items, so an interrupted evaluation picks up where it stopped.

Each line is one finished item keyed by `key`. A line cut short by a crash is ignored (and
rewritten when its item is redone). The engine's own call records make repeated model calls
cheap; this log makes them unnecessary for items that completed.

A log made with an engine configuration (model, sampling, prompt and rubric versions) stamps each
line with a fingerprint of it, and refuses to resume under another configuration: results of two
configurations would otherwise be mixed in one report without a trace.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


class ConfigurationChanged(ValueError):
    """The log holds results of another engine configuration than the one asked to resume it."""


def fingerprint(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


class RunLog:
    def __init__(self, path: Path, config: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.config = fingerprint(config) if config is not None else None
        self._done: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a half-written last line from an interrupted run
                if isinstance(item, dict) and "key" in item:
                    self._check(item)
                    self._done[str(item["key"])] = item

    def _check(self, item: dict[str, Any]) -> None:
        # Lines written before logs were stamped carry no fingerprint and are taken as they are.
        made_with = item.get("config")
        if self.config is not None and made_with is not None and made_with != self.config:
            raise ConfigurationChanged(
                f"{self.path} holds results made with another engine configuration (model, sampling, "
                "prompts or rubric changed since); use a new --out folder, or delete that file to redo them"
            )

    def __contains__(self, key: str) -> bool:
        return key in self._done

    def get(self, key: str) -> dict[str, Any] | None:
        return self._done.get(key)

    def items(self) -> list[dict[str, Any]]:
        return list(self._done.values())

    def add(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        item = {"key": key, **record}
        if self.config is not None:
            item["config"] = self.config
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torn = False
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as tail:
                tail.seek(-1, os.SEEK_END)
                torn = tail.read(1) != b"\n"
        with self.path.open("a", encoding="utf-8") as handle:
            if torn:
                handle.write("\n")  # fence off a torn line left by a crash
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._done[key] = item
        return item


class RunAborted(RuntimeError):
    """Several items in a row failed: the engine is misconfigured or down, so the run stops."""


class FailureStreak:
    """Counts consecutive failures; `limit` in a row raises `RunAborted` with the last error."""

    def __init__(self, log: RunLog, limit: int = 3) -> None:
        self.log = log
        self.limit = limit
        self.count = 0

    def ok(self) -> None:
        self.count = 0

    def failed(self, error: str) -> None:
        self.count += 1
        if self.count >= self.limit:
            raise RunAborted(
                f"stopped after {self.count} failures in a row: {error} (finished items are kept in "
                f"{self.log.path}; run the same command again to resume)"
            )
