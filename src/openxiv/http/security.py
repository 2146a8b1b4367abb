"""Response headers that every answer carries: a strict Content-Security-Policy on pages, no
framing, no MIME sniffing, a short referrer, `Cache-Control: private, no-store` unless a handler
declared the response public, and `Secure` session cookies whenever the request came over HTTPS.

ASGI middleware, so nothing a handler returns (an error page, a redirect, a problem document)
can miss them.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages are server-rendered with no inline script or style: everything comes from /static.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Everything else (JSON, files) is never a document to render: nothing may load from it.
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
PRIVATE = "private, no-store"
STATIC_CACHE = "public, max-age=3600"
SWAGGER_CDN = "https://cdn.jsdelivr.net"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("Content-Security-Policy", PAGE_CSP if html else OTHER_CSP)
                # Anything not declared public may depend on who asks (a held item, a CSRF token
                # in a page, an API key in a response): no shared cache may keep it.
                headers.setdefault("Cache-Control", STATIC_CACHE if static else PRIVATE)
                if https:
                    _secure_cookies(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure_cookies(headers: MutableHeaders) -> None:
    cookies = headers.getlist("set-cookie")
    if not cookies or all("; secure" in c.lower() for c in cookies):
        return
    del headers["set-cookie"]
    for cookie in cookies:
        headers.append("set-cookie", cookie if "; secure" in cookie.lower() else f"{cookie}; Secure")


def install_api_docs(app: FastAPI, path: str = "/api/docs") -> None:
    """Swagger UI with its own policy: its scripts come from the CDN and its one inline script is
    allowed by hash, so even this page runs no script the server did not write."""
    page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - docs")
    body = bytes(page.body).decode()
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in re.findall(r"<script>(.*?)</script>", body, flags=re.DOTALL)
    )
    policy = (
        f"default-src 'none'; script-src {SWAGGER_CDN} {hashes}; style-src {SWAGGER_CDN} 'unsafe-inline'; "
        f"img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )

    @app.get(path, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})
