"""Revision study in the shape of the seed paper's tables 5-8.

For each paper: review it (single review, and meta-review when asked), revise it from that review
without and with a response letter, judge old against new in both orders, and put the old and
every new version to the voting panel. Every step is logged, so a rerun redoes only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal

import numpy as np

from openxiv.evaluation import metrics as m
from openxiv.evaluation.datasets import Paper
from openxiv.evaluation.protocols import Cost, ReviewerUnderTest
from openxiv.evaluation.runlog import FailureStreak, RunLog

Mode = Literal["single", "meta"]
MODE_LABEL = {"single": "SR", "meta": "MR"}


def variant_name(mode: Mode, with_response: bool) -> str:
    return f"{MODE_LABEL[mode]}-{'w' if with_response else 'w/o'}-rp"


def judged_text(revised: str, letter: str, with_response: bool) -> str:
    """What the judge and the panel see of a new version: the paper, then the response letter if any."""
    if with_response and letter.strip():
        return f"{revised}\n\n# Response to the reviewers\n\n{letter}"
    return revised


class _Steps:
    """Runs one logged step at most once; failures are logged and re-raised to skip the paper."""

    def __init__(self, log: RunLog) -> None:
        self.log = log

    def run(self, key: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        done = self.log.get(key)
        if done and done.get("ok"):
            return done
        try:
            result = work()
        except Exception as error:
            self.log.add(key, {"ok": False, "error": f"{type(error).__name__}: {error}"[:500]})
            raise
        return self.log.add(key, {"ok": True, **result})


def run_revision_study(
    papers: Sequence[Paper],
    engine: ReviewerUnderTest,
    log: RunLog,
    *,
    modes: Sequence[Mode] = ("single",),
    on_item: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the study; returns one result per paper that finished every step."""
    steps = _Steps(log)
    streak = FailureStreak(log)
    results = []
    for paper in papers:
        pid = paper.paper_id
        old = paper.model_input()
        try:
            outcome: dict[str, Any] = {"paper_id": pid, "variants": {}, "cost": Cost()}
            vote_old = steps.run(f"{pid}:vote:old", partial(_vote, engine, old))
            outcome["vote_old"] = vote_old
            outcome["cost"] = outcome["cost"].plus(Cost.from_dict(vote_old.get("cost")))
            for mode in modes:
                review = steps.run(f"{pid}:review:{mode}", partial(_review, engine, old, mode))
                outcome["cost"] = outcome["cost"].plus(Cost.from_dict(review.get("cost")))
                for with_response in (False, True):
                    name = variant_name(mode, with_response)
                    revised = steps.run(
                        f"{pid}:revise:{name}",
                        partial(_revise, engine, old, review["text"], with_response),
                    )
                    new = judged_text(revised["text"], revised["letter"], with_response)
                    judged = steps.run(f"{pid}:compare:{name}", partial(_compare, engine, old, new))
                    voted = steps.run(f"{pid}:vote:{name}", partial(_vote, engine, new))
                    for item in (revised, judged, voted):
                        outcome["cost"] = outcome["cost"].plus(Cost.from_dict(item.get("cost")))
                    outcome["variants"][name] = {
                        "old_new": judged["old_new"],
                        "new_old": judged["new_old"],
                        "vote": voted,
                    }
        except Exception as error:  # logged by _Steps; the other papers go on
            if on_item:
                on_item(pid)
            streak.failed(f"{type(error).__name__}: {error}"[:500])
            continue
        streak.ok()
        results.append(outcome)
        if on_item:
            on_item(pid)
    return results


def _review(engine: ReviewerUnderTest, text: str, mode: Mode) -> dict[str, Any]:
    verdict = engine.review(text, mode=mode)
    return {
        "text": verdict.review_text,
        "overall": verdict.overall,
        "accept": verdict.accept,
        "cost": verdict.cost.as_dict(),
    }


def _revise(engine: ReviewerUnderTest, old: str, review_text: str, with_response: bool) -> dict[str, Any]:
    revision = engine.revise(old, review_text, with_response=with_response)
    return {"text": revision.text, "letter": revision.response_letter, "cost": revision.cost.as_dict()}


def _compare(engine: ReviewerUnderTest, old: str, new: str) -> dict[str, Any]:
    verdict = engine.compare(old, new)  # document a = old, b = new
    return {"old_new": verdict.a_first, "new_old": verdict.b_first, "cost": verdict.cost.as_dict()}


def _vote(engine: ReviewerUnderTest, text: str) -> dict[str, Any]:
    panel = engine.vote(text)
    return {"votes": dict(panel.votes), "accepted": panel.accepted, "cost": panel.cost.as_dict()}


def _new_preferred(pick: str) -> float:
    return 0.5 if pick == "tie" else float(pick == "b")


def revision_section(
    results: Sequence[dict[str, Any]],
    *,
    requested: int,
    modes: Sequence[Mode],
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """Preference rates (tables 5-6) and acceptance rates per seat and by panel (tables 7-8)."""
    preference = []
    names = [variant_name(mode, wr) for mode in modes for wr in (False, True)]
    for name in names:
        rows = [r["variants"][name] for r in results if name in r["variants"]]
        if not rows:
            continue
        old_new = np.array([_new_preferred(r["old_new"]) for r in rows])
        new_old = np.array([_new_preferred(r["new_old"]) for r in rows])
        est = m.bootstrap(
            lambda a, b: {
                "old_new_order": a.mean(-1),
                "new_old_order": b.mean(-1),
                "average": (a.mean(-1) + b.mean(-1)) / 2,
            },
            [old_new, new_old],
            resamples=resamples,
            seed=seed,
        )
        preference.append({"variant": name, "n": len(rows), **{k: v.as_dict() for k, v in est.items()}})

    seats: list[str] = sorted({seat for r in results for seat in r["vote_old"]["votes"]})
    vote_rows = []

    def vote_row(label: str, votes: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "version": label,
            "n": len(votes),
            "seat_accept_rate": {
                s: round(float(np.mean([v["votes"].get(s, False) for v in votes])), 6) for s in seats
            },
            "panel_accept_rate": round(float(np.mean([v["accepted"] for v in votes])), 6),
        }

    if results:
        vote_rows.append(vote_row("old", [r["vote_old"] for r in results]))
        for name in names:
            votes = [r["variants"][name]["vote"] for r in results if name in r["variants"]]
            if votes:
                vote_rows.append(vote_row(f"new ({name})", votes))
    cost = Cost()
    for r in results:
        cost = cost.plus(r["cost"])
    return {
        "settings": {
            "papers_requested": requested,
            "modes": list(modes),
            "resamples": resamples,
            "seed": seed,
        },
        "papers_completed": len(results),
        "preference": preference,
        "votes": {"seats": seats, "rows": vote_rows},
        "cost": cost.as_dict(),
    }
