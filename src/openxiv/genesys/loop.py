"""The evolution: generations of designs through checker, review gate, verification and papers.

Every step is recorded in the store before the next one starts, so `run` picks up where an
interrupted run stopped: designs are resumed from their status, verification jobs already
answered are not repeated, and submissions carry idempotency keys derived from the run and the
design, so a step cut off after the server answered is not submitted twice.

Generation 0 holds the seeds (GPT-like and retention-like). Each later generation adds
`per_generation` designs: parents are picked by rank among verified designs (exploit) or at
random (explore), the mode (mutation, crossover, scratch) is sampled from the mix, and the first
`warmup` designs are drawn from scratch. A design that fails the checker is fed back to its coder
(the LLM when configured, else the mutator tries another edit), up to `check_attempts` designs.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openxiv.client import ApiError, OpenXivClient
from openxiv.genesys.design import SEEDS
from openxiv.genesys.designer import DEFAULT_MIX, Candidate, choose_mode, crossover, mutate, name_for, scratch
from openxiv.genesys.fitness import Fitness, fitness, rung_scores, select_parents
from openxiv.genesys.jobs import Pending, VerificationQueue
from openxiv.genesys.ladder import PROMOTE_EVERY, TASK_NAMES, Rung, ladder
from openxiv.genesys.publish import PUBLISHED, Publisher
from openxiv.genesys.store import (
    CHECK_FAILED,
    CHECKED,
    DEFAULT_URL,
    NEW,
    REVIEWED,
    SKIPPED,
    VERIFIED,
    VERIFYING,
    DesignRow,
    Store,
)


@dataclass
class GenesysConfig:
    generations: int = 3
    per_generation: int = 4
    budget_minutes: float = 30.0
    ladder: str = "lite"
    tasks: tuple[str, ...] = TASK_NAMES
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    warmup: int = 2
    explore: float = 0.2
    review_tries: int = 2
    paper_tries: int = 2
    rejected_sample: float = 0.5
    final_seeds: int = 3
    coder_attempts: int = 2
    check_attempts: int = 4
    tolerance: float = 0.20
    efficiency_factor: float = 4.0
    seed: int = 0
    corpus: str = ""
    db_url: str = DEFAULT_URL
    queue_url: str = "immediate"
    review_timeout_s: float = 900.0
    threads_per_job: int = 1


@dataclass
class Progress:
    generation: int = 0
    generations: int = 0
    phase: str = "starting"
    designs: int = 0
    checked: int = 0
    accepted: int = 0
    verified: int = 0
    jobs_done: int = 0
    jobs_total: int = 0
    best: str = "-"
    best_fitness: float | None = None
    elapsed_s: float = 0.0


class Evolution:
    def __init__(
        self,
        config: GenesysConfig,
        store: Store,
        client: OpenXivClient,
        *,
        author: str,
        coder: Any | None = None,
        on_progress: Callable[[Progress], None] = lambda _: None,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client
        self.coder = coder
        self.rungs: tuple[Rung, ...] = ladder(config.ladder)
        self.queue = VerificationQueue(config.queue_url)
        self.on_progress = on_progress
        self.log = log
        self.progress = Progress(generations=config.generations)
        self.started = time.monotonic()
        run_key = store.get_state("run_key")
        if run_key is None:
            run_key = uuid.uuid4().hex[:12]
            store.set_state("run_key", run_key)
            store.set_state(
                "config", {"ladder": config.ladder, "tasks": list(config.tasks), "seed": config.seed}
            )
        self.publisher = Publisher(
            client,
            author=author,
            tries=config.review_tries,
            timeout_s=config.review_timeout_s,
            key_prefix=f"genesys-{run_key}",
            report=log,
        )

    # -- bookkeeping ---------------------------------------------------------------------------

    def over_budget(self) -> bool:
        return (time.monotonic() - self.started) / 60 >= self.config.budget_minutes

    def _tick(self, phase: str | None = None) -> None:
        rows = self.store.designs()
        p = self.progress
        p.phase = phase or p.phase
        p.designs = len(rows)
        p.checked = sum(r.status not in (NEW, CHECK_FAILED) for r in rows)
        p.accepted = sum(bool(r.accepted) for r in rows)
        p.verified = sum(r.status == VERIFIED for r in rows)
        scored = [r for r in rows if r.fitness is not None]
        if scored:
            top = max(scored, key=lambda r: r.fitness or 0.0)
            p.best, p.best_fitness = top.name, top.fitness
        p.elapsed_s = time.monotonic() - self.started
        self.on_progress(p)

    def _rng(self, *parts: object) -> random.Random:
        text = "-".join(str(x) for x in (self.config.seed, *parts))
        return random.Random(int(hashlib.sha256(text.encode()).hexdigest()[:16], 16))

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self._seed_tree()
        first = int(self.store.get_state("generation_done", -1)) + 1
        for generation in range(first, self.config.generations + 1):
            self.progress.generation = generation
            if generation > 0:
                if self.over_budget():
                    self.log(
                        f"budget of {self.config.budget_minutes:g} min spent before generation {generation}"
                    )
                    break
                self._propose_generation(generation)
            self._advance(generation)
            self._promote()
            self._publish_papers()
            self.store.set_state("generation_done", generation)
            self._tick(f"generation {generation} done")
        showdown = self._showdown()
        self._publish_papers()
        self._tick("finished")
        return {"designs": len(self.store.designs()), "showdown": showdown}

    def _seed_tree(self) -> None:
        if self.store.designs():
            return
        for make in SEEDS.values():
            design = make()
            self.store.add_design(
                design, generation=0, mode="seed", parents=[], operation="", coder="library"
            )

    # -- proposing -----------------------------------------------------------------------------

    def _verified(self) -> list[DesignRow]:
        return [r for r in self.store.designs(VERIFIED) if r.fitness is not None]

    def _propose_generation(self, generation: int) -> None:
        existing = [
            r for r in self.store.designs() if r.generation == generation and r.status != CHECK_FAILED
        ]
        made = len(self.store.designs()) - len(SEEDS)
        for slot in range(len(existing), self.config.per_generation):
            if self.over_budget():
                return
            self._tick(f"designing {generation}.{slot + 1}")
            rng = self._rng("design", generation, slot)
            warming_up = made < self.config.warmup
            self._design_one(generation, slot, rng, warming_up)
            made += 1

    def _design_one(
        self, generation: int, slot: int, rng: random.Random, warming_up: bool
    ) -> DesignRow | None:
        from openxiv.genesys.checker import check_design

        verified = self._verified()
        ranked = [(r.id, r.fitness or 0.0) for r in verified]
        mode = choose_mode(rng, self.config.mix, warming_up=warming_up, verified=len(verified))
        feedback = ""
        candidate: Candidate | None = None
        for attempt in range(self.config.check_attempts):
            candidate = self._candidate(mode, ranked, rng, candidate, feedback, attempt)
            design = candidate.design
            design.name = name_for(design, generation)
            row = self.store.add_design(
                design,
                generation=generation,
                mode=candidate.mode,
                parents=candidate.parents,
                operation=candidate.operation,
                coder=candidate.coder,
            )
            if row is None:  # the same architecture is already in the tree
                feedback = ""
                # A crossover of parents that differ in one slot gives one of them back every
                # time; a mutation, and on the last try a new block, still find something new.
                mode = "scratch" if attempt + 2 == self.config.check_attempts else "mutation"
                continue
            report = check_design(
                design,
                self.rungs[0],
                tolerance=self.config.tolerance,
                efficiency_factor=self.config.efficiency_factor,
            )
            if report.passed:
                self.store.update(
                    row.id, status=CHECKED, check=report.to_json(), dims={self.rungs[0].name: report.dim}
                )
                self.log(f"{row.name}: passed the checker ({candidate.operation})")
                return self.store.get(row.id)
            self.store.update(row.id, status=CHECK_FAILED, check=report.to_json())
            failed = report.failures()[0]
            self.log(f"{row.name}: checker failed at {failed.name}: {failed.detail}")
            feedback = report.to_markdown()
        return None

    def _candidate(
        self,
        mode: str,
        ranked: list[tuple[int, float]],
        rng: random.Random,
        previous: Candidate | None,
        feedback: str,
        attempt: int,
    ) -> Candidate:
        parents = select_parents(ranked, 2 if mode == "crossover" else 1, rng, self.config.explore)
        if mode == "scratch" or not parents:
            design, what = scratch(rng)
            return Candidate(design, "scratch", [], what)
        rows = [self.store.get(i) for i in parents]
        donors = [r.to_design() for r in self._verified() if r.id not in parents]
        if mode == "crossover" and len(rows) == 2:
            design, what = crossover(rows[0].to_design(), rows[1].to_design(), rng)
            return Candidate(design, "crossover", parents, what)
        base, what = mutate(rows[0].to_design(), rng, donors)
        if self.coder is not None and attempt < self.config.coder_attempts:
            try:
                written, idea = self.coder.write(
                    base, what, feedback if previous and previous.coder != "mutator" else ""
                )
                return Candidate(written, "mutation", parents[:1], f"{what}; {idea}", coder=self.coder.alias)
            except Exception as error:  # a model that is down or answers nonsense: the mutator goes on
                self.log(f"LLM coder failed ({type(error).__name__}: {error}); using the program mutator")
        return Candidate(base, "mutation", parents[:1], what)

    # -- one generation's designs through review and verification -----------------------------

    def _advance(self, generation: int) -> None:
        rows = [r for r in self.store.designs() if r.generation <= generation]
        for row in rows:
            if row.status == NEW:  # a seed, or a design whose check was cut off by a stop
                self._check_row(row)
        for row in self.store.designs(CHECKED):
            self._tick(f"review of {row.name}")
            self._review(row)
        for row in self.store.designs(REVIEWED):
            sampled = self._rng("sample", row.fingerprint).random() < self.config.rejected_sample
            if row.accepted or sampled:
                self.store.update(row.id, status=VERIFYING)
            else:
                self.store.update(row.id, status=SKIPPED)
        verifying = self.store.designs(VERIFYING)
        self._verify(verifying, self.rungs[0], seeds=range(self.rungs[0].seeds))
        for row in verifying:
            self._score(row.id)

    def _check_row(self, row: DesignRow) -> None:
        from openxiv.genesys.checker import check_design

        # The seeds are the reference: their cost is what the others are measured against.
        factor = 1e9 if row.mode == "seed" else self.config.efficiency_factor
        report = check_design(
            row.to_design(), self.rungs[0], tolerance=self.config.tolerance, efficiency_factor=factor
        )
        status = CHECKED if report.passed else CHECK_FAILED
        self.store.update(
            row.id, status=status, check=report.to_json(), dims={self.rungs[0].name: report.dim}
        )

    def _parents(self, row: DesignRow) -> list[DesignRow]:
        return [self.store.get(i) for i in row.parents]

    def _children(self, row: DesignRow) -> list[DesignRow]:
        return [r for r in self.store.designs() if row.id in (r.parents or [])]

    def _review(self, row: DesignRow) -> None:
        parents = self._parents(row)
        design = row.to_design()
        literature = self.publisher.literature(design)
        rungs = [r.name for r in self.rungs]
        try:
            if row.proposal_id is None:
                item = self.publisher.submit_proposal(row, parents, literature, rungs)
                row = self.store.update(row.id, proposal_id=item.id)
            assert row.proposal_id is not None
            verdict = self.publisher.gate(
                row.proposal_id,
                self.publisher.revise_proposal(row, parents, literature, rungs),
                key=f"{self.publisher.key_prefix}-{row.fingerprint}-proposal",
            )
        except ApiError as error:
            # A refusal (a quota, a malformed request) is no review: the design stays out of the
            # review-vs-fitness study and gets no paper, and may still be verified on the sample.
            self.log(f"{row.name}: the platform refused the proposal ({error}); not reviewed")
            self.store.update(
                row.id, status=REVIEWED, accepted=None, proposal_status=f"refused: {error.status}"
            )
            return
        self.store.update(
            row.id,
            status=REVIEWED,
            accepted=verdict.accepted,
            proposal_status=verdict.status,
            proposal_rating=verdict.rating,
            proposal_versions=verdict.versions,
        )
        self.log(
            f"{row.name}: proposal {verdict.identifier} {verdict.status} after {verdict.versions} version(s)"
        )

    # -- verification --------------------------------------------------------------------------

    def _dim(self, row: DesignRow, rung: Rung) -> int | None:
        if rung.name in (row.dims or {}):
            return int(row.dims[rung.name])
        from openxiv.genesys.checker import reference_params, tune_width

        dim, _ = tune_width(row.to_design(), rung, reference_params(rung))
        if dim is not None:
            self.store.update(row.id, dims={**(row.dims or {}), rung.name: dim})
        return dim

    def _verify(self, rows: list[DesignRow], rung: Rung, seeds: range) -> None:
        pending: list[Pending] = []
        for row in rows:
            dim = self._dim(row, rung)
            if dim is None:
                continue
            done = self.store.done(row.id)
            for seed in seeds:
                for task in self.config.tasks:
                    if (rung.name, seed, task) in done:
                        continue
                    payload = {
                        "design": row.to_design().to_json(),
                        "dim": dim,
                        "rung": rung.to_json(),
                        "task": task,
                        "seed": seed,
                        "corpus": self.config.corpus,
                        "threads": self.config.threads_per_job,
                    }
                    pending.append(self.queue.submit(row.id, payload))
        if not pending:
            return
        self.progress.jobs_total += len(pending)
        self._tick(f"verifying {len(pending)} jobs on {rung.name}")

        def record(job: Pending, result: dict[str, Any]) -> None:
            self.store.add_result(job.design_id, result)
            self.progress.jobs_done += 1
            self._tick()

        self.queue.collect(pending, on_result=record)

    def _fitness(self, design_id: int) -> Fitness | None:
        return fitness([r.result() for r in self.store.results(design_id)], self.config.tasks)

    def _score(self, design_id: int) -> None:
        found = self._fitness(design_id)
        if found is None:
            return
        self.store.update(design_id, status=VERIFIED, fitness=found.value, fitness_std=found.std)

    def _promote(self) -> None:
        """After every PROMOTE_EVERY designs verified on a rung, the best one not yet on the next
        rung climbs to it."""
        for lower, upper in zip(self.rungs, self.rungs[1:], strict=False):
            while True:
                on_lower, on_upper = [], set()
                for row in self._verified():
                    scores = {
                        s.rung: s
                        for s in rung_scores(
                            [r.result() for r in self.store.results(row.id)], self.config.tasks
                        )
                    }
                    if lower.name in scores:
                        on_lower.append((row, scores[lower.name].mean))
                    if any(r.rung == upper.name for r in self.store.results(row.id)):
                        on_upper.add(row.id)
                if len(on_upper) >= len(on_lower) // PROMOTE_EVERY:
                    break
                waiting = [(row, score) for row, score in on_lower if row.id not in on_upper]
                if not waiting:
                    break
                best = max(waiting, key=lambda item: item[1])[0]
                self.log(f"{best.name}: promoted to {upper.name}")
                self._verify([best], upper, seeds=range(upper.seeds))
                self._score(best.id)

    def _showdown(self) -> dict[str, Any] | None:
        """The best design and the GPT seed on the top rung over `final_seeds` seeds."""
        gpt = self.store.by_name("gpt")
        candidates = [r for r in self._verified() if gpt is None or r.id != gpt.id]
        if gpt is None or not candidates:
            return None
        best = max(candidates, key=lambda r: r.fitness or 0.0)
        top = self.rungs[-1]
        self._tick(f"final: {best.name} vs gpt on {top.name}")
        self._verify([best, gpt], top, seeds=range(self.config.final_seeds))
        summary: dict[str, Any] = {"rung": top.name, "seeds": self.config.final_seeds}
        for label, row in (("best", best), ("gpt", gpt)):
            self._score(row.id)
            results = [
                r.result()
                for r in self.store.results(row.id)
                if r.rung == top.name and r.seed < self.config.final_seeds
            ]
            scores = {s.rung: s for s in rung_scores(results, self.config.tasks)}
            found = scores.get(top.name)
            summary[label] = {
                "id": row.id,
                "name": row.name,
                "mean": found.mean if found else None,
                "std": found.std if found else None,
                "seeds": found.seeds if found else 0,
            }
        self.store.set_state("showdown", summary)
        return summary

    # -- papers --------------------------------------------------------------------------------

    def results_table(self, row: DesignRow) -> str:
        scores = rung_scores([r.result() for r in self.store.results(row.id)], self.config.tasks)
        order = {r.name: i for i, r in enumerate(self.rungs)}
        head = "| rung | seeds | " + " | ".join(self.config.tasks) + " | mean | std |"
        rule = "|" + "---|" * (len(self.config.tasks) + 4)
        lines = [head, rule]
        for s in sorted(scores, key=lambda s: order.get(s.rung, 99)):
            cells = " | ".join(f"{s.per_task[t]:+.4f}" for t in self.config.tasks)
            lines.append(f"| {s.rung} | {s.seeds} | {cells} | {s.mean:+.4f} | {s.std:.4f} |")
        return "\n".join(lines)

    def _publish_papers(self) -> None:
        gpt = self.store.by_name("gpt")
        for row in self.store.designs(VERIFIED):
            if not row.accepted or row.mode == "seed":
                # Not accepted: verified only for the review-vs-fitness study. Seeds are the
                # human-made references; their numbers appear in every paper's comparison.
                continue
            rungs = sorted({r.rung for r in self.store.results(row.id)})
            if rungs == sorted(row.paper_rungs or []):
                continue
            if row.paper_id and row.paper_status in PUBLISHED:
                # The platform takes no new version of an accepted paper; the report has the newer rungs.
                self.log(
                    f"{row.name}: paper {row.paper_id} is {row.paper_status}; it keeps its first results"
                )
                self.store.update(row.id, paper_rungs=rungs)
                continue
            baseline = ""
            if gpt is not None and gpt.fitness is not None and row.id != gpt.id:
                baseline = f"The GPT-like seed's fitness is {gpt.fitness:.4f} ± {gpt.fitness_std or 0:.4f}."
            check = row.check or {}
            check_text = "\n".join(
                f"- {'ok' if s['ok'] else 'FAIL'} — {s['name']}: {s['detail']}"
                for s in check.get("steps", [])
            )
            markdown = self.publisher.paper_markdown(
                row, self._parents(row), self._children(row), self.results_table(row), check_text, baseline
            )
            abstract = (
                f"Verification of the Genesys design {row.name} ({row.operation or 'seed'}): fitness "
                f"{row.fitness:.4f} ± {row.fitness_std or 0:.4f} on {len(rungs)} rung(s). {baseline}"
            )
            try:
                item = self.publisher.publish_paper(row, markdown, abstract)
                row = self.store.update(row.id, paper_id=item.id, paper_rungs=rungs)
                key = f"{self.publisher.key_prefix}-{row.fingerprint}-paper-{'-'.join(rungs)}"

                revise = self._paper_revision(row, markdown, abstract)
                verdict = self.publisher.gate(item.id, revise, key=key, tries=self.config.paper_tries)
                self.store.update(row.id, paper_status=verdict.status)
                self.log(f"{row.name}: paper {item.id} {verdict.status}")
            except ApiError as error:
                self.log(f"{row.name}: the paper could not be submitted or revised ({error})")
                self.store.update(row.id, paper_rungs=rungs)

    def _paper_revision(
        self, row: DesignRow, markdown: str, abstract: str
    ) -> Callable[[int, Any], dict[str, Any]]:
        """The paper again with a letter answering the reviews (the results do not change)."""

        def build(round_: int, reviews: Any) -> dict[str, Any]:
            return {
                **self.publisher.common(f"Genesys design: {row.name}", abstract, row.coder),
                "source": {"format": "markdown", "text": markdown},
                "response_letter": self.publisher.response_letter(reviews),
            }

        return build
