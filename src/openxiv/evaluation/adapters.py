"""Binds the harness protocols (`protocols.py`) to the platform's review engine and integrity benchmark.

How engine results become what the metrics use:

* `review(mode="single")`: the single review has per-criterion scores (0-4) and no overall verdict,
  so Overall = 1 + 9 x (rubric-weighted mean score) on the 1-10 scale and accept = weighted mean
  >= the rubric's vote score threshold (the same threshold the panel's score decision uses).
* `review(mode="meta")`: the area chair's synthesis carries `rating` (1-10) and `decision`.
* `compare`: the engine's pairwise mode already judges both orders; its two verdicts are passed on.
* `vote`: the panel (`[review] panel`, or `panel_size` seats of the alias under evaluation).
* `revise`: the review engine has no author side, so a small reviser here asks the model to rewrite
  the opening of the paper (title, abstract, introduction: the first `REVISED_CHARS` characters)
  in answer to the review, and to write a response letter. The rest of the paper is kept as is:
  a small model cannot rewrite a 30,000-token paper in one answer. A rewrite too short to be the
  whole opening is added to it as a revision note (`merge_rewrite`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from openxiv.config import Settings
from openxiv.evaluation.protocols import (
    Cost,
    IntegrityBenchmark,
    PairVerdict,
    PanelVote,
    PointwiseVerdict,
    ReviewerUnderTest,
    RevisedPaper,
)
from openxiv.llm.client import LLMClient
from openxiv.llm.port import system, user
from openxiv.llm.recording import JsonlRecorder
from openxiv.review import prompts
from openxiv.review.engine import Document, ReviewEngine
from openxiv.tooling.integrity.bench import run_benchmark

REVISED_CHARS = 6000
MIN_REWRITE_SHARE = 0.5


class EngineUnavailable(RuntimeError):
    """The review engine cannot be used with this configuration; the message says why."""


def _cost(usage: Any) -> Cost:
    return Cost(
        input_tokens=int(getattr(usage, "input_tokens", 0)),
        output_tokens=int(getattr(usage, "output_tokens", 0)),
        cost_usd=float(getattr(usage, "cost_usd", 0.0)),
        calls=int(getattr(usage, "calls", 0)),
        latency_ms=float(getattr(usage, "latency_ms", 0.0)),
    )


class RevisedOpening(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revised_opening: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
    response_letter: Annotated[str, StringConstraints(strip_whitespace=True, max_length=6000)] = ""
    changes: Annotated[list[str], Field(max_length=12)] = Field(default_factory=list)


REVISER_SYSTEM = (
    "You are the author of a scientific paper and have just received a peer review. Rewrite the "
    "opening of your paper (title, abstract and introduction, given to you separately) so that it "
    "answers the review's concerns that can be answered in writing: sharper claims, clearer "
    "motivation, honest limitations, missing related work. Do not invent experiments or results. "
    "Keep the same language and Markdown style. List your changes, and when asked, write a short "
    "response letter to the reviewers that says what changed and why."
)


def merge_rewrite(opening: str, rewrite: str) -> str:
    """The revised opening. A rewrite shorter than `MIN_REWRITE_SHARE` of the original cannot be
    the whole opening (a model with bounded answers, like the embedded one whose strings stop at
    120 characters, returns a sentence): it is added after the original as a revision note
    instead of deleting the title, abstract and introduction."""
    if len(rewrite) >= MIN_REWRITE_SHARE * len(opening):
        return rewrite
    return f"{opening.rstrip()}\n\nRevision note: {rewrite}"


class PlatformEngine:
    """The harness protocol on top of `openxiv.review.engine.ReviewEngine` and `LLMClient`."""

    def __init__(self, alias: str, *, calls_path: Path | None = None, panel_size: int | None = None) -> None:
        settings = Settings()
        try:
            settings.llm.alias(alias)
        except Exception as error:
            raise EngineUnavailable(f"model alias {alias!r} is not configured: {error}") from None
        recorder = JsonlRecorder(calls_path) if calls_path else None
        self.llm = LLMClient(settings.llm, recorder=recorder)
        self.engine = ReviewEngine(self.llm, settings.review)
        self.alias = alias
        self.name = alias
        self.panel = [alias] * (panel_size or len(settings.review.panel))
        self.k = min(settings.review.accept_votes, len(self.panel))
        self.rubric = self.engine.rubric("paper")

    def describe(self) -> dict[str, Any]:
        """What produces these reviews, for the report: model, sampling, prompts, rubric, panel."""
        model = self.llm.alias(self.alias)
        provenance = self.engine.provenance(self.rubric)
        return {
            "alias": self.alias,
            "provider": model.provider,
            "model": model.model,
            "temperature": model.temperature,
            "max_output_tokens": model.max_output_tokens,
            "context_tokens": model.context_tokens,
            "prompt_version": provenance.prompt_version,
            "rubric": f"{provenance.rubric_id} {provenance.rubric_version}",
            "panel": f"{self.k} of {len(self.panel)} seats",
        }

    def _doc(self, text: str) -> Document:
        return Document(kind="paper", text=text)

    def review(self, text: str, *, mode: Literal["single", "meta"] = "single") -> PointwiseVerdict:
        if mode == "meta":
            meta = self.engine.meta(self._doc(text), chair_alias=self.alias, reviewer_aliases=[self.alias])
            synthesis = meta.synthesis
            return PointwiseVerdict(
                overall=float(synthesis["rating"]),
                accept=synthesis["decision"] == "accept",
                review_text=_review_text(synthesis),
                cost=_cost(meta.usage),
            )
        single = self.engine.single(self._doc(text), alias=self.alias)
        report = single.report
        scores = {key: value["score"] for key, value in report["criteria"].items()}
        weighted = self.rubric.weighted_mean(scores, top=4)
        return PointwiseVerdict(
            overall=round(1 + 9 * weighted, 3),
            accept=weighted >= self.rubric.vote.score_threshold,
            review_text=_review_text(report),
            cost=_cost(single.usage),
        )

    def compare(self, a: str, b: str) -> PairVerdict:
        result = self.engine.pairwise(self._doc(a), self._doc(b), alias=self.alias)
        picks = {v.order: v.winner for v in result.verdicts}
        return PairVerdict(a_first=picks["ab"], b_first=picks["ba"], cost=_cost(result.usage))

    def revise(self, text: str, review_text: str, *, with_response: bool) -> RevisedPaper:
        opening, rest = text[:REVISED_CHARS], text[REVISED_CHARS:]
        ask = "Also write the response letter." if with_response else "Leave response_letter empty."
        messages = [
            system(f"{REVISER_SYSTEM}\n\n{prompts.UNTRUSTED_RULE}\n\n{prompts.JSON_RULE}"),
            user(
                f"{prompts.quote('review', review_text)}\n\n"
                f"{prompts.quote('opening of the paper', opening)}\n\n"
                f"Rewrite the opening in answer to the review. {ask}"
            ),
        ]
        value, usage = self.llm.generate(RevisedOpening, messages, self.alias)
        letter = value.response_letter if with_response else ""
        new_opening = merge_rewrite(opening, value.revised_opening)
        return RevisedPaper(
            text=f"{new_opening}\n\n{rest}".strip(), response_letter=letter, cost=_cost(usage)
        )

    def vote(self, text: str) -> PanelVote:
        panel = self.engine.vote(self._doc(text), aliases=self.panel, k=self.k)
        votes = {f"seat{v.position + 1}:{v.model_alias}": v.decision == "accept" for v in panel.votes}
        return PanelVote(votes=votes, accepted=panel.vote_decision == "accept", cost=_cost(panel.usage))


def _review_text(report: dict[str, Any]) -> str:
    """The parts of a review an author acts on, as plain text."""
    lines = [str(report.get("summary", ""))]
    for key in (
        "major_concerns",
        "weaknesses",
        "minor_issues",
        "improvement_recommendations",
        "missing_citations",
    ):
        items = report.get(key) or []
        if items:
            lines.append(key.replace("_", " ").capitalize() + ":")
            lines += [f"- {item}" for item in items]
    for name, block in (report.get("criteria") or {}).items():
        for item in block.get("weaknesses", []) + block.get("suggestions", []):
            lines.append(f"- [{name}] {item}")
    return "\n".join(line for line in lines if line)


def make_engine(alias: str, *, out: Path | None = None) -> ReviewerUnderTest:
    """The platform review engine on model alias `alias`; its calls are recorded under `out/runs/`."""
    calls = out / "runs" / "llm-calls.jsonl" if out else None
    return PlatformEngine(alias, calls_path=calls)


class IntegrityBench:
    """`openxiv.tooling.integrity.bench.run_benchmark` seen through the harness protocol."""

    def __init__(self, folder: Path, *, quick: bool, seed: int) -> None:
        self.folder, self.quick, self.seed = folder, quick, seed

    def run(self) -> tuple[dict[str, Any], str]:
        results = run_benchmark(self.folder, seed=self.seed, quick=self.quick)
        return results, integrity_markdown(results)


def integrity_markdown(results: dict[str, Any]) -> str:
    """The benchmark's headline figures: its top-level numbers and rates, one row each."""
    rows = []
    for key, value in results.items():
        if isinstance(value, bool) or not isinstance(value, int | float | dict):
            continue
        if isinstance(value, dict):
            if not {"value", "n"} <= set(value):
                continue
            low, high = value.get("ci95") or (None, None)
            interval = f" [{low:.3f}, {high:.3f}]" if low is not None else ""
            value = f"{value['value']:.3f}{interval} (n={value['n']})"
        rows.append(f"| {key} | {value} |")
    table = "\n".join(["| figure | value |", "|---|---|", *rows])
    return f"Labelled corpus and scans under `integrity/` in the output folder.\n\n{table}"


def make_integrity_benchmark(out: Path, *, quick: bool = False, seed: int = 0) -> IntegrityBenchmark:
    return IntegrityBench(out / "integrity", quick=quick, seed=seed)
