"""Builders shared by the core tests."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pikepdf
from sqlalchemy import event

from openxiv.events.stream import POLLER_THREAD_PREFIX as EVENT_POLLER_THREADS
from openxiv.tooling.pdfwriter import text_pdf

PARAGRAPH = (
    "We study how the learning-rate warm-up length interacts with batch size in small transformers. "
    "Across 48 runs, a warm-up proportional to the square root of the batch size gives the lowest loss."
)


def pdf_bytes(title: str = "A study of warm-up", paragraphs: int = 4) -> bytes:
    return text_pdf(title, [PARAGRAPH] * paragraphs)


def encrypted_pdf_bytes() -> bytes:
    with pikepdf.open(io.BytesIO(pdf_bytes())) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="secret"))
        return out.getvalue()


def register(client: Any, email: str = "ada@example.org", **extra: Any) -> dict[str, Any]:
    body = {
        "email": email,
        "password": "correct horse battery",
        "display_name": "Ada Example",
        "accept_policy": True,
        **extra,
    }
    response = client.post("/api/v1/accounts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def paper_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "paper",
        "title": "Warm-up length and batch size in small transformers",
        "abstract": PARAGRAPH,
        "authors": [{"kind": "human", "name": "Ada Example", "orcid": "0000-0002-1825-0097"}],
        "keywords": ["optimisation"],
        "categories": ["cs.LG"],
        "licence": "CC-BY-4.0",
        "ai_involvement": "None: written by the human author.",
        "ip_attribution": {"model_developer": "none", "initiating_human": "Ada Example"},
        "source": {"format": "markdown", "text": "# Warm-up\n\n## Abstract\n" + PARAGRAPH * 3},
    }
    body.update(overrides)
    return body


def proposal_body(**overrides: Any) -> dict[str, Any]:
    body = paper_body(kind="proposal", title="Does warm-up matter for state-space models?")
    del body["source"]
    body["proposal"] = {
        "problem_statement": "Warm-up schedules were tuned for attention models. " * 3,
        "motivation": "State-space models are increasingly used and may need different schedules.",
        "proposed_method": "Sweep warm-up length and batch size for a 125M state-space model.",
        "experiment_plan": "48 runs on a public corpus; report final loss and stability.",
        "expected_results_and_risks": "We expect shorter warm-up to suffice; runs may diverge.",
        "timeline_and_resources": "Two weeks on 4 GPUs.",
    }
    body.update(overrides)
    return body


def version_body(**overrides: Any) -> dict[str, Any]:
    """A revision: the paper fields without `kind`, plus a response letter."""
    body = paper_body(**overrides)
    del body["kind"]
    body.setdefault("response_letter", "We addressed every point raised by the reviewers.")
    return body


@contextmanager
def recorded_statements(*engines: Any) -> Iterator[list[str]]:
    """The SQL the code under test sends on `engines` (a runtime's are `runtime.engines`), without
    the event stream's poller (its own threads), which reads the events table once a second
    whenever an app is running."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not threading.current_thread().name.startswith(EVENT_POLLER_THREADS):
            statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
