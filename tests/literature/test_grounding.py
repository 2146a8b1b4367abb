"""Grounding a submission: related work with passages, what it cites, what it misses, what it
overlaps with, and how it degrades when external services fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openxiv.literature.grounding import LocalFirstGrounder, build_queries, key_claims
from openxiv.literature.http import ScholarlyClient
from openxiv.literature.port import LiteratureGrounder
from openxiv.literature.references import extract_references
from openxiv.literature.service import load_starter_corpus
from openxiv.literature.settings import LiteratureSettings
from openxiv.models.literature import LiteratureRecord

from .conftest import ReplayServer, online_settings

TITLE = "Linear-Time Attention for Long Documents with Sparse Windows"
ABSTRACT = (
    "Self-attention in Transformers grows quadratically with sequence length, which makes long documents "
    "expensive. We propose a sparse attention pattern that combines a sliding local window with a few global "
    "tokens, so attention cost grows linearly with length. Our method outperforms dense attention on "
    "long-document classification while using far less memory."
)
TEXT = f"""# {TITLE}

## Abstract

{ABSTRACT}

## Introduction

The Transformer [1] replaced recurrence with attention. Longformer [2] showed windowed attention works.

## References

[1] A. Vaswani et al. Attention is all you need. NeurIPS 2017. arXiv:1706.03762
[2] I. Beltagy, M. Peters, A. Cohan. Longformer: the long-document transformer. 2020.
"""


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as session:
        load_starter_corpus(session)
        session.commit()
    return session_factory


def test_offline_grounding_finds_cited_missing_and_closest_work(
    factory: sessionmaker[Session], lit_settings: LiteratureSettings
) -> None:
    grounder: LiteratureGrounder = LocalFirstGrounder(factory, lit_settings)
    grounding = grounder.ground(title=TITLE, abstract=ABSTRACT, text=TEXT, k=8)
    by_title = {item.title: item for item in grounding.related}
    assert len(grounding.related) == 8
    longformer = by_title["Longformer: The Long-Document Transformer"]
    assert longformer.cited and longformer.ids == {"arxiv": "2004.05150"}
    assert "windowed attention" in longformer.passage
    assert grounding.closest_prior_work[0].title == longformer.title
    missing = [item.title for item in grounding.missing_citations]
    assert "Big Bird: Transformers for Longer Sequences" in missing
    assert all(not item.cited for item in grounding.missing_citations)
    if "Attention Is All You Need" in by_title:
        assert by_title["Attention Is All You Need"].cited  # cited by arXiv id only
    assert [item.score for item in grounding.related] == sorted(
        (i.score for i in grounding.related), reverse=True
    )
    assert grounding.sources == ["local-bm25"]
    assert grounding.degraded is not None and "switched off" in grounding.degraded
    assert grounding.queries[0] == TITLE and len(grounding.queries) >= 3


def test_external_results_are_stored_and_named_as_sources(
    factory: sessionmaker[Session], replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.fixture("/s2/graph/v1/paper/search", "s2_search.json")
    replay_server.fixture("/arxiv/api/query", "arxiv_query.xml", "application/atom+xml")
    settings = online_settings(replay_server, tmp_path)
    with ScholarlyClient(settings) as client:
        grounding = LocalFirstGrounder(factory, settings, client).ground(
            title=TITLE, abstract=ABSTRACT, text=TEXT
        )
    assert grounding.sources == ["local-bm25", "semantic-scholar", "arxiv"]
    assert grounding.degraded is None
    assert "Sparse Mixture of Attention Experts for Long-Context Retrieval" in [
        r.title for r in grounding.related
    ]
    with factory() as session:
        stored = session.scalars(select(LiteratureRecord).where(LiteratureRecord.s2_id.is_not(None))).all()
        assert {r.source for r in stored} <= {"s2", "starter", "arxiv"} and len(stored) >= 3
        assert all(r.fetched_at is not None for r in stored)


def test_a_failing_service_degrades_to_the_local_index_and_says_why(
    factory: sessionmaker[Session], replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.route("/s2/graph/v1/paper/search", (429, {"Retry-After": "600"}, b""))
    replay_server.fixture("/arxiv/api/query", "arxiv_query.xml", "application/atom+xml")
    settings = online_settings(replay_server, tmp_path)
    with ScholarlyClient(settings) as client:
        grounding = LocalFirstGrounder(factory, settings, client).ground(
            title=TITLE, abstract=ABSTRACT, text=TEXT
        )
    assert grounding.degraded is not None
    assert "semantic-scholar skipped (rate limit reached" in grounding.degraded
    assert grounding.sources == ["local-bm25", "arxiv"]
    assert grounding.related and grounding.missing_citations


def test_reference_extraction_in_common_layouts() -> None:
    numbered = extract_references(
        "Body.\n\nReferences\n[1] Alpha beta gamma delta. 2020.\n[2] Other work, doi:10.1000/xyz.\n"
    )
    assert len(numbered.entries) == 2 and "10.1000/xyz" in numbered.dois
    latex = extract_references(
        "\\section{Bibliography}\n\\bibitem{a} K. He. Deep residual learning for image recognition. CVPR.\n"
        "\\bibitem{b} D. Kingma, J. Ba. Adam: a method for stochastic optimization. ICLR.\n"
    )
    assert len(latex.entries) == 2
    assert latex.cites("Deep Residual Learning for Image Recognition", None, None)
    assert latex.cites("Adam: A Method for Stochastic Optimization", None, None)
    assert not latex.cites("Attention Is All You Need", None, None)
    plain = extract_references(
        "## References\n\nSmith. A study of wombats. 2019.\n\nJones. Numbats at scale. 2021.\n"
    )
    assert len(plain.entries) == 2 and plain.cites("Numbats at Scale", None, None)
    none = extract_references("No reference section here, but arXiv:2101.00001 is mentioned.")
    assert none.entries == [] and none.cites("Anything", "2101.00001", None)


def test_queries_and_key_claims() -> None:
    claims = key_claims(ABSTRACT, TEXT)
    assert claims[0].startswith("We propose a sparse attention pattern")
    assert all("#" not in claim for claim in claims)
    queries = build_queries(TITLE, ABSTRACT, TEXT)
    assert queries[:2] == [TITLE, ABSTRACT]
    assert build_queries("", "", "Only body text here, we show it.")[0].startswith("Only body text")
