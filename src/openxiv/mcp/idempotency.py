"""`idempotency_key` on MCP writes, kept in the same table as REST's `Idempotency-Key` records.

The first successful result of a (caller, key) pair is stored and returned again for a repeat
with the same arguments; the same key with different arguments is refused; a repeat while the
first call is still running is told to retry shortly. A call that fails stores nothing, so a
retry after an error runs again. Records share REST's 24-hour retention (its purge drops them).
Keys are scoped to the credential, and the `MCP` method keeps them apart from REST's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from openxiv.accounts.authz import Principal
from openxiv.db import transaction
from openxiv.errors import Conflict, InvalidInput
from openxiv.models import IdempotencyRecord
from openxiv.runtime import Runtime

METHOD = "MCP"
MAX_KEY_LENGTH = 255
# Arguments that say how to run a call, not what it does.
_NOT_PART_OF_REQUEST = ("idempotency_key", "dry_run")


class KeyInProgress(Conflict):
    slug = "idempotency-key-in-progress"
    title = "Request in progress"


def _caller(principal: Principal) -> str:
    who = f"mcp:key:{principal.key_id}" if principal.key_id else f"mcp:account:{principal.account_id}"
    return hashlib.sha256(who.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, runtime: Runtime, digest_key: str) -> None:
        self.runtime = runtime
        self.digest_key = digest_key.encode()

    def _digest(self, tool: str, arguments: dict[str, Any]) -> str:
        request = {k: v for k, v in arguments.items() if k not in _NOT_PART_OF_REQUEST}
        canonical = json.dumps([tool, request], sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self.digest_key, canonical.encode(), hashlib.sha256).hexdigest()

    def claim(
        self, principal: Principal, key: str, tool: str, arguments: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The stored result of an earlier call with this key, or None after claiming the key for
        this call (then `finish` or `release` must follow)."""
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                f"idempotency_key must have 1 to {MAX_KEY_LENGTH} characters", field="idempotency_key"
            )
        digest = self._digest(tool, arguments)
        caller = _caller(principal)
        with transaction(self.runtime.write_sessions) as session:
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == caller, IdempotencyRecord.key == key
                )
            )
            if record is not None:
                if record.request_hash != digest or record.path != tool:
                    raise InvalidInput(
                        "this idempotency_key was already used with different arguments or another tool; "
                        "use a new key for a new request",
                        field="idempotency_key",
                    )
                if record.status_code is None:
                    raise KeyInProgress(
                        "a call with this idempotency_key is still running; retry in a second", retry_after=1
                    )
                stored: dict[str, Any] = json.loads(record.response_body or "{}")
                return stored
            session.add(
                IdempotencyRecord(principal=caller, key=key, method=METHOD, path=tool, request_hash=digest)
            )
            try:
                session.flush()
            except IntegrityError:
                raise KeyInProgress(
                    "a call with this idempotency_key is still running; retry in a second", retry_after=1
                ) from None
        return None

    def finish(self, principal: Principal, key: str, result: dict[str, Any]) -> None:
        with transaction(self.runtime.write_sessions) as session:
            record = self._record(session, principal, key)
            if record is not None:
                record.status_code = 200
                record.response_body = json.dumps(result)

    def release(self, principal: Principal, key: str) -> None:
        """The call failed: forget the claim so that a retry runs again."""
        with transaction(self.runtime.write_sessions) as session:
            record = self._record(session, principal, key)
            if record is not None and record.status_code is None:
                session.delete(record)

    @staticmethod
    def _record(session: Any, principal: Principal, key: str) -> IdempotencyRecord | None:
        return session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == _caller(principal), IdempotencyRecord.key == key
            )
        )
