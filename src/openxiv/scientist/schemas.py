"""What the scientist asks its model for, one schema per step.

Strings are bounded but their minimum is small on purpose: the embedded model's grammar caps every
string (llm.embedded.max_string_chars) and a minimum above that cap could never be met. Long
sections are therefore asked for as several paragraphs rather than one long string.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Heading = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SectionPlan(_Strict):
    heading: Heading
    purpose: Line = Field(description="what this section must establish, in one sentence")


class Outline(_Strict):
    """Step 1: the work's shape before any prose is written."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    abstract: Paragraph
    keywords: Annotated[list[Line], Field(min_length=1, max_length=6)]
    sections: Annotated[list[SectionPlan], Field(min_length=3, max_length=7)]


class SectionText(_Strict):
    """Step 2 (once per section): the section's prose."""

    paragraphs: Annotated[list[Paragraph], Field(min_length=1, max_length=6)]


class SelfCheck(_Strict):
    """Step 3: the author's own critical read before submitting."""

    problems: Annotated[
        list[Line], Field(max_length=6, description="unsupported claims, gaps, contradictions")
    ]
    limitations: Annotated[list[Line], Field(min_length=1, max_length=5)]
    abstract: Paragraph = Field(description="the abstract rewritten to claim no more than the text supports")


class PointAnswer(_Strict):
    """The answer to one reviewer point."""

    decision: Literal["addressed", "declined"]
    explanation: Paragraph = Field(
        description="addressed: what was changed; declined: the reason, stated respectfully"
    )
    section: str = Field(description="the section where the change is (or which the point concerns)")


@lru_cache(maxsize=64)
def answers_schema(count: int, headings: tuple[str, ...]) -> type[BaseModel]:
    """One required member per point (point_1 ... point_N), so a valid answer cannot skip one, and
    `section` limited to the manuscript's real headings, so `where` always points somewhere."""
    where = cast(Any, Literal.__getitem__(headings))  # Literal[*headings] on Python 3.11
    answer = create_model(
        "PointAnswerIn",
        __base__=PointAnswer,
        section=(where, Field(description="the section where the change is (or which the point concerns)")),
    )
    fields: dict[str, Any] = {f"point_{n}": (answer, ...) for n in range(1, count + 1)}
    return create_model("PointAnswers", __base__=_Strict, **fields)
