from __future__ import annotations

from openxiv.config import StorageSettings
from openxiv.storage.port import BlobStore


def make_blob_store(settings: StorageSettings) -> BlobStore:
    if settings.backend == "local":
        from openxiv.storage.local import LocalBlobStore

        return LocalBlobStore(settings.root)
    if settings.backend == "s3":
        from openxiv.storage.s3 import S3BlobStore

        return S3BlobStore(
            settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url
        )
    raise ValueError(f"unknown storage backend {settings.backend!r} (use 'local' or 's3')")
