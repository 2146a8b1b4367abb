"""What the models are asked to return: pydantic models whose JSON schema constrains the answer.

Criterion keys differ per rubric, so the review, synthesis and vote schemas are built from the
rubric (cached per rubric version); every criterion becomes a required property.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from openxiv.review.rubrics import Rubric

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
Items = Annotated[list[Short], Field(max_length=12)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CriterionFeedback(_Strict):
    strengths: Items
    weaknesses: Items
    suggestions: Items
    score: int = Field(ge=0, le=4, description="0 (absent or wrong) to 4 (outstanding)")


class ReviewerSpec(_Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    expertise: Short
    focus: Short


class PairwiseJudgement(_Strict):
    better: Literal["first", "second"]
    reasons: Annotated[list[Short], Field(min_length=1, max_length=6)]


_CACHE: dict[tuple[str, str, str, tuple[str, ...]], type[BaseModel]] = {}


def _per_rubric(build: Callable[[Rubric], type[BaseModel]]) -> Callable[[Rubric], type[BaseModel]]:
    """A schema built once per rubric version (and set of criteria), not on every call."""

    @wraps(build)
    def cached(rubric: Rubric) -> type[BaseModel]:
        key = (build.__name__, rubric.id, rubric.version, tuple(rubric.keys))
        if key not in _CACHE:
            _CACHE[key] = build(rubric)
        return _CACHE[key]

    return cached


def _fields(rubric: Rubric, kind: Any, **field_options: Any) -> dict[str, Any]:
    return {c.key: (kind, Field(..., **field_options)) for c in rubric.criteria}


@_per_rubric
def review_report_schema(rubric: Rubric) -> type[BaseModel]:
    criteria = create_model("CriterionReviews", __base__=_Strict, **_fields(rubric, CriterionFeedback))
    return create_model(
        "ReviewReport",
        __base__=_Strict,
        criteria=(criteria, ...),
        summary=(Text, ...),
        major_concerns=(Items, ...),
        minor_issues=(Items, ...),
        questions_for_authors=(Items, ...),
        improvement_recommendations=(Items, ...),
        missing_citations=(Items, Field(description="related work the submission should cite or discuss")),
    )


@lru_cache(maxsize=32)
def reviewer_plan_schema(low: int, high: int) -> type[BaseModel]:
    return create_model(
        "ReviewerPlan",
        __base__=_Strict,
        subfields=(Annotated[list[Short], Field(min_length=1, max_length=6)], ...),
        reviewers=(Annotated[list[ReviewerSpec], Field(min_length=low, max_length=high)], ...),
    )


@_per_rubric
def synthesis_schema(rubric: Rubric) -> type[BaseModel]:
    scores = create_model("CriterionScores", __base__=_Strict, **_fields(rubric, int, ge=0, le=4))
    return create_model(
        "MetaReview",
        __base__=_Strict,
        summary=(Text, ...),
        strengths=(Items, ...),
        weaknesses=(Items, ...),
        criteria_scores=(scores, ...),
        rating=(int, Field(ge=1, le=10)),
        decision=(cast(Any, Literal["accept", "revise", "reject"]), ...),
        justification=(Text, ...),
    )


@_per_rubric
def vote_schema(rubric: Rubric) -> type[BaseModel]:
    scores = create_model("VoteScores", __base__=_Strict, **_fields(rubric, int, ge=0, le=10))
    return create_model(
        "PanelVote",
        __base__=_Strict,
        decision=(cast(Any, Literal["accept", "reject"]), ...),
        confidence=(float, Field(ge=0, le=1)),
        reasons=(Annotated[list[Short], Field(min_length=1, max_length=8)], ...),
        scores=(scores, ...),
    )
