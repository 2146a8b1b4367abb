"""`Idempotency-Key` on every write: the first response to a key is stored and replayed for
retries with the same request; the same key with a different request is refused (422); a retry
while the first request is still running gets 409.

Implemented as ASGI middleware so every write endpoint gets it without code of its own. Keys are
scoped to the caller (a hash of the credential), so two clients cannot collide or read each
other's responses.

Nothing secret is stored: API key tokens in a response (POST /accounts, /auth/keys, /keys) are
replaced by `oxk_<prefix>_REDACTED` before the response is kept, so a replay names the key that
was issued but never returns its token again (the token is shown once, as everywhere); and the
request fingerprint is an HMAC under the server's secret, so a stored fingerprint of a request
that carried a password cannot be brute-forced from a database dump.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import timedelta

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openxiv.db import transaction
from openxiv.http.problems import problem_response
from openxiv.models import IdempotencyRecord
from openxiv.models.base import utcnow

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
PURGE_INTERVAL_S = 600
_REPLAYED_HEADERS = ("content-type", "location", "retry-after")
# An API key token: oxk_<public prefix>_<secret> (accounts.service.issue_key).
_TOKEN = re.compile(r"\b(oxk_[0-9a-f]+_)[A-Za-z0-9_-]+")


def redact_secrets(body: str) -> str:
    """The stored copy of a response: every API key token is cut to its public prefix."""
    return _TOKEN.sub(r"\1REDACTED", body)


def _caller(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    credential = headers.get(b"authorization") or headers.get(b"cookie") or b"anonymous"
    return hashlib.sha256(credential).hexdigest()


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        write_sessions: sessionmaker[Session],
        digest_key: str,
        path_prefix: str = "/api/",
    ) -> None:
        self.app = app
        self.write_sessions = write_sessions
        self.digest_key = digest_key.encode()
        self.path_prefix = path_prefix
        self._last_purge = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or not scope["path"].startswith(self.path_prefix)
        ):
            await self.app(scope, receive, send)
            return
        raw_key = dict(scope.get("headers") or []).get(b"idempotency-key")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            await _send_problem(
                scope,
                send,
                422,
                "invalid-idempotency-key",
                "Invalid Idempotency-Key",
                f"Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters",
            )
            return
        body = await _read_body(receive)
        digest = hmac.new(
            self.digest_key,
            scope["method"].encode()
            + b" "
            + scope["path"].encode()
            + b"?"
            + (scope.get("query_string") or b"")
            + b"\n"
            + body,
            hashlib.sha256,
        ).hexdigest()
        caller = _caller(scope)
        claim = await anyio.to_thread.run_sync(
            self._claim, caller, key, scope["method"], scope["path"], digest
        )
        if claim == "mismatch":
            await _send_problem(
                scope,
                send,
                422,
                "idempotency-key-reused",
                "Idempotency key reused",
                "this Idempotency-Key was already used with a different request",
            )
            return
        if claim == "in_progress":
            await _send_problem(
                scope,
                send,
                409,
                "idempotency-key-in-progress",
                "Request in progress",
                "a request with this Idempotency-Key is still being processed; retry shortly",
                headers={"Retry-After": "1"},
            )
            return
        if isinstance(claim, IdempotencyRecord):
            await _replay(claim, send)
            return
        await self._run_and_store(scope, body, send, caller, key)

    async def _run_and_store(self, scope: Scope, body: bytes, send: Send, caller: str, key: str) -> None:
        sent = False

        async def replay_receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            await anyio.to_thread.run_sync(self._finish, caller, key, status, headers, b"".join(chunks))

    # -- database side, run in worker threads --------------------------------------------------

    def _claim(
        self, caller: str, key: str, method: str, path: str, digest: str
    ) -> IdempotencyRecord | str | None:
        with transaction(self.write_sessions) as session:
            self._purge_expired(session)
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == caller, IdempotencyRecord.key == key
                )
            )
            if record is not None:
                if record.request_hash != digest:
                    return "mismatch"
                return record if record.status_code is not None else "in_progress"
            session.add(
                IdempotencyRecord(principal=caller, key=key, method=method, path=path, request_hash=digest)
            )
            try:
                session.flush()
            except IntegrityError:
                return "in_progress"
        return None

    def _purge_expired(self, session: Session) -> None:
        """Drop expired records at most once per PURGE_INTERVAL_S per process (created_at is
        indexed), so the purge is not on the path of every keyed write."""
        now = time.monotonic()
        if now - self._last_purge < PURGE_INTERVAL_S:
            return
        self._last_purge = now
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - RETENTION))

    def _finish(
        self, caller: str, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        with transaction(self.write_sessions) as session:
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == caller, IdempotencyRecord.key == key
                )
            )
            if record is None:
                return
            if status >= 500 or status == 429:
                session.delete(record)  # not a final answer: let the client retry with the same key
                return
            record.status_code = status
            record.response_body = redact_secrets(body.decode("utf-8", errors="replace"))
            record.response_headers = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in headers
                if k.decode("latin-1").lower() in _REPLAYED_HEADERS
            }


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return b"".join(chunks)


async def _replay(record: IdempotencyRecord, send: Send) -> None:
    body = (record.response_body or "").encode("utf-8")
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record.response_headers.items()]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_problem(
    scope: Scope,
    send: Send,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    response = problem_response(status, slug, title, detail, instance=scope["path"], headers=headers)

    async def no_receive() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_receive, send)
