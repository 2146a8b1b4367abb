from __future__ import annotations

from typing import Any


class S3BlobStore:
    """Blobs in an S3-compatible bucket (AWS, MinIO, Ceph, R2) under `prefix/<sha256>`."""

    def __init__(self, bucket: str, *, prefix: str = "blobs/", endpoint_url: str | None = None) -> None:
        import boto3  # optional dependency: the `s3` extra

        self.bucket = bucket
        self.prefix = prefix
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url or None)

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256}"

    def put(self, sha256: str, data: bytes) -> None:
        if self.exists(sha256):
            return
        self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data)

    def get(self, sha256: str) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        return bytes(response["Body"].read())

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True
