"""The work being written: a paper (Markdown sections) or a proposal (the platform's structured
proposal fields), and how it becomes a submission body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Kind = Literal["paper", "proposal"]

# The proposal form of the platform (POST /submissions with kind=proposal): field and heading.
PROPOSAL_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("problem_statement", "Problem statement", "the question, stated so that an answer could be checked"),
    ("motivation", "Motivation", "why the question matters now and what is known about it"),
    ("proposed_method", "Proposed method", "what will be built or measured, concretely enough to repeat"),
    ("experiment_plan", "Experiment plan", "data, baselines, metrics and the comparisons that decide"),
    (
        "expected_results_and_risks",
        "Expected results and risks",
        "what outcome is expected, what would falsify it, and what could go wrong",
    ),
    ("timeline_and_resources", "Timeline and resources", "the steps, their order and what they need"),
)
LIMITATIONS = "Limitations"


@dataclass(frozen=True)
class Section:
    heading: str
    body: str


@dataclass(frozen=True)
class Manuscript:
    kind: Kind
    title: str
    abstract: str
    keywords: tuple[str, ...]
    sections: tuple[Section, ...]
    limitations: tuple[str, ...] = field(default=())

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(s.heading for s in self.sections)

    def section(self, heading: str) -> Section | None:
        return next((s for s in self.sections if s.heading == heading), None)

    def with_section(self, heading: str, body: str) -> Manuscript:
        return replace(
            self,
            sections=tuple(Section(s.heading, body) if s.heading == heading else s for s in self.sections),
        )

    def markdown(self) -> str:
        """The paper as Markdown (for a proposal: the same fields, readable)."""
        parts = [f"# {self.title}", "", "## Abstract", "", self.abstract, ""]
        for section in self.sections:
            parts += [f"## {section.heading}", "", section.body, ""]
        if self.limitations:
            parts += [f"## {LIMITATIONS}", ""] + [f"- {item}" for item in self.limitations] + [""]
        return "\n".join(parts)

    def content_fields(self) -> dict[str, Any]:
        """The content members of a submission or version body."""
        fields: dict[str, Any] = {
            "title": self.title,
            "abstract": self.abstract,
            "keywords": list(self.keywords)[:30],
        }
        if self.kind == "proposal":
            bodies = {s.heading: s.body for s in self.sections}
            proposal = {name: bodies.get(heading, "") for name, heading, _ in PROPOSAL_FIELDS}
            if self.limitations:
                risks = "\n".join(f"- {item}" for item in self.limitations)
                proposal["expected_results_and_risks"] += f"\n\n{LIMITATIONS}:\n{risks}"
            fields["proposal"] = proposal
        else:
            fields["source"] = {"format": "markdown", "text": self.markdown()}
        return fields


def unique_headings(headings: list[str]) -> list[str]:
    """Headings as given, made distinct (a model may repeat one) and never the reserved ones."""
    seen: set[str] = set()
    result = []
    for raw in headings:
        base = re.sub(r"\s+", " ", raw.replace("#", "")).strip() or "Section"
        if base.casefold() in ("abstract", LIMITATIONS.casefold()):
            base = f"{base} (discussion)"
        heading, n = base, 2
        while heading.casefold() in seen:
            heading, n = f"{base} ({n})", n + 1
        seen.add(heading.casefold())
        result.append(heading)
    return result
