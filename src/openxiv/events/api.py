"""REST: the event stream (Server-Sent Events) and webhooks. Thin: the rules live in
events.stream and events.webhooks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from openxiv.accounts.authz import Principal
from openxiv.accounts.deps import OptionalPrincipal, RequiredPrincipal
from openxiv.errors import InvalidInput, RateLimited, Unauthenticated
from openxiv.events import webhooks
from openxiv.events.deps import EventHubDep, JobQueueDep, SettingsDep
from openxiv.events.documents import TypeFilter
from openxiv.events.schemas import CreatedWebhookOut, DeliveryOut, EventOut, WebhookCreate, WebhookOut
from openxiv.events.stream import StreamFilter
from openxiv.http.deps import IdInPath, IdInQuery, ReadSession, WriteSession
from openxiv.http.problems import PROBLEM_RESPONSES
from openxiv.models import Webhook, WebhookDelivery
from openxiv.submissions.identifiers import parse_identifier
from openxiv.submissions.service import get_submission
from openxiv.validation import MAX_DB_ID

router = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A Server-Sent Events stream: each event has `id` (resume with "
        "`Last-Event-ID`), `event` (its type) and `data` (the JSON document below); comment lines "
        "keep the connection alive.",
        "content": {"text/event-stream": {"itemSchema": EventOut.model_json_schema()}},
    }
}


@router.get("/events", response_class=StreamingResponse, responses=_STREAM_DOC)
async def event_stream(
    hub: EventHubDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    submission: Annotated[
        str | None, Query(max_length=40, description="only this submission (YYMM.NNNNN, or a version)")
    ] = None,
    mine: Annotated[bool, Query(description="only events about your own submissions")] = False,
    event_types: Annotated[
        list[str],
        Query(
            alias="type",
            max_length=20,
            description="event types or prefixes ('review.*'); repeat for several",
        ),
    ] = [],  # noqa: B006 - FastAPI copies the default
    after: Annotated[
        int | None, Query(ge=0, le=MAX_DB_ID, description="start after this event id (as Last-Event-ID)")
    ] = None,
    timeout: Annotated[
        float | None, Query(gt=0, le=86400, description="end the stream after this many seconds")
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    """Events as they happen, filtered by submission, owner and type. Without `after` or
    `Last-Event-ID` the stream starts now; with one it first replays the events since. Events
    about items you may not see (held by screening, not yours) are left out."""
    types = TypeFilter.parse(event_types)
    if hub.subscriber_count() >= settings.events.stream_max_subscribers:
        raise RateLimited(
            "this server has as many open event streams as it takes; retry shortly", retry_after=5
        )
    if mine and principal is None:
        raise Unauthenticated("mine=true needs an API key or a signed-in session")
    start = _resume_point(last_event_id, after)
    submission_id, version = None, None
    if submission is not None:
        submission_id, version = await hub.run_read(
            lambda session: _visible_submission(session, submission, principal)
        )
    stream_filter = StreamFilter(
        submission_id=submission_id,
        version_number=version,
        owner_id=principal.account_id if mine and principal is not None else None,
        types=types,
    )
    return StreamingResponse(
        hub.subscribe(stream_filter, principal, start, timeout_s=timeout),
        media_type="text/event-stream",
        # No proxy may buffer or cache a stream (X-Accel-Buffering is nginx's switch).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _resume_point(last_event_id: str | None, after: int | None) -> int | None:
    # A reconnecting browser sends Last-Event-ID on the original URL: the header wins.
    if last_event_id is None or not last_event_id.strip():
        return after
    try:
        value = int(last_event_id.strip())
    except ValueError:
        raise InvalidInput(
            "Last-Event-ID must be an event id (a whole number)", field="Last-Event-ID"
        ) from None
    if not 0 <= value <= MAX_DB_ID:
        raise InvalidInput("Last-Event-ID is out of range", field="Last-Event-ID")
    return value


def _visible_submission(
    session: Session, identifier: str, viewer: Principal | None
) -> tuple[int, int | None]:
    _, version = parse_identifier(identifier)
    found = get_submission(session, identifier, viewer)  # 404 when the caller may not see it
    return found.id, version


# ------------------------------------------------------------------------------ webhooks


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=CreatedWebhookOut)
def create_webhook(
    body: WebhookCreate, principal: RequiredPrincipal, session: WriteSession, settings: SettingsDep
) -> CreatedWebhookOut:
    """Register an endpoint that receives events as signed POSTs. The secret that signs them is
    in this answer only. Outside dev mode the URL must be https and resolve to public addresses."""
    created = webhooks.create_webhook(
        session,
        principal,
        url=body.url,
        event_types=body.event_types,
        mine_only=body.mine_only,
        description=body.description,
        agent_id=body.agent_id,
        allow_private=settings.mode != "production",
        limit=settings.events.webhooks_per_account,
    )
    return CreatedWebhookOut(**_webhook_fields(created.webhook), secret=created.secret)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(principal: RequiredPrincipal, session: ReadSession) -> list[WebhookOut]:
    """Your webhooks; through an agent's key, only that agent's."""
    return [WebhookOut(**_webhook_fields(hook)) for hook in webhooks.list_webhooks(session, principal)]


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: IdInPath, principal: RequiredPrincipal, session: ReadSession) -> WebhookOut:
    return WebhookOut(**_webhook_fields(webhooks.get_webhook(session, principal, webhook_id)))


@router.delete("/webhooks/{webhook_id}", response_model=WebhookOut)
def delete_webhook(webhook_id: IdInPath, principal: RequiredPrincipal, session: WriteSession) -> WebhookOut:
    """Delete the webhook and its delivery log; nothing more is sent to it."""
    return WebhookOut(**_webhook_fields(webhooks.delete_webhook(session, principal, webhook_id)))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    webhook_id: IdInPath,
    principal: RequiredPrincipal,
    session: ReadSession,
    delivery_status: Annotated[
        str | None, Query(alias="status", description="pending, delivered or failed")
    ] = None,
    before: IdInQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """The delivery log, newest first (`before` pages back): attempts, the last status code or
    error, and when the next retry is due."""
    found = webhooks.list_deliveries(
        session, principal, webhook_id, status=delivery_status, before=before, limit=limit
    )
    return [_delivery_out(delivery) for delivery in found]


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
)
def replay_delivery(
    webhook_id: IdInPath,
    delivery_id: IdInPath,
    principal: RequiredPrincipal,
    session: WriteSession,
    queue: JobQueueDep,
) -> DeliveryOut:
    """Send a delivered or failed delivery again (signed anew, with a fresh retry schedule)."""
    return _delivery_out(webhooks.replay_delivery(session, principal, webhook_id, delivery_id, queue))


def _webhook_fields(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "agent_id": hook.agent_id,
        "event_types": list(hook.event_types),
        "mine_only": hook.mine_only,
        "description": hook.description,
        "active": hook.active,
        "created_at": hook.created_at,
    }


def _delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery, from_attributes=True)
