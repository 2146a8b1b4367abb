"""PNG figures for the evaluation report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _short(name: str, width: int = 44) -> str:
    """Readable label: drop the bench's constant name parts, then keep the head and the tail."""
    name = name.replace("_temp_0_1", "").replace("_pages_all", "")
    if len(name) <= width:
        return name
    head = 12
    return name[:head] + "…" + name[-(width - head - 1) :]


def _value(block: dict[str, Any], key: str) -> tuple[float, float, float]:
    item = block.get(key) or {}
    v = item.get("value")
    lo, hi = item.get("ci_low"), item.get("ci_high")
    v = float("nan") if v is None else v
    return v, (v - lo) if lo is not None else 0.0, (hi - v) if hi is not None else 0.0


def decision_plots(section: dict[str, Any], folder: Path) -> list[str]:
    """Balanced accuracy with intervals per reviewer, and the threshold sweep. Returns file names."""
    folder.mkdir(parents=True, exist_ok=True)
    reviewers = section.get("reviewers", [])
    if not reviewers:
        return []
    written = []

    labels: list[str] = []
    values: list[float] = []
    errors: list[list[float]] = [[], []]
    human = section.get("human_baseline", {})
    rows = []
    if human.get("available"):
        rows.append(("human (1 reviewer, ≥ threshold)", human["single_reviewer_decision"]))
    for r in reviewers:
        rows.append((f"{_short(r['name'])} (own decision)", r["own_decision"]))
        rows.append(
            (
                f"{_short(r['name'])} (Overall ≥ {r['overall_threshold']['threshold']:g})",
                r["overall_threshold"],
            )
        )
    for label, block in rows:
        v, lo, hi = _value(block, "balanced_accuracy")
        labels.append(label)
        values.append(v)
        errors[0].append(lo)
        errors[1].append(hi)
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(labels) + 1.2))
    ax.barh(range(len(labels)), values, xerr=errors, color="#4c72b0", capsize=3)
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("balanced accuracy (95% bootstrap interval)")
    ax.set_title("Accept/reject agreement with venue decisions")
    fig.tight_layout()
    fig.savefig(folder / "decision_balanced_accuracy.png", dpi=110)
    plt.close(fig)
    written.append("decision_balanced_accuracy.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for r in reviewers:
        xs = [row["threshold"] for row in r["sweep"]]
        axes[0].plot(
            xs, [row["balanced_accuracy"] for row in r["sweep"]], marker="o", label=_short(r["name"])
        )
        axes[1].plot(xs, [row["accept_rate"] for row in r["sweep"]], marker="o")
    axes[0].axhline(0.5, color="grey", linestyle="--", linewidth=1)
    axes[0].set_ylabel("balanced accuracy")
    axes[1].set_ylabel("predicted accept rate")
    for ax in axes:
        ax.set_xlabel("accept if Overall ≥ threshold")
    axes[0].legend(fontsize=6)
    fig.suptitle("Threshold sweep on the Overall rating")
    fig.tight_layout()
    fig.savefig(folder / "decision_threshold_sweep.png", dpi=110)
    plt.close(fig)
    written.append("decision_threshold_sweep.png")
    return written


def pairwise_plot(section: dict[str, Any], folder: Path) -> list[str]:
    rows = [(f"{j['name']} (pairwise)", j) for j in section.get("judges", []) if "accuracy_ties_half" in j]
    rows += [
        (f"{p['name']} (pointwise)", p) for p in section.get("pointwise", []) if "accuracy_ties_half" in p
    ]
    if not rows:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    values, lows, highs = zip(*(_value(block, "accuracy_ties_half") for _, block in rows), strict=True)
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(rows) + 1.2))
    ax.barh(range(len(rows)), values, xerr=[lows, highs], color="#55a868", capsize=3)
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), [_short(label, 60) for label, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("pairwise accuracy, ties = 0.5 (95% bootstrap interval)")
    fig.tight_layout()
    fig.savefig(folder / "pairwise_accuracy.png", dpi=110)
    plt.close(fig)
    return ["pairwise_accuracy.png"]


def revision_plot(section: dict[str, Any], folder: Path) -> list[str]:
    rows = section.get("votes", {}).get("rows", [])
    prefs = section.get("preference", [])
    if not rows and not prefs:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if prefs:
        axes[0].bar(
            [p["variant"] for p in prefs], [p["average"]["value"] or 0 for p in prefs], color="#8172b2"
        )
        axes[0].set_ylim(0, 1)
        axes[0].set_ylabel("new version preferred (both orders)")
    if rows:
        axes[1].bar([r["version"] for r in rows], [r["panel_accept_rate"] for r in rows], color="#c44e52")
        axes[1].set_ylim(0, 1)
        axes[1].set_ylabel("panel acceptance rate")
        axes[1].tick_params(axis="x", labelrotation=20, labelsize=7)
    fig.suptitle("Revision study")
    fig.tight_layout()
    fig.savefig(folder / "revision.png", dpi=110)
    plt.close(fig)
    return ["revision.png"]
