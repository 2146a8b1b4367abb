"""Fetching an import source given as a URL (an arXiv API query, an OAI-PMH endpoint, a file).

OAI-PMH answers come in pages linked by `resumptionToken`; the pages are followed (politely
spaced) and stored one after the other in one file, which the XML reader takes item by item.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from openxiv.errors import InvalidInput
from openxiv.literature.settings import LiteratureSettings

MAX_DOWNLOAD_BYTES = 4 << 30
_TOKEN = re.compile(rb"<(?:[\w.-]+:)?resumptionToken\b[^>]*>([^<]+)</(?:[\w.-]+:)?resumptionToken>")


class DownloadError(InvalidInput):
    pass


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _next_page(url: str, token: str) -> str:
    parts = urlsplit(url)
    verb = dict(parse_qsl(parts.query)).get("verb", "ListRecords")
    return urlunsplit(parts._replace(query=urlencode({"verb": verb, "resumptionToken": token})))


def download(
    url: str,
    settings: LiteratureSettings,
    target: Path,
    *,
    max_pages: int = 1000,
    transport: httpx.BaseTransport | None = None,
) -> Path:
    if not settings.online:
        raise DownloadError("cannot fetch a URL: external access is switched off (literature.online = false)")
    interval = settings.arxiv.min_interval_s if "arxiv.org" in urlsplit(url).netloc else 1.0
    written = 0
    with (
        httpx.Client(
            timeout=settings.http_timeout_s,
            headers={"User-Agent": settings.user_agent},
            follow_redirects=True,
            transport=transport,
        ) as client,
        target.open("wb") as out,
    ):
        page_url: str | None = url
        for page in range(max_pages):
            if page_url is None:
                break
            if page:
                time.sleep(interval)
            try:
                response = client.get(page_url)
            except httpx.HTTPError as error:
                raise DownloadError(
                    f"cannot fetch {page_url}: {error.__class__.__name__}: {error}"
                ) from error
            if response.status_code != 200:
                raise DownloadError(f"cannot fetch {page_url}: HTTP {response.status_code}")
            body = response.content
            written += len(body)
            if written > MAX_DOWNLOAD_BYTES:
                raise DownloadError(f"{url} is larger than {MAX_DOWNLOAD_BYTES >> 30} GiB")
            out.write(body)
            out.write(b"\n")
            token = _TOKEN.search(body)
            page_url = _next_page(url, token.group(1).decode().strip()) if token else None
    return target
