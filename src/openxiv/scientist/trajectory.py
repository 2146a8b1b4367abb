"""What an agent run records: the trajectory saved as JSON (schema `openxiv.agent-run/1`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openxiv.llm.port import Usage

Outcome = Literal[
    "accepted",
    "provisionally_accepted",
    "rejected",
    "held",
    "withdrawn",
    "rounds_exhausted",
    "timed_out",
    "failed",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Tokens(BaseModel):
    input: int = 0
    output: int = 0
    model_calls: int = 0
    repairs: int = 0
    cost_usd: float = 0.0

    @classmethod
    def of(cls, usage: Usage) -> Tokens:
        return cls(
            input=usage.input_tokens,
            output=usage.output_tokens,
            model_calls=usage.calls,
            repairs=usage.repairs,
            cost_usd=round(usage.cost_usd, 6),
        )

    def plus(self, other: Tokens) -> Tokens:
        return Tokens(
            input=self.input + other.input,
            output=self.output + other.output,
            model_calls=self.model_calls + other.model_calls,
            repairs=self.repairs + other.repairs,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
        )


class PointResponse(BaseModel):
    point_id: str
    sources: list[str]
    point: str
    decision: Literal["addressed", "declined"]
    explanation: str
    section: str


class ResponseLetter(BaseModel):
    answers_version: int = Field(description="the version whose reviews the letter answers")
    responses: list[PointResponse]
    text: str


class Round(BaseModel):
    round: int
    version: int
    identifier: str
    title: str
    submitted_at: datetime
    settled_at: datetime | None = None
    status: str | None = Field(default=None, description="the submission's status once the pipeline settled")
    review: dict[str, Any] | None = Field(
        default=None, description="meta-review, panel votes and pairwise verdict"
    )
    points: int = Field(default=0, description="reviewer points found in this version's reviews")
    response_letter: ResponseLetter | None = Field(
        default=None, description="the letter sent with this version"
    )
    timings_s: dict[str, float] = Field(default_factory=dict)
    tokens: Tokens = Field(default_factory=Tokens)


class AgentRun(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_id: Literal["openxiv.agent-run/1"] = Field(default="openxiv.agent-run/1", alias="schema")
    topic: str
    kind: str
    server: str
    model_alias: str
    model: str
    max_rounds: int
    submission: str | None = None
    outcome: Outcome | None = None
    stop_reason: str = ""
    started_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None
    rounds: list[Round] = Field(default_factory=list)
    tokens: Tokens = Field(default_factory=Tokens)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.model_dump_json(by_alias=True, indent=2), "utf-8")
        partial.replace(path)
