"""A loopback HTTP server that speaks the part of DataCite's REST API (JSON:API) that DOI
registration uses, strictly enough to catch a wrong request:

- `POST /dois` creates a draft: Basic auth must match, the body must be
  `{"data": {"type": "dois", "attributes": {...}}}` with the DOI under the repository's prefix;
  a DOI that exists answers 422 "This DOI has already been taken".
- `PUT /dois/{doi}` updates it; with `event: publish` it becomes findable, which (as at DataCite)
  needs the required kernel-4 properties: url, creators with names, titles, publisher,
  publicationYear and types.resourceTypeGeneral. Missing ones answer 422 with one error each.

`mode` makes it misbehave: "down" answers 500, "slow" waits longer than the client's timeout.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

JSON_API = "application/vnd.api+json"


@dataclass
class FakeDataCite:
    repository_id: str = "OPENXIV.TEST"
    password: str = "s3cret-password"
    prefix: str = "10.5072"
    mode: str = "ok"  # ok | down | slow
    slow_s: float = 3.0
    dois: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    base_url: str = ""

    def missing_for_findable(self, attributes: dict[str, Any]) -> list[str]:
        missing = []
        if not str(attributes.get("url", "")).startswith(("http://", "https://")):
            missing.append("url")
        creators = attributes.get("creators") or []
        if not creators or not all(isinstance(c, dict) and c.get("name") for c in creators):
            missing.append("creators")
        titles = attributes.get("titles") or []
        if not titles or not all(isinstance(t, dict) and t.get("title") for t in titles):
            missing.append("titles")
        if not attributes.get("publisher"):
            missing.append("publisher")
        year = attributes.get("publicationYear")
        if not (isinstance(year, int) and 1000 <= year <= 9999):
            missing.append("publicationYear")
        if not (attributes.get("types") or {}).get("resourceTypeGeneral"):
            missing.append("types")
        return missing


def _handler(fake: FakeDataCite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", JSON_API)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _errors(self, status: int, *titles: str, source: str = "") -> None:
            self._answer(
                status, {"errors": [{"status": str(status), "source": source, "title": t} for t in titles]}
            )

        def _authorised(self) -> bool:
            expected = base64.b64encode(f"{fake.repository_id}:{fake.password}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._errors(401, "Bad credentials.")
                return False
            return True

        def _body(self) -> dict[str, Any] | None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                parsed = json.loads(raw)
            except ValueError:
                return None
            return parsed if isinstance(parsed, dict) else None

        def _misbehave(self) -> bool:
            if fake.mode == "down":
                self._errors(500, "Internal server error")
                return True
            if fake.mode == "slow":
                time.sleep(fake.slow_s)
                self.close_connection = True  # the client gave up long ago: nobody to answer
                return True
            return False

        def _attributes(self, body: dict[str, Any] | None) -> dict[str, Any] | None:
            data = (body or {}).get("data")
            if (
                not isinstance(data, dict)
                or data.get("type") != "dois"
                or not isinstance(data.get("attributes"), dict)
            ):
                self._errors(400, "Body must be a JSON:API document of type dois")
                return None
            if self.headers.get("Content-Type", "").split(";")[0] != JSON_API:
                self._errors(415, "Content-Type must be application/vnd.api+json")
                return None
            return data["attributes"]

        def _document(self, doi: str) -> dict[str, Any]:
            attributes = {**fake.dois[doi], "doi": doi, "state": fake.states[doi]}
            return {"data": {"id": doi, "type": "dois", "attributes": attributes}}

        def do_POST(self) -> None:
            body = self._body()
            fake.requests.append(("POST", self.path, body))
            if self._misbehave() or not self._authorised():
                return
            if self.path != "/dois":
                self._errors(404, "The resource you are looking for doesn't exist.")
                return
            attributes = self._attributes(body)
            if attributes is None:
                return
            doi = str(attributes.get("doi", "")).lower()
            if not doi.startswith(f"{fake.prefix}/"):
                self._errors(422, "DOI prefix is not allowed for this repository", source="doi")
                return
            if attributes.get("event"):
                self._errors(422, "This test expects drafts from POST", source="event")
                return
            if doi in fake.dois:
                self._errors(422, "This DOI has already been taken", source="doi")
                return
            fake.dois[doi] = {k: v for k, v in attributes.items() if k != "doi"}
            fake.states[doi] = "draft"
            self._answer(201, self._document(doi))

        def do_PUT(self) -> None:
            body = self._body()
            fake.requests.append(("PUT", self.path, body))
            if self._misbehave() or not self._authorised():
                return
            if not self.path.startswith("/dois/"):
                self._errors(404, "The resource you are looking for doesn't exist.")
                return
            doi = unquote(self.path.removeprefix("/dois/")).lower()
            attributes = self._attributes(body)
            if attributes is None:
                return
            if doi not in fake.dois:
                self._errors(404, "The resource you are looking for doesn't exist.")
                return
            merged = {**fake.dois[doi], **{k: v for k, v in attributes.items() if k not in ("doi", "event")}}
            event = attributes.get("event")
            if event == "publish":
                missing = fake.missing_for_findable(merged)
                if missing:
                    self._errors(422, *(f"{name} can't be blank" for name in missing))
                    return
                fake.states[doi] = "findable"
            fake.dois[doi] = merged
            self._answer(200, self._document(doi))

        def do_GET(self) -> None:
            fake.requests.append(("GET", self.path, None))
            doi = unquote(self.path.removeprefix("/dois/")).lower()
            if doi not in fake.dois:
                self._errors(404, "The resource you are looking for doesn't exist.")
                return
            self._answer(200, self._document(doi))

    return Handler


@contextmanager
def running_datacite(**options: Any) -> Iterator[FakeDataCite]:
    fake = FakeDataCite(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
