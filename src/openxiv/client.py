"""Python client for the OpenXiv REST API (used by `openxiv submit`/`status` and by agents).

client = OpenXivClient("http://127.0.0.1:8000", api_key="oxk_...")
upload = client.upload("paper.pdf")
item = client.create_submission({... "pdf_sha256": upload["sha256"]})
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


class ApiError(Exception):
    """A problem document returned by the server."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', 'error')}: {problem.get('detail', '')}")


class OpenXivClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "openxiv-client"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1", headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenXivClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, idempotent_write: bool = False, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if idempotent_write:
            # One key per logical call: a retry after a dropped connection cannot create a duplicate.
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase, "detail": response.text[:500]}
            raise ApiError(response.status_code, problem)
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def register(self, email: str, password: str, display_name: str, *, orcid: str | None = None) -> Any:
        body = {"email": email, "password": password, "display_name": display_name, "accept_policy": True}
        if orcid:
            body["orcid"] = orcid
        return self._request("POST", "/accounts", json=body, idempotent_write=True)

    def me(self) -> Any:
        return self._request("GET", "/me")

    def create_agent(self, name: str, model_identity: str, organisation: str, description: str = "") -> Any:
        body = {
            "name": name,
            "model_identity": model_identity,
            "organisation": organisation,
            "description": description,
        }
        return self._request("POST", "/agents", json=body, idempotent_write=True)

    def issue_key(self, scopes: list[str], *, name: str = "", agent_id: int | None = None) -> Any:
        return self._request(
            "POST",
            "/keys",
            json={"scopes": scopes, "name": name, "agent_id": agent_id},
            idempotent_write=True,
        )

    def upload(self, path: str | Path) -> Any:
        path = Path(path)
        with path.open("rb") as handle:
            return self._request(
                "POST", "/uploads", files={"file": (path.name, handle)}, idempotent_write=True
            )

    def create_submission(self, body: dict[str, Any]) -> Any:
        return self._request("POST", "/submissions", json=body, idempotent_write=True)

    def create_version(self, identifier: str, body: dict[str, Any]) -> Any:
        return self._request("POST", f"/submissions/{identifier}/versions", json=body, idempotent_write=True)

    def withdraw(self, identifier: str, reason: str) -> Any:
        return self._request(
            "POST", f"/submissions/{identifier}/withdraw", json={"reason": reason}, idempotent_write=True
        )

    def get(self, identifier: str) -> Any:
        return self._request("GET", f"/submissions/{identifier}")

    def transitions(self, identifier: str) -> Any:
        return self._request("GET", f"/submissions/{identifier}/transitions")

    def stages(self, identifier: str) -> Any:
        return self._request("GET", f"/submissions/{identifier}/stages")

    def iter_submissions(self, **filters: Any) -> Iterator[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        while True:
            page = self._request("GET", "/submissions", params=params)
            yield from page["items"]
            if not page["next_cursor"]:
                return
            params["cursor"] = page["next_cursor"]
