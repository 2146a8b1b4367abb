"""Rubrics ("standards") are versioned YAML data, one per submission type."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

Kind = Literal["proposal", "paper"]


class Criterion(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    weight: float = Field(default=1.0, gt=0)
    asks: list[str] = Field(min_length=1)


class ReviewerBounds(BaseModel):
    min: int = Field(default=3, ge=1)
    max: int = Field(default=5, ge=1)
    default: int = 3

    @model_validator(mode="after")
    def _ordered(self) -> ReviewerBounds:
        if not self.min <= self.default <= self.max:
            raise ValueError("reviewers: need min <= default <= max")
        return self


class VoteStandard(BaseModel):
    guidance: str
    score_threshold: float = Field(default=0.5, ge=0, le=1)


class Rubric(BaseModel):
    id: str
    version: str
    kind: Kind
    title: str
    bar: str
    summary: str
    reviewers: ReviewerBounds
    criteria: list[Criterion] = Field(min_length=1)
    scale: dict[int, str]
    rating_guidance: str
    decision_guidance: str
    vote: VoteStandard

    @model_validator(mode="after")
    def _unique_keys(self) -> Rubric:
        keys = [c.key for c in self.criteria]
        if len(set(keys)) != len(keys):
            raise ValueError("criterion keys must be unique")
        return self

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.criteria]

    def weighted_mean(self, scores: dict[str, float], top: float) -> float:
        """Weighted mean of criterion scores, scaled to 0..1 (`top` is the best score)."""
        total = sum(c.weight for c in self.criteria)
        value = sum(c.weight * float(scores.get(c.key, 0.0)) for c in self.criteria)
        return round(value / (total * top), 4) if total else 0.0


class RubricError(ValueError):
    pass


def load_rubric_file(path: Path) -> Rubric:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RubricError(f"{path}: cannot read rubric ({error})") from error
    try:
        return Rubric.model_validate(data)
    except ValidationError as error:
        raise RubricError(f"{path}: invalid rubric: {error}") from error


@lru_cache(maxsize=16)
def load_rubric(kind: str, directory: str | None = None) -> Rubric:
    """The rubric for `kind` ("proposal" or "paper"), from `directory` or the packaged ones."""
    if kind not in ("proposal", "paper"):
        raise RubricError(f"no rubric for submission type {kind!r} (use 'proposal' or 'paper')")
    if directory:
        path = Path(directory) / f"{kind}.yaml"
    else:
        path = Path(str(resources.files("openxiv.review").joinpath("rubrics", f"{kind}.yaml")))
    rubric = load_rubric_file(path)
    if rubric.kind != kind:
        raise RubricError(f"{path}: rubric kind is {rubric.kind!r}, expected {kind!r}")
    return rubric
