"""Browser pages of webhooks on the dashboard: add one (its signing secret shown once), its
delivery log, delete it. The same service as the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.config import Settings
from openxiv.errors import DomainError
from openxiv.events import webhooks
from openxiv.http.deps import DatabaseDep
from openxiv.http.rendering import check_csrf, render, render_error

router = APIRouter(include_in_schema=False)


@router.post("/account/webhooks", response_model=None)
def create_webhook(
    request: Request,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    url: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    event_types: Annotated[str, Form()] = "",
    mine_only: Annotated[str, Form()] = "",
    agent_id: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    settings: Settings = request.app.state.settings
    try:
        check_csrf(request, csrf)
        with database.writing() as session:
            created = webhooks.create_webhook(
                session,
                principal,
                url=url,
                event_types=[t for t in event_types.split(",") if t.strip()],
                mine_only=mine_only == "yes",
                description=description,
                agent_id=int(agent_id) if agent_id.isdigit() else None,
                allow_private=settings.mode != "production",
                limit=settings.events.webhooks_per_account,
            )
    except DomainError as error:
        return render_error(request, error)
    return render(
        request,
        "secret_once.html",
        headers={"Cache-Control": "no-store"},
        heading=f"Webhook #{created.webhook.id} added",
        explanation="Verify the signature header of each delivery with this secret (HMAC-SHA256 over timestamp.body).",
        label="Signing secret",
        secret=created.secret,
    )


@router.get("/account/webhooks/{webhook_id}", response_model=None)
def webhook_page(
    request: Request, webhook_id: int, principal: OptionalPrincipal, database: DatabaseDep
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        with database.reading() as session:
            webhook = webhooks.get_webhook(session, principal, webhook_id)
            deliveries = webhooks.list_deliveries(
                session, principal, webhook_id, status=None, before=None, limit=100
            )
            return render(request, "webhook.html", webhook=webhook, deliveries=deliveries)
    except DomainError as error:
        return render_error(request, error)


@router.post("/account/webhooks/{webhook_id}/delete", response_model=None)
def delete_webhook(
    request: Request,
    webhook_id: int,
    principal: OptionalPrincipal,
    database: DatabaseDep,
    csrf: Annotated[str, Form()],
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    try:
        check_csrf(request, csrf)
        with database.writing() as session:
            webhooks.delete_webhook(session, principal, webhook_id)
    except DomainError as error:
        return render_error(request, error)
    return RedirectResponse("/account#webhooks", status_code=303)
