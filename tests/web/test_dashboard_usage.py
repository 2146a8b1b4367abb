"""The author dashboard's usage table: tokens and cost of the model calls made about each of my
items (every version), and the totals."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.core.helpers import auth, paper_body, register, version_body
from tests.web.conftest import sign_in


@pytest.fixture
def settings(settings: Any) -> Any:
    # Priced like a hosted model, so the cost column is not all zeros.
    priced = {"provider": "test", "model": "det-1", "price_in_per_mtok": 3.0, "price_out_per_mtok": 15.0}
    return settings.model_copy(update={"llm": settings.llm.model_validate({"models": {"t": priced}})})


def _calls(client: Any, token: str, identifier: str, versions: int) -> tuple[int, int, int, float]:
    """What the per-version call log (GET .../calls) adds up to."""
    rows = []
    for number in range(1, versions + 1):
        listed = client.get(f"/api/v1/submissions/{identifier}v{number}/calls?limit=100", headers=auth(token))
        assert listed.status_code == 200, listed.text
        rows += listed.json()
    return (
        len(rows),
        sum(r["input_tokens"] for r in rows),
        sum(r["output_tokens"] for r in rows),
        sum(r["cost_usd"] for r in rows),
    )


def _row(html: str, label: str) -> tuple[int, int, int, float]:
    cells = re.search(
        rf"<th scope=\"row\">{label}</th>"
        + r'<td class="num">([\d,]+)</td>' * 3
        + r'<td class="num">([\d.]+)</td>',
        html,
    )
    assert cells, html
    calls, tokens_in, tokens_out = (int(c.replace(",", "")) for c in cells.groups()[:3])
    return calls, tokens_in, tokens_out, float(cells.group(4))


def test_the_dashboard_shows_tokens_and_cost_per_item_with_totals(client: Any) -> None:
    token = register(client)["key"]["token"]
    first = client.post("/api/v1/submissions", headers=auth(token), json=paper_body()).json()["id"]
    revised = client.post(f"/api/v1/submissions/{first}/versions", headers=auth(token), json=version_body())
    assert revised.status_code == 201, revised.text
    second = client.post("/api/v1/submissions", headers=auth(token), json=paper_body(title="Second")).json()[
        "id"
    ]
    stranger = register(client, email="someone@example.org")["key"]["token"]
    theirs = client.post("/api/v1/submissions", headers=auth(stranger), json=paper_body()).json()["id"]

    sign_in(client, "ada@example.org")
    dashboard = client.get("/account").text
    usage = dashboard.split('id="usage-h"', 1)[1].split("</section>", 1)[0]
    expected_first = _calls(client, token, first, versions=2)
    expected_second = _calls(client, token, second, versions=1)
    assert expected_first[0] > expected_second[0] > 0 and expected_first[3] > 0  # two versions reviewed

    shown_first = _row(usage, f'<a href="/abs/{first}">{first}</a>')
    shown_second = _row(usage, f'<a href="/abs/{second}">{second}</a>')
    assert shown_first[:3] == expected_first[:3] and shown_second[:3] == expected_second[:3]
    assert shown_first[3] == pytest.approx(expected_first[3], abs=5e-5)
    total = _row(usage, "Total")
    assert total[:3] == tuple(a + b for a, b in zip(expected_first[:3], expected_second[:3], strict=True))
    assert total[3] == pytest.approx(expected_first[3] + expected_second[3], abs=1e-4)
    assert theirs not in usage  # only my items
