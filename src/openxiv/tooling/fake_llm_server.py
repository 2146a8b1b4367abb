"""A local HTTP server that speaks the OpenAI, Anthropic and Gemini wire formats.

Used by the adapter tests and by `openxiv bench review`: hosted providers are unreachable from
development machines, so the real adapters are exercised against this server on 127.0.0.1. By
default it answers every request with a valid instance of the JSON schema found in the request,
after an optional fixed delay; a `responder` can script any other answer, including errors.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from openxiv.llm.port import estimate_tokens
from openxiv.llm.replay import fill_schema


@dataclass
class FakeRequest:
    wire: str  # openai | anthropic | gemini
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    def schema(self) -> dict[str, Any] | None:
        return find_schema(self.body)

    def prompt_text(self) -> str:
        return json.dumps(self.body.get("messages") or self.body.get("contents") or "")


@dataclass
class FakeReply:
    """What the server sends: a model text (wrapped in the wire format) or a raw HTTP error."""

    text: str | None = None
    status: int = 200
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    input_tokens: int | None = None
    output_tokens: int | None = None
    # OpenAI wire only: answer with a call of the requested tool, these being its arguments.
    tool_arguments: str | None = None


Responder = Callable[[FakeRequest], FakeReply | str]


def find_schema(body: Any) -> dict[str, Any] | None:
    """The JSON schema a request asks the answer to follow, wherever the wire format puts it."""
    if isinstance(body, dict):
        for key in ("schema", "responseJsonSchema", "response_json_schema", "responseSchema", "input_schema"):
            value = body.get(key)
            if isinstance(value, dict) and ("properties" in value or "$defs" in value):
                return value
        for value in body.values():
            found = find_schema(value)
            if found is not None:
                return found
    elif isinstance(body, list):
        for value in body:
            found = find_schema(value)
            if found is not None:
                return found
    return None


def schema_responder(request: FakeRequest) -> FakeReply:
    schema = request.schema() or {"type": "object", "properties": {}}
    return FakeReply(json.dumps(fill_schema(schema, seed=json.dumps(request.body, sort_keys=True))))


class FakeLLMServer:
    """`with FakeLLMServer(delay_s=0.3) as server: ... server.url ...`"""

    def __init__(self, responder: Responder | None = None, *, delay_s: float = 0.0, port: int = 0) -> None:
        self.responder: Responder = responder or schema_responder
        self.delay_s = delay_s
        self.requests: list[FakeRequest] = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                # OpenAI's model list: what a supervisor polls to see that a server is up.
                data = json.dumps({"object": "list", "data": []}).encode()
                self.send_response(200 if self.path.rstrip("/").endswith("/models") else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                body = json.loads(raw or b"{}")
                wire = _wire_of(self.path)
                request = FakeRequest(wire, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(request)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if server.delay_s:
                        time.sleep(server.delay_s)
                    reply = server.responder(request)
                    if isinstance(reply, str):
                        reply = FakeReply(reply)
                    status, payload = _encode(wire, request, reply)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _wire_of(path: str) -> str:
    if "/chat/completions" in path:
        return "openai"
    if path.rstrip("/").endswith("/messages"):
        return "anthropic"
    if ":generateContent" in path:
        return "gemini"
    return "unknown"


def _encode(wire: str, request: FakeRequest, reply: FakeReply) -> tuple[int, dict[str, Any]]:
    if reply.status >= 400:
        return reply.status, _error_body(wire, reply.status, reply.error or "fake error")
    text = reply.text or ""
    model = str(request.body.get("model") or request.path.split("/models/")[-1].split(":")[0])
    tokens_in = (
        reply.input_tokens if reply.input_tokens is not None else estimate_tokens(request.prompt_text())
    )
    tokens_out = reply.output_tokens if reply.output_tokens is not None else estimate_tokens(text)
    if wire == "openai":
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if reply.tool_arguments is not None:
            name = request.body["tools"][0]["function"]["name"]
            function = {"name": name, "arguments": reply.tool_arguments}
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_1", "type": "function", "function": function}],
            }
        return 200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }
    if wire == "anthropic":
        return 200, {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        }
    if wire == "gemini":
        return 200, {
            "candidates": [
                {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": tokens_in,
                "candidatesTokenCount": tokens_out,
                "totalTokenCount": tokens_in + tokens_out,
            },
            "modelVersion": model,
        }
    return 404, {"error": {"message": f"unknown endpoint {request.path}"}}


def _error_body(wire: str, status: int, message: str) -> dict[str, Any]:
    if wire == "anthropic":
        kind = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(
            status, "api_error"
        )
        return {"type": "error", "error": {"type": kind, "message": message}}
    if wire == "gemini":
        name = {401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
        return {"error": {"code": status, "message": message, "status": name}}
    code = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "server_error")
    return {"error": {"message": message, "type": "error", "code": code}}
