"""HTTP: feeds (/feeds/...), OAI-PMH (/oai), search (/api/v1/search), digest subscriptions
(/api/v1/digests/subscription) and the Hugging-Face-compatible papers API (/api/daily_papers,
/api/papers/...). Each route parses, makes one service call, and presents."""

from __future__ import annotations

from datetime import date
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from openxiv.accounts.deps import RequiredPrincipal
from openxiv.config import Settings
from openxiv.discovery import digests, service
from openxiv.discovery.schemas import (
    DigestSubscriptionIn,
    DigestSubscriptionOut,
    SearchResponse,
    search_item,
)
from openxiv.errors import InvalidInput, NotFound
from openxiv.http.deps import ReadSession, WriteSession
from openxiv.http.problems import PROBLEM_RESPONSES

feeds_router = APIRouter(tags=["feeds"], responses=PROBLEM_RESPONSES)  # errors are problem documents
oai_router = APIRouter(tags=["oai-pmh"])
router = APIRouter(tags=["search"], responses=PROBLEM_RESPONSES)  # under /api/v1
hub_router = APIRouter(
    prefix="/api", tags=["daily papers (Hugging Face compatible)"], responses=PROBLEM_RESPONSES
)

OAI_MEDIA_TYPE = "text/xml; charset=utf-8"
MAX_OAI_BODY = 16_384


def site(request: Request) -> service.Site:
    settings: Settings = request.app.state.settings
    return service.Site(
        base_url=settings.base_url.rstrip("/"), name=settings.instance_name, settings=settings.discovery
    )


SiteDep = Annotated[service.Site, Depends(site)]


# ------------------------------------------------------------------------------------- feeds


@feeds_router.get("/feeds/{feed_file}", response_class=Response)
def feed(
    request: Request,
    session: ReadSession,
    site: SiteDep,
    feed_file: str,
    category: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """`latest.rss`, `latest.atom`, `accepted.rss`, `accepted.atom`; `?category=cs.LG&kind=paper`."""
    name, _, fmt = feed_file.rpartition(".")
    if fmt not in ("rss", "atom") or name not in ("latest", "accepted"):
        raise NotFound("feeds are /feeds/{latest,accepted}.{rss,atom}")
    built = service.feed(session, site, name, fmt, category=category, kind=kind)  # type: ignore[arg-type]
    headers = {"ETag": built.etag, "Cache-Control": "public, max-age=300"}
    if built.last_modified:
        headers["Last-Modified"] = format_datetime(built.last_modified, usegmt=True)
    if _not_modified(request, built.etag, built.last_modified):
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type=built.media_type, headers=headers)


def _not_modified(request: Request, etag: str, last_modified: Any) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and last_modified is not None:
        try:
            return bool(last_modified.replace(microsecond=0) <= parsedate_to_datetime(since))
        except (TypeError, ValueError):
            return False
    return False


# ------------------------------------------------------------------------------------- OAI-PMH


@oai_router.get("/oai", response_class=Response)
def oai_get(request: Request, session: ReadSession, site: SiteDep) -> Response:
    """OAI-PMH 2.0: `?verb=Identify` and the other five verbs."""
    arguments: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        arguments.setdefault(name, []).append(value)
    return Response(service.oai_response(session, site, arguments), media_type=OAI_MEDIA_TYPE)


@oai_router.post("/oai", response_class=Response)
async def oai_post(request: Request, session: ReadSession, site: SiteDep) -> Response:
    """The same, with the arguments form-encoded in the body (application/x-www-form-urlencoded)."""
    body = await request.body()
    if len(body) > MAX_OAI_BODY:
        raise InvalidInput("the request body is too large for OAI-PMH arguments")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise InvalidInput("OAI-PMH POST requests are application/x-www-form-urlencoded")
    arguments = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    document = await run_in_threadpool(service.oai_response, session, site, arguments)
    return Response(document, media_type=OAI_MEDIA_TYPE)


# ------------------------------------------------------------------------------------- search


@router.get("/search", response_model=SearchResponse)
def search(
    session: ReadSession,
    site: SiteDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="words to find")],
    kind: Annotated[Literal["paper", "proposal"] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    from_: Annotated[date | None, Query(alias="from", description="listed on or after (YYYY-MM-DD)")] = None,
    to: Annotated[date | None, Query(description="listed on or before (YYYY-MM-DD)")] = None,
    sort: Annotated[Literal["relevance", "newest"], Query()] = "relevance",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> SearchResponse:
    """Full text over titles, abstracts and the extracted text of public items past screening."""
    page = service.search_items(
        session,
        q,
        kind=kind,
        category=category,
        status=status,
        listed_from=from_,
        listed_to=to,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return SearchResponse(
        query=q,
        matched=page.matched,
        hits=[search_item(hit, site.base_url) for hit in page.hits],
        next_offset=offset + limit if page.has_more else None,
    )


@router.get("/digests/subscription", response_model=DigestSubscriptionOut)
def get_digest_subscription(principal: RequiredPrincipal, session: ReadSession) -> DigestSubscriptionOut:
    found = digests.subscription_of(session, principal.account_id)
    if found is None:
        raise NotFound("no digest subscription; PUT one with the categories to follow")
    return DigestSubscriptionOut(categories=found.categories, last_sent_at=found.last_sent_at)


@router.put("/digests/subscription", response_model=DigestSubscriptionOut)
def put_digest_subscription(
    principal: RequiredPrincipal, session: WriteSession, body: DigestSubscriptionIn
) -> DigestSubscriptionOut:
    """Follow categories by e-mail digest (`openxiv digest send` writes and sends them)."""
    found = digests.subscribe(session, principal.account_id, body.categories)
    return DigestSubscriptionOut(categories=found.categories, last_sent_at=found.last_sent_at)


@router.delete("/digests/subscription", status_code=204, response_class=Response)
def delete_digest_subscription(principal: RequiredPrincipal, session: WriteSession) -> Response:
    digests.unsubscribe(session, principal.account_id)
    return Response(status_code=204)


# ------------------------------------------------------------- Hugging Face compatible papers API


@hub_router.get("/daily_papers")
def daily_papers(
    session: ReadSession,
    site: SiteDep,
    date_: Annotated[str | None, Query(alias="date", max_length=10, description="YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(max_length=8, description="YYYY-Www")] = None,
    month: Annotated[str | None, Query(max_length=7, description="YYYY-MM")] = None,
    sort: Annotated[str, Query(max_length=16, description="publishedAt or trending")] = "publishedAt",
    p: Annotated[int, Query(ge=0, le=10_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    submitter: Annotated[str | None, Query(max_length=32)] = None,
) -> JSONResponse:
    """Published items of a day, ISO week or month, newest or trending first (Hub JSON)."""
    papers = service.daily_papers(
        session, site, day=date_, week=week, month=month, sort=sort, page=p, limit=limit, submitter=submitter
    )
    return JSONResponse(papers)


@hub_router.get("/papers/search")
def papers_search(
    session: ReadSession,
    site: SiteDep,
    q: Annotated[str, Query(min_length=1, max_length=1000)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    return JSONResponse(service.papers_search(session, site, q, limit))


@hub_router.get("/papers/{paper_id}")
def paper(session: ReadSession, site: SiteDep, paper_id: str) -> JSONResponse:
    return JSONResponse(service.paper(session, site, paper_id))
