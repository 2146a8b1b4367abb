"""End to end on real papers nobody here wrote: a clean conference paper uploaded through the API
goes on to review, and a paper carrying a hidden instruction to LLM reviewers is held."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.helpers import auth, paper_body, register
from tests.integrity.real_data import require_real_pdfs


def _submit(client: Any, token: str, data: bytes) -> dict[str, Any]:
    upload = client.post("/api/v1/uploads", headers=auth(token), files={"file": ("paper.pdf", data)})
    assert upload.status_code == 201, upload.text
    body = paper_body(pdf_sha256=upload.json()["sha256"])
    del body["source"]
    response = client.post("/api/v1/submissions", headers=auth(token), json=body)
    assert response.status_code == 201, response.text
    item = response.json()
    return dict(client.get(f"/api/v1/submissions/{item['id']}", headers=auth(token)).json())


@pytest.mark.parametrize(
    "name",
    [
        "clean/allenai_P14-1059.pdf",  # an ACL paper
        "clean/Hypogenic-AI_2403.14720_spotlighting_defense.pdf",  # about prompt injection
    ],
)
def test_a_real_clean_paper_goes_on_to_review(client: Any, name: str) -> None:
    data = (require_real_pdfs() / name).read_bytes()
    token = register(client)["key"]["token"]
    mine = _submit(client, token, data)
    assert mine["status"] == "under_review", mine
    log = client.get(f"/api/v1/submissions/{mine['id']}/transitions", headers=auth(token)).json()
    assert [t["to_status"] for t in log] == ["submitted", "screening", "under_review"]


def test_a_real_paper_with_a_hidden_reviewer_prompt_is_held(client: Any) -> None:
    data = (require_real_pdfs() / "attacked" / "drtimcollins_Garbage_Paper_v1.pdf").read_bytes()
    token = register(client)["key"]["token"]
    mine = _submit(client, token, data)
    assert mine["status"] == "held"
    findings = mine["version"]["screening"]["findings"]
    assert findings and findings[0]["page"] == 2  # the white 0.1 pt block is on page 2
