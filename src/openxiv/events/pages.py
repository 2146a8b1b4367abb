"""Browser pages of webhooks on the dashboard: add one (its signing secret shown once), its
delivery log, delete it. The same service as the REST API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from openxiv.accounts.deps import OptionalPrincipal
from openxiv.config import Settings
from openxiv.errors import DomainError
from openxiv.events import webhooks
from openxiv.http.deps import DatabaseDep
from openxiv.http.forms import FormPostDep, Outcome, see_other
from openxiv.http.rendering import render, render_error

router = APIRouter(include_in_schema=False)


@router.post("/account/webhooks", response_model=None)
def create_webhook(
    principal: OptionalPrincipal,
    form: FormPostDep,
    url: Annotated[str, Form()],
    event_types: Annotated[str, Form()] = "",
    mine_only: Annotated[str, Form()] = "",
    agent_id: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    if principal is None:
        return see_other("/login")
    settings: Settings = form.request.app.state.settings

    def create(session: Session) -> Outcome:
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
        return render(
            form.request,
            "secret_once.html",
            headers={"Cache-Control": "no-store"},
            heading=f"Webhook #{created.webhook.id} added",
            explanation="Verify the signature header of each delivery with this secret (HMAC-SHA256 over timestamp.body).",
            label="Signing secret",
            secret=created.secret,
        )

    return form.write(create)


@router.get("/account/webhooks/{webhook_id}", response_model=None)
def webhook_page(
    request: Request, webhook_id: int, principal: OptionalPrincipal, database: DatabaseDep
) -> Response:
    if principal is None:
        return see_other("/login")
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
def delete_webhook(webhook_id: int, principal: OptionalPrincipal, form: FormPostDep) -> Response:
    if principal is None:
        return see_other("/login")

    def delete(session: Session) -> str:
        webhooks.delete_webhook(session, principal, webhook_id)
        return "/account#webhooks"

    return form.write(delete)
