"""The scientist's writing steps over the LLM port: outline -> sections -> self-check to produce a
manuscript, and answers -> revised sections to revise it. Each step validates its answer against
its schema; the LLM client asks the model again with the errors when an answer does not validate
(llm.retry.repair_attempts) and raises InvalidOutputError when it never does."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from openxiv.llm.client import LLMClient
from openxiv.llm.port import CallContext, LLMError, Message, Usage
from openxiv.scientist import prompts
from openxiv.scientist.manuscript import PROPOSAL_FIELDS, Kind, Manuscript, Section, unique_headings
from openxiv.scientist.points import ReviewerPoint
from openxiv.scientist.schemas import Outline, PointAnswer, SectionText, SelfCheck, answers_schema

T = TypeVar("T", bound=BaseModel)
# Points answered per model call: enough to keep calls few, few enough for a small model's output.
POINTS_PER_CALL = 8


class StepFailed(Exception):
    """A writing step got no usable answer from the model; names the step and the model's error."""

    def __init__(self, step: str, error: LLMError) -> None:
        self.step = step
        super().__init__(f"{step}: {error}")


@dataclass(frozen=True)
class Answer:
    point: ReviewerPoint
    decision: str  # addressed | declined
    explanation: str
    section: str


@dataclass
class Writer:
    llm: LLMClient
    alias: str
    max_output_tokens: int | None = None
    usage: Usage = field(default_factory=Usage)

    def take_usage(self) -> Usage:
        """What the model consumed since the last call of this method."""
        spent, self.usage = self.usage, Usage()
        return spent

    def _ask(self, step: str, schema: type[T], messages: list[Message], sample: int = 0) -> T:
        try:
            value, usage = self.llm.generate(
                schema,
                messages,
                self.alias,
                context=CallContext(purpose=f"scientist:{step}"),
                max_output_tokens=self.max_output_tokens,
                sample=sample,
            )
        except LLMError as error:
            raise StepFailed(step, error) from error
        self.usage = self.usage.plus(usage) if self.usage.calls else usage
        return value

    # -- the first version ---------------------------------------------------------------------

    def write(self, topic: str, kind: Kind) -> Manuscript:
        fixed = (
            [(heading, purpose) for _, heading, purpose in PROPOSAL_FIELDS] if kind == "proposal" else None
        )
        plan = self._ask("outline", Outline, prompts.outline(topic, kind, fixed))
        if fixed:
            planned = fixed
        else:
            headings = unique_headings([s.heading for s in plan.sections])
            planned = [(h, s.purpose) for h, s in zip(headings, plan.sections, strict=True)]
        plan_text = "\n".join(
            [f"Title: {plan.title}", f"Abstract: {plan.abstract}"] + [f"- {h}: {p}" for h, p in planned]
        )
        sections = []
        for n, (heading, purpose) in enumerate(planned):
            text = self._ask(
                f"section {heading}",
                SectionText,
                prompts.section(topic, plan_text, heading, purpose),
                sample=n,
            )
            sections.append(Section(heading, "\n\n".join(text.paragraphs)))
        draft = Manuscript(
            kind=kind,
            title=" ".join(plan.title.split()),
            abstract=plan.abstract,
            keywords=tuple(dict.fromkeys(" ".join(k.split()) for k in plan.keywords)),
            sections=tuple(sections),
        )
        check = self._ask("self-check", SelfCheck, prompts.self_check(draft))
        return Manuscript(
            kind=kind,
            title=draft.title,
            abstract=check.abstract,
            keywords=draft.keywords,
            sections=draft.sections,
            limitations=tuple(check.limitations),
        )

    # -- revisions ----------------------------------------------------------------------------

    def answer(self, manuscript: Manuscript, points: list[ReviewerPoint]) -> list[Answer]:
        """One answer per point, in the points' order (the schema makes skipping one invalid)."""
        answers: list[Answer] = []
        for start in range(0, len(points), POINTS_PER_CALL):
            batch = points[start : start + POINTS_PER_CALL]
            schema = answers_schema(len(batch), manuscript.headings)
            reply = self._ask(
                f"answers {start + 1}-{start + len(batch)}", schema, prompts.answer_points(manuscript, batch)
            )
            for n, point in enumerate(batch, start=1):
                given: PointAnswer = getattr(reply, f"point_{n}")
                answers.append(
                    Answer(point, given.decision, " ".join(given.explanation.split()), given.section)
                )
        return answers

    def revise(self, manuscript: Manuscript, answers: list[Answer]) -> Manuscript:
        """Rewrite each section that an addressed point names; the others stay as they were."""
        changes: dict[str, list[str]] = defaultdict(list)
        for answer in answers:
            if answer.decision == "addressed":
                changes[answer.section].append(f"{answer.point.text} -> {answer.explanation}")
        revised = manuscript
        for n, heading in enumerate(manuscript.headings):
            if heading in changes:
                text = self._ask(
                    f"revise {heading}",
                    SectionText,
                    prompts.revise_section(revised, heading, changes[heading]),
                    sample=n,
                )
                revised = revised.with_section(heading, "\n\n".join(text.paragraphs))
        return revised
