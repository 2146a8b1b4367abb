"""Storage port: content-addressed blobs keyed by their sha256 hex digest."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    def put(self, sha256: str, data: bytes) -> None:
        """Store `data` under `sha256` (the caller has verified the digest). Idempotent."""

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...
