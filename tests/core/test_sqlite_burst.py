"""The default SQLite setup under load: a server with 2 worker threads and a burst of 50
submissions. Every submission goes through screening, review and vote, every request succeeds,
and no `database is locked` error (or any traceback) reaches the log."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.core.helpers import auth, paper_body
from tests.core.processes import Instance, account_token, serve, wait_for

BURST = 50


@pytest.mark.slow
def test_burst_of_50_submissions_on_sqlite_never_meets_a_locked_database(tmp_path: Path) -> None:
    instance = Instance(tmp_path / "site", queue_url=f"sqlite:///{tmp_path / 'site' / 'huey.db'}", workers=2)
    try:
        url = serve(instance, with_worker=True)
        with httpx.Client(base_url=url, timeout=120) as http:
            headers = auth(account_token(http))

            def submit(index: int) -> httpx.Response:
                return http.post(
                    "/api/v1/submissions", headers=headers, json=paper_body(title=f"Burst paper {index}")
                )

            with ThreadPoolExecutor(10) as pool:
                responses = list(pool.map(submit, range(BURST)))
            assert [r.status_code for r in responses] == [201] * BURST, [r.text for r in responses][:3]
            identifiers = [r.json()["id"] for r in responses]

            def all_voted() -> bool:
                for identifier in identifiers:
                    stages = http.get(f"/api/v1/submissions/{identifier}/stages", headers=headers).json()
                    if {s["stage"]: s["state"] for s in stages}.get("vote") != "completed":
                        return False
                return True

            wait_for(all_voted, "every submission to be voted on")
    finally:
        instance.stop()
    log = instance.log("server.log")
    assert "database is locked" not in log
    assert "Traceback" not in log
    assert log.count("job done:") >= BURST  # one line per finished job
