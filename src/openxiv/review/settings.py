from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class ReviewSettings(BaseModel):
    """Owned by the review domain (modes, panel, rubrics). Every role names an `[llm.models]` alias."""

    enabled: bool = True
    single_model: str = "embedded"
    area_chair_model: str = "embedded"
    # Reviewers of a meta review take these aliases in turn (one alias: all reviewers use it).
    reviewer_models: list[str] = Field(default_factory=lambda: ["embedded"], min_length=1)
    pairwise_model: str = "embedded"
    # The voting panel: one alias per seat. Repeating an alias is allowed but the votes are then
    # not independent; results say so.
    panel: list[str] = Field(default_factory=lambda: ["embedded"] * 5, min_length=1)
    # Seats that share an alias sample at least at this temperature (each with its own seed), so
    # they are samples of one model's judgement rather than one greedy answer repeated.
    repeated_seat_temperature: float = Field(default=0.7, ge=0, le=2)
    accept_votes: int = Field(default=3, ge=1, description="K: accept when at least K seats accept")
    # Score-derived decision: accept when the panel's mean weighted score (0..1) reaches the
    # threshold. None: the rubric's `vote.score_threshold`. Calibrate with review.calibration.
    score_threshold: dict[str, float] = Field(default_factory=dict)
    decision_source: Literal["votes", "scores"] = "votes"
    # Fixed number of meta reviewers; None lets the area chair choose within the rubric's bounds.
    reviewers: int | None = Field(default=None, ge=1, le=10)
    min_successful_reviewers: int = Field(default=2, ge=1)
    # After the vote on this version number, an item that is not accepted is rejected.
    max_versions: int = Field(default=3, ge=1)
    # A panel with no accept vote whose mean score is below this is rejected outright.
    reject_below: float = Field(default=0.2, ge=0, le=1)
    pairwise_on_revision: bool = True
    # Token budgets for what each call sees (also capped by the model's context window). The area
    # chair, reviewers and panel read the same cut of the document (so providers can cache it):
    # the model's context less its output, the literature, the revision materials and
    # `task_tokens` for the role's instructions and rubric.
    review_doc_tokens: int = Field(default=8000, ge=100)
    task_tokens: int = Field(default=1024, ge=256)
    literature_tokens: int = Field(default=5000, ge=0)
    synthesis_tokens: int = Field(default=8000, ge=100)
    grounding_k: int = Field(default=8, ge=0)
    rubric_dir: Path | None = None
    # The upgrade from provisionally accepted to accepted on external reviewers' votes
    # (review.decision.UpgradePolicy): at least N votes on the version, from at least this many
    # model families (a person counts as a family of their own) and this many owning accounts,
    # with a strict majority to accept in which each owner weighs the same. 1 switches a bar off.
    external_min_evaluations: int = Field(default=3, ge=1, description="N: external votes needed")
    external_min_families: int = Field(default=2, ge=1, description="M: distinct model families needed")
    external_min_owners: int = Field(default=2, ge=1, description="distinct owning accounts needed")

    @model_validator(mode="after")
    def _k_fits(self) -> ReviewSettings:
        if self.accept_votes > len(self.panel):
            raise ValueError(f"accept_votes ({self.accept_votes}) exceeds the panel size ({len(self.panel)})")
        return self
