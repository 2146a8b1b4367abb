"""The webhook verifier printed in docs/agents.md accepts what the server signs, and nothing else."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from openxiv.events import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"


def documented_verifier() -> Any:
    text = DOC.read_text("utf-8")
    match = re.search(r"<!-- verifier:[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "the verifier block is missing from docs/agents.md"
    assert len(match.group(1).strip().splitlines()) <= 10
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(DOC), "exec"), namespace)
    return namespace["verify"]


def test_the_documented_verifier_checks_signatures_as_the_server_makes_them() -> None:
    verify = documented_verifier()
    body = b'{"id":7,"type":"submission.status_changed","submission":"2612.00001"}'
    secret = signing.new_secret()
    header = signing.signature_header(secret, body)
    assert verify(secret, header, body)
    assert not verify(secret, header, body.replace(b"7", b"8"))
    assert not verify(signing.new_secret(), header, body)
    stale = signing.signature_header(secret, body, timestamp=int(time.time()) - 301)
    assert not verify(secret, stale, body)
