"""How a page's form post goes (`openxiv.http.forms`): the CSRF check comes first, the work runs in
one write transaction that a refusal rolls back, and the answer is a 303 or the refusal shown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from fastapi.responses import PlainTextResponse, Response

from openxiv.errors import DomainError, Forbidden, InvalidInput
from openxiv.http.forms import FormPost


class _Database:
    """Records what became of each write transaction."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    @contextmanager
    def writing(self) -> Iterator[Any]:
        try:
            yield "session"
        except BaseException:
            self.outcomes.append("rolled back")
            raise
        self.outcomes.append("committed")


def _post(csrf: str, database: _Database) -> FormPost:
    request = SimpleNamespace(session={"csrf": "token"})
    return FormPost(request, database, csrf)  # type: ignore[arg-type]


def _shown(error: DomainError) -> Response:
    return PlainTextResponse(f"{error.status}: {error.detail}", status_code=error.status)


def test_a_forged_token_is_refused_before_the_work_runs() -> None:
    database, ran = _Database(), []

    def work(session: Any) -> str:
        ran.append(session)
        return "/next"

    answer = _post("forged", database).write(work, _shown)
    assert answer.status_code == 403
    assert ran == [] and database.outcomes == []


def test_the_work_is_committed_and_the_browser_sent_on() -> None:
    database = _Database()
    answer = _post("token", database).write(lambda session: "/account#keys", _shown)
    assert (answer.status_code, answer.headers["location"]) == (303, "/account#keys")
    assert database.outcomes == ["committed"]


def test_a_refusal_is_shown_and_nothing_of_it_committed() -> None:
    database = _Database()

    def work(session: Any) -> str:
        raise InvalidInput("parent_id must be a comment id")

    answer = _post("token", database).write(work, _shown)
    assert answer.status_code == 422 and b"parent_id" in answer.body
    assert database.outcomes == ["rolled back"]


def test_work_may_answer_with_a_page_of_its_own() -> None:
    page = PlainTextResponse("the secret, shown once")
    answer = _post("token", _Database()).write(lambda session: page, _shown)
    assert answer is page


def test_run_leaves_the_transactions_to_the_work() -> None:
    database = _Database()
    answer = _post("token", database).run(lambda: "/account", _shown)
    assert answer.status_code == 303 and database.outcomes == []

    def refuse() -> str:
        raise Forbidden("not yours")

    assert _post("token", database).run(refuse, _shown).status_code == 403
