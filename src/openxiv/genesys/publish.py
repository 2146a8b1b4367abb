"""Genesys on OpenXiv, through the public client only: every design's proposal is submitted and
reviewed (the platform's reviewers are the gate), and a verified design's paper is submitted and
revised from its reviews. Parents and children are linked by identifier in the text, so the
lineage can be followed on the platform. No torch here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openxiv.client import OpenXivClient, PollSchedule, StatusUnreachable, WaitTimeout
from openxiv.client.models import Submission, VersionReviews
from openxiv.genesys.design import CATALOGUE, Design
from openxiv.genesys.store import DesignRow
from openxiv.scientist.points import extract_points

PUBLISHED = frozenset({"provisionally_accepted", "accepted"})
STOPS = frozenset({"rejected", "held", "withdrawn"})


@dataclass(frozen=True)
class Verdict:
    identifier: str
    status: str
    accepted: bool
    rating: float | None
    versions: int


@dataclass(frozen=True)
class Author:
    name: str


def _reference(row: DesignRow) -> str:
    where = row.paper_id or row.proposal_id
    return f"{row.name} (OpenXiv {where})" if where else row.name


def lineage_text(row: DesignRow, parents: list[DesignRow], children: list[DesignRow]) -> str:
    lines = [f"- Generation {row.generation}, made by {row.mode}: {row.operation or 'seed design'}"]
    lines += [f"- Parent: {_reference(p)}" for p in parents]
    lines += [f"- Child: {_reference(c)}" for c in children]
    return "\n".join(lines)


def unit_code(design: Design) -> str:
    """The source of every unit the design uses: custom units as written, library units from
    openxiv/genesys/units.py (by name and summary where torch is not installed)."""
    parts = []
    for name in sorted(design.units()):
        if name in design.code:
            parts.append(
                f"`{name}` (written for this design):\n\n```python\n{design.code[name].strip()}\n```"
            )
        elif name in CATALOGUE:
            source = _library_source(name)
            summary = f"`{name}` (library): {CATALOGUE[name].summary}"
            parts.append(f"{summary}\n\n```python\n{source}\n```" if source else f"- {summary}")
    return "\n\n".join(parts)


def _library_source(name: str) -> str:
    from openxiv.genesys.torchcheck import torch_available

    if not torch_available():
        return ""
    import inspect

    from openxiv.genesys import units

    return inspect.getsource(units.LIBRARY[name]).strip()


class Publisher:
    def __init__(
        self,
        client: OpenXivClient,
        *,
        author: str,
        tries: int = 3,
        timeout_s: float = 600.0,
        poll: PollSchedule | None = None,
        key_prefix: str = "genesys",
        report: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.client = client
        self.author = author
        self.tries = tries
        self.timeout_s = timeout_s
        self.poll = poll or PollSchedule(initial=0.2, factor=1.5, ceiling=5.0)
        self.key_prefix = key_prefix
        self.report = report

    # -- common parts -------------------------------------------------------------------------

    def common(self, title: str, abstract: str, coder: str) -> dict[str, Any]:
        return {
            "title": title,
            "abstract": abstract,
            "authors": [{"kind": "human", "name": self.author}],
            "keywords": ["architecture search", "language models", "genesys"],
            "categories": ["cs.LG"],
            "licence": "CC-BY-4.0",
            "ai_involvement": (
                "Designed, implemented, checked and trained by Genesys-lite, an automated evolutionary "
                f"search; the unit code comes from {coder}. The text is generated from the search's records."
            ),
            "ip_attribution": {
                "model_developer": "none (deterministic program mutator)" if coder == "mutator" else coder,
                "initiating_human": self.author,
            },
        }

    def literature(self, design: Design, k: int = 3) -> list[str]:
        """Titles the platform's literature search returns for the design's units (none when the
        server has no index)."""
        query = " ".join(CATALOGUE[u].summary for u in sorted(design.units()) if u in CATALOGUE)[:300]
        try:
            found = self.client.search_literature(query or "language model block", k)
        except Exception:
            return []
        titles = [f"{hit.title} ({hit.year})" if hit.year else hit.title for hit in found.hits]
        return titles

    # -- proposals ----------------------------------------------------------------------------

    def proposal_body(
        self, row: DesignRow, parents: list[DesignRow], literature: list[str], rungs: list[str], round_: int
    ) -> dict[str, Any]:
        design = row.to_design()
        related = "\n".join(f"- {t}" for t in literature) or "- (no related work found on the platform)"
        revised = (
            f"\n\nThis is revision {round_}: the method section now states the tree in full, the "
            "checker's limits and how each reviewer point is addressed (see the response letter)."
            if round_ > 1
            else ""
        )
        return {
            **self.common(
                f"Genesys design proposal: {row.name}",
                f"A candidate block for autoregressive language models, {row.operation or 'a seed design'}. "
                f"It will be checked for causality and cost, then trained on a ladder of tiny scales "
                f"against the GPT-like seed.",
                row.coder,
            ),
            "kind": "proposal",
            "proposal": {
                "problem_statement": (
                    "Which small changes to a language-model block improve what it learns at a fixed "
                    "parameter budget? This proposal is one step of an evolutionary search over block "
                    "designs, each a tree of units."
                ),
                "motivation": (
                    f"{row.mode.capitalize()} of earlier designs: {row.operation or 'a seed design'}.\n\n"
                    f"Lineage:\n{lineage_text(row, parents, [])}\n\nRelated work retrieved on the platform:\n{related}"
                ),
                "proposed_method": (
                    f"The block, as a tree of units (slot: unit(arguments)):\n\n```\n{design.outline()}\n```\n\n"
                    f"Units:\n\n{unit_code(design)}{revised}"
                ),
                "experiment_plan": (
                    "Before training, the checker tests forward and backward passes, finite values, "
                    "causality at every position, a parameter count within 20% of the rung's reference "
                    "(the width is tuned to fit) and cost within 4x of the GPT seed. Then the design is "
                    f"trained on the rungs {', '.join(rungs)} on byte-level language modelling, "
                    "associative recall and modular addition, scored as held-out accuracy above chance."
                ),
                "expected_results_and_risks": (
                    "The design may not beat the GPT seed; tiny scales can mislead, which is why the "
                    "best designs are re-verified on larger rungs with several seeds."
                ),
                "timeline_and_resources": "Minutes of CPU time per rung.",
            },
        }

    def submit_proposal(
        self, row: DesignRow, parents: list[DesignRow], literature: list[str], rungs: list[str]
    ) -> Submission:
        body = self.proposal_body(row, parents, literature, rungs, 1)
        return self.client.create_submission(
            body, idempotency_key=f"{self.key_prefix}-{row.fingerprint}-proposal"
        )

    def gate(
        self,
        identifier: str,
        revise: Callable[[int, VersionReviews], dict[str, Any]],
        key: str,
        tries: int | None = None,
    ) -> Verdict:
        """Wait for the platform's decision; on a revision request, send the revision that
        `revise(round, reviews)` builds, up to `tries` versions in all."""
        tries = self.tries if tries is None else tries
        version = 0
        while True:
            try:
                item = self.client.wait_for(identifier, timeout=self.timeout_s, poll=self.poll)
            except StatusUnreachable:
                item = self.client.get(identifier)
            except WaitTimeout:
                item = self.client.get(identifier)
                return Verdict(identifier, item.status, False, self.rating(identifier), item.latest_version)
            version = item.latest_version
            if item.status in PUBLISHED or item.status in STOPS or version >= tries:
                accepted = item.status in PUBLISHED
                return Verdict(identifier, item.status, accepted, self.rating(identifier), version)
            reviews = self.client.reviews(identifier)
            body = revise(version + 1, reviews)
            self.report(f"{identifier}: {item.status}; sending version {version + 1}")
            self.client.create_version(identifier, body, idempotency_key=f"{key}-v{version + 1}")

    def rating(self, identifier: str) -> float | None:
        """The meta-review's rating (1-10) of the latest version, else the panel's mean score x10."""
        try:
            reviews = self.client.reviews(identifier)
        except Exception:
            return None
        meta = reviews.meta_review
        if meta is not None and meta.rating is not None:
            return float(meta.rating)
        panel = reviews.panel
        if panel is not None and panel.score_mean is not None:
            return round(float(panel.score_mean) * 10, 3)
        return None

    @staticmethod
    def response_letter(reviews: VersionReviews) -> str:
        points = extract_points(reviews)
        if not points:
            return "The reviews raised no specific point; the revision states the design and plan more fully."
        lines = ["We thank the reviewers. Point by point:"]
        for point in points[:20]:
            lines.append(
                f'- {point.id} ({", ".join(point.sources)}): "{point.text[:300]}" — the revised text '
                "spells out the tree, the checker's limits and the evaluation so that this can be judged "
                "from the results; the design itself is kept, since verification will test it."
            )
        return "\n".join(lines)

    def revise_proposal(
        self, row: DesignRow, parents: list[DesignRow], literature: list[str], rungs: list[str]
    ) -> Callable[[int, VersionReviews], dict[str, Any]]:
        def build(round_: int, reviews: VersionReviews) -> dict[str, Any]:
            body = self.proposal_body(row, parents, literature, rungs, round_)
            del body["kind"]
            body["response_letter"] = self.response_letter(reviews)
            return body

        return build

    # -- papers -------------------------------------------------------------------------------

    def paper_markdown(
        self,
        row: DesignRow,
        parents: list[DesignRow],
        children: list[DesignRow],
        results_table: str,
        check_report: str,
        baseline_line: str,
    ) -> str:
        design = row.to_design()
        verdict = row.proposal_status or "not reviewed"
        return "\n\n".join(
            [
                f"# {row.name}: a block design found by Genesys-lite",
                "## Abstract\n\n"
                f"We report the verification of {row.name}, {row.operation or 'a seed design'}. "
                f"Its fitness (mean held-out accuracy above chance over three tasks, averaged over "
                f"the rungs it was trained on) is {row.fitness:.4f} ± {row.fitness_std or 0:.4f}. "
                f"{baseline_line}",
                "## Motivation\n\n"
                f"This design came from {row.mode} in generation {row.generation}. Its proposal "
                f"(OpenXiv {row.proposal_id or 'n/a'}) was reviewed on the platform: {verdict}"
                + (f", rating {row.proposal_rating:g}" if row.proposal_rating is not None else "")
                + ".",
                f"## Design\n\n```\n{design.outline()}\n```\n\n{unit_code(design)}",
                "## Results\n\nScores are held-out accuracy minus the random baseline, per task, mean over "
                f"seeds; the last columns are the rung mean and its standard deviation over seeds.\n\n{results_table}",
                f"## Lineage\n\n{lineage_text(row, parents, children)}",
                f"## Checker report\n\n{check_report}",
                "## Limitations\n\nThe rungs are tiny and trained for minutes on CPU; rankings at this "
                "scale may not hold at larger ones.",
            ]
        )

    def publish_paper(self, row: DesignRow, markdown: str, abstract: str) -> Submission:
        """A new paper, or a new version of the design's paper when it reports more rungs."""
        body = {
            **self.common(f"Genesys design: {row.name}", abstract, row.coder),
            "source": {"format": "markdown", "text": markdown},
        }
        rungs = "-".join(row.paper_rungs) or "none"
        if row.paper_id is None:
            return self.client.create_submission(
                {**body, "kind": "paper"}, idempotency_key=f"{self.key_prefix}-{row.fingerprint}-paper"
            )
        reviews = self.client.reviews(row.paper_id)
        body["response_letter"] = (
            "This version adds results from a larger rung of the ladder.\n\n" + self.response_letter(reviews)
        )
        return self.client.create_version(
            row.paper_id, body, idempotency_key=f"{self.key_prefix}-{row.fingerprint}-paper-{rungs}"
        )
