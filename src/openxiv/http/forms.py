"""How a page's form post goes, the same on every page: check the CSRF token, do the work, then
redirect (303, so a reload does not post again) or show the refusal to the browser.

`FormPost` is the dependency a handler asks for instead of the request, the database and the
`csrf` field one by one. The work returns where to go next, or a page of its own (a secret shown
once); a `DomainError` it raises becomes the error page, or the form shown again with its values
(`show_again`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from openxiv.errors import DomainError
from openxiv.http.deps import Database, DatabaseDep
from openxiv.http.rendering import check_csrf, render, render_error, retry_after

Outcome = str | Response
Refusal = Callable[[DomainError], Response]


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def show_again(request: Request, template: str, **form: Any) -> Refusal:
    """A refused form drawn again with what was typed and why (and, after a lockout, when to
    come back), rather than an error page that loses the input."""

    def refused(error: DomainError) -> HTMLResponse:
        return render(
            request,
            template,
            status_code=error.status,
            headers=retry_after(error),
            error=error.detail,
            **form,
        )

    return refused


@dataclass(frozen=True)
class FormPost:
    request: Request
    database: Database
    csrf: str

    def run(self, work: Callable[[], Outcome], refused: Refusal | None = None) -> Response:
        """The work draws its own transactions (a throttle to pass first, a read only)."""
        try:
            check_csrf(self.request, self.csrf)
            outcome = work()
        except DomainError as error:
            return refused(error) if refused is not None else render_error(self.request, error)
        return see_other(outcome) if isinstance(outcome, str) else outcome

    def write(self, work: Callable[[Session], Outcome], refused: Refusal | None = None) -> Response:
        """The work as one write transaction: a refusal is shown and nothing of it committed."""

        def in_transaction() -> Outcome:
            with self.database.writing() as session:
                return work(session)

        return self.run(in_transaction, refused)


def form_post(request: Request, database: DatabaseDep, csrf: Annotated[str, Form()]) -> FormPost:
    return FormPost(request, database, csrf)


FormPostDep = Annotated[FormPost, Depends(form_post)]
