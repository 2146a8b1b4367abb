"""What the item page reads: a fixed number of statements however many versions, reviews and
comments the item has, and the related literature its reviewers were shown (from the stored
grounding, not a search at request time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openxiv.community import service as community
from openxiv.db import transaction
from openxiv.literature.service import load_starter_corpus
from openxiv.review import service as review_service
from openxiv.submissions import service as submissions
from tests.core.helpers import PARAGRAPH, auth, paper_body, recorded_statements, register, version_body
from tests.web.conftest import sign_in


def _item(client: Any, token: str, *, versions: int, threads: int) -> str:
    created = client.post("/api/v1/submissions", headers=auth(token), json=paper_body())
    assert created.status_code == 201, created.text
    identifier = str(created.json()["id"])
    for number in range(2, versions + 1):
        revised = client.post(
            f"/api/v1/submissions/{identifier}/versions",
            headers=auth(token),
            json=version_body(title=f"Warm-up, take {number}"),
        )
        assert revised.status_code == 201, revised.text
    for thread in range(threads):
        top = client.post(
            f"/api/v1/submissions/{identifier}/comments",
            headers=auth(token),
            json={"body": f"Thread {thread}"},
        )
        assert top.status_code == 201, top.text
        reply = client.post(
            f"/api/v1/comments/{top.json()['id']}/replies", headers=auth(token), json={"body": "A reply"}
        )
        assert reply.status_code == 201, reply.text
        liked = client.put(f"/api/v1/comments/{top.json()['id']}/like", headers=auth(token))
        assert liked.status_code == 200, liked.text
    return identifier


def test_the_item_page_costs_the_same_statements_for_one_version_or_many(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    small = _item(client, token, versions=1, threads=1)
    large = _item(client, token, versions=3, threads=6)

    def page(identifier: str) -> tuple[str, int]:
        client.get(f"/abs/{identifier}")  # templates compiled, per-process caches filled
        client.app.state.response_cache.clear()  # rendered, not served from the public cache
        with recorded_statements(*runtime.engines) as seen:
            response = client.get(f"/abs/{identifier}")
        assert response.status_code == 200, response.text
        return response.text, len(seen)

    small_html, small_count = page(small)
    large_html, large_count = page(large)
    assert "Thread 0" in small_html and "Thread 5" in large_html and '<th scope="row">v3</th>' in large_html
    assert small_count > 0 and large_count == small_count, (
        "more versions or comments must not cost more (N+1)"
    )
    sign_in(client, "ada@example.org")  # a signed-in viewer also asks what they liked
    assert page(small)[1] == page(large)[1]


def test_the_trajectory_and_a_page_of_threads_are_one_statement_each(client: Any, runtime: Any) -> None:
    token = register(client)["key"]["token"]
    identifier = _item(client, token, versions=3, threads=4)

    def counted(read: Callable[[Any], Any]) -> tuple[Any, int]:
        with runtime.read_sessions() as session:
            submission = submissions.get_submission(session, identifier, None)
            with recorded_statements(*runtime.engines) as seen:
                result = read((session, submission))
        return result, len(seen)

    points, trajectory_statements = counted(lambda s: review_service.quality_trajectory(s[0], s[1].id))
    assert [p.version_number for p in points] == [1, 2, 3]
    assert all(p.rating is not None and p.accept_count is not None for p in points)
    assert points[0].beats_previous is None and all(p.beats_previous for p in points[1:])
    assert trajectory_statements == 1

    (threads, cursor), thread_statements = counted(
        lambda s: community.item_threads(s[0], None, s[1], limit=3)
    )
    assert [t.body for t in threads] == ["Thread 0", "Thread 1", "Thread 2"] and cursor is not None
    assert all([r.body for r in t.replies] == ["A reply"] and t.likes == 1 for t in threads)
    assert thread_statements == 1
    (rest, end), _ = counted(lambda s: community.item_threads(s[0], None, s[1], cursor=cursor, limit=3))
    assert [t.body for t in rest] == ["Thread 3"] and end is None


ATTENTION = "Linear-Time Attention for Long Documents with Sparse Windows"
ATTENTION_ABSTRACT = (
    "Self-attention in Transformers grows quadratically with sequence length, which makes long documents "
    "expensive. We propose a sparse attention pattern that combines a sliding local window with a few global "
    "tokens, so attention cost grows linearly with length. Our method outperforms dense attention on "
    "long-document classification while using far less memory."
)
ATTENTION_TEXT = f"""# {ATTENTION}

## Abstract

{ATTENTION_ABSTRACT}

## Introduction

The Transformer [1] replaced recurrence with attention. Longformer [2] showed windowed attention works.
{PARAGRAPH}

## References

[1] A. Vaswani et al. Attention is all you need. NeurIPS 2017. arXiv:1706.03762
[2] I. Beltagy, M. Peters, A. Cohan. Longformer: the long-document transformer. 2020.
"""


def test_the_item_page_lists_the_related_literature_and_likely_missing_citations(
    client: Any, runtime: Any
) -> None:
    with transaction(runtime.write_sessions) as session:
        load_starter_corpus(session)
    token = register(client)["key"]["token"]
    created = client.post(
        "/api/v1/submissions",
        headers=auth(token),
        json=paper_body(
            title=ATTENTION,
            abstract=ATTENTION_ABSTRACT,
            source={"format": "markdown", "text": ATTENTION_TEXT},
        ),
    )
    assert created.status_code == 201, created.text
    identifier = created.json()["id"]

    html = client.get(f"/abs/{identifier}").text
    related = html.split('id="related-h"', 1)[1].split("</section>", 1)[0]
    missing = related.split("Likely missing citations", 1)[1].split("</ul>", 1)[0]
    assert "<cite>Big Bird: Transformers for Longer Sequences</cite>" in missing
    assert "Longformer" not in missing  # it is cited
    works = related.split("Related works", 1)[1]
    longformer = works.split("<cite>Longformer: The Long-Document Transformer</cite>", 1)[1].split(
        "</li>", 1
    )[0]
    assert 'href="https://arxiv.org/abs/2004.05150"' in longformer and ">cited<" in longformer
    assert "local-bm25" in related  # where the list came from
