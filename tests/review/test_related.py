"""The item page's related literature, read from a review's stored grounding."""

from __future__ import annotations

from typing import Any

from openxiv.review.related import related_literature
from openxiv.review.schemas import ReviewOut

GROUNDING = {
    "used": True,
    "note": "external services are switched off",
    "sources": ["local-bm25"],
    "related": [
        {"title": "Longformer", "year": 2020, "venue": None, "ids": {"arxiv": "2004.05150"}, "cited": True},
        {
            "title": "Big Bird",
            "year": 2020,
            "venue": "NeurIPS",
            "ids": {"doi": '10.1/x"><script>', "openxiv": "2611.00007"},
            "cited": False,
        },
        "not a record",
        {"title": "   ", "ids": {}},
    ],
    "missing_citations": ["Big Bird"],
    "closest_prior_work": ["Longformer"],
}


def _review(**fields: Any) -> ReviewOut:
    return ReviewOut.model_construct(
        **{"ai_generated": True, "status": "completed", "grounding": {}, **fields}
    )


def test_related_works_come_from_the_first_completed_ai_review_with_a_grounding() -> None:
    external = _review(ai_generated=False, grounding={**GROUNDING, "related": [{"title": "Theirs"}]})
    failed = _review(status="failed", grounding={**GROUNDING, "related": [{"title": "Failed"}]})
    found = related_literature([external, failed, _review(), _review(grounding=GROUNDING)])
    assert found is not None
    assert [w.title for w in found.works] == ["Longformer", "Big Bird"]  # malformed entries skipped
    assert [w.title for w in found.missing] == ["Big Bird"]
    longformer, big_bird = found.works
    assert longformer.cited and longformer.closest and not longformer.likely_missing
    assert [(link.label, link.url) for link in longformer.links] == [
        ("arXiv", "https://arxiv.org/abs/2004.05150")
    ]
    assert big_bird.venue == "NeurIPS" and big_bird.year == 2020
    # Identifiers from outside services are quoted into fixed addresses, never used as URLs.
    assert [(link.label, link.url) for link in big_bird.links] == [
        ("OpenXiv", "/abs/2611.00007"),
        ("DOI", "https://doi.org/10.1/x%22%3E%3Cscript%3E"),
    ]
    assert found.sources == ["local-bm25"] and "switched off" in found.note


def test_no_grounding_recorded_is_none() -> None:
    assert related_literature([]) is None
    assert related_literature([_review(), _review(ai_generated=False, grounding=GROUNDING)]) is None
