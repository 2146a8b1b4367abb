"""`openxiv genesys report`: leaderboard, lineage plot, fitness over generations, and how well the
platform's review of a proposal predicted the design's verified fitness (no torch).

Writes into one folder: report.md (everything, in Markdown), lineage.png and lineage.svg,
fitness.png and fitness.svg, and report.json (the numbers behind them).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from openxiv.genesys.fitness import spearman
from openxiv.genesys.store import CHECK_FAILED, NEW, DesignRow, Store


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:+.{digits}f}"


def leaderboard(rows: list[DesignRow], rungs_of: dict[int, list[str]]) -> str:
    ranked = sorted((r for r in rows if r.fitness is not None), key=lambda r: r.fitness or 0.0, reverse=True)
    lines = [
        "| rank | design | gen | mode | fitness | ± | rungs | proposal | rating | paper |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rank, r in enumerate(ranked, 1):
        lines.append(
            f"| {rank} | {r.name} | {r.generation} | {r.mode} | {_fmt(r.fitness)} | {r.fitness_std or 0:.4f} | "
            f"{', '.join(rungs_of.get(r.id, []))} | {r.proposal_id or '-'} {r.proposal_status or ''} | "
            f"{'-' if r.proposal_rating is None else f'{r.proposal_rating:g}'} | {r.paper_id or '-'} |"
        )
    return "\n".join(lines)


def review_vs_fitness(rows: list[DesignRow]) -> tuple[str, dict[str, Any]]:
    """Every verified design with its proposal's verdict and rating, and the rank correlations."""
    verified = [r for r in rows if r.fitness is not None and r.mode != "seed" and r.accepted is not None]
    lines = ["| design | verdict | rating | fitness |", "|---|---|---|---|"]
    for r in sorted(verified, key=lambda r: r.fitness or 0.0, reverse=True):
        rating = "-" if r.proposal_rating is None else f"{r.proposal_rating:g}"
        lines.append(f"| {r.name} | {r.proposal_status} | {rating} | {_fmt(r.fitness)} |")
    accepted = [r.fitness for r in verified if r.accepted and r.fitness is not None]
    rejected = [r.fitness for r in verified if not r.accepted and r.fitness is not None]
    rated = [r for r in verified if r.proposal_rating is not None]
    stats = {
        "designs": len(verified),
        "accepted": len(accepted),
        "rejected_verified": len(rejected),
        "spearman_verdict": spearman(
            [float(bool(r.accepted)) for r in verified], [r.fitness or 0.0 for r in verified]
        ),
        "spearman_rating": spearman(
            [r.proposal_rating or 0.0 for r in rated], [r.fitness or 0.0 for r in rated]
        ),
        "mean_fitness_accepted": statistics.fmean(accepted) if accepted else None,
        "mean_fitness_rejected": statistics.fmean(rejected) if rejected else None,
    }

    def rho(value: float | None) -> str:
        return "undefined (too few designs or no variation)" if value is None else f"{value:+.3f}"

    summary = [
        "",
        f"Spearman rank correlation, accept (1) / not (0) vs fitness: {rho(stats['spearman_verdict'])} "
        f"over {len(verified)} designs ({len(accepted)} accepted, {len(rejected)} not accepted but verified on a sample).",
        f"Spearman rank correlation, review rating vs fitness: {rho(stats['spearman_rating'])} over {len(rated)} rated designs.",
        f"Mean fitness: accepted {_fmt(stats['mean_fitness_accepted'])}, not accepted {_fmt(stats['mean_fitness_rejected'])}.",
    ]
    return "\n".join(lines + summary), stats


def _positions(rows: list[DesignRow]) -> dict[int, tuple[float, float]]:
    by_generation: dict[int, list[DesignRow]] = {}
    for r in rows:
        by_generation.setdefault(r.generation, []).append(r)
    return {
        r.id: (r.generation, i - (len(g) - 1) / 2) for g in by_generation.values() for i, r in enumerate(g)
    }


def lineage_plot(rows: list[DesignRow], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    positions = _positions(rows)
    figure, axes = plt.subplots(figsize=(max(6, 1.6 * (max((r.generation for r in rows), default=0) + 2)), 5))
    for r in rows:
        for parent in r.parents or []:
            if parent in positions:
                (x0, y0), (x1, y1) = positions[parent], positions[r.id]
                axes.plot([x0, x1], [y0, y1], color="#999999", linewidth=0.8, zorder=1)
    scored = [r.fitness for r in rows if r.fitness is not None]
    low, high = (min(scored), max(scored)) if scored else (0.0, 1.0)
    colour_map = plt.get_cmap("viridis")
    for r in rows:
        x, y = positions[r.id]
        colour: Any = "#dddddd"
        if r.fitness is not None:
            colour = colour_map((r.fitness - low) / ((high - low) or 1.0))
        marker = "x" if r.status == CHECK_FAILED else ("s" if r.mode == "seed" else "o")
        outline: dict[str, Any] = {} if marker == "x" else {"edgecolors": "black", "linewidths": 0.4}
        axes.scatter([x], [y], color=colour, marker=marker, s=60, zorder=2, **outline)
        if r.status != CHECK_FAILED:
            axes.annotate(r.name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=6)
    axes.set_xlabel("generation")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_yticks([])
    axes.set_title(
        "Genesys lineage (colour: fitness; square: seed; x: failed the checker; grey: not verified)"
    )
    axes.title.set_fontsize(8)
    figure.tight_layout()
    return _save(figure, out, "lineage")


def fitness_plot(rows: list[DesignRow], out: Path) -> tuple[list[Path], list[dict[str, Any]]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    # The seeds are references, drawn as lines: the GPT seed's fitness takes in its top-rung score
    # from the final comparison, so in the curve it would hide what the search found.
    seeds = [r for r in rows if r.mode == "seed" and r.fitness is not None]
    found = [r for r in rows if r.mode != "seed"]
    generations = sorted({r.generation for r in found})
    curve: list[dict[str, Any]] = []
    best_so_far: float | None = None
    for g in generations:
        scored = [r.fitness for r in found if r.generation == g and r.fitness is not None]
        if scored:
            best_so_far = max(scored) if best_so_far is None else max(best_so_far, max(scored))
        curve.append(
            {
                "generation": g,
                "mean": statistics.fmean(scored) if scored else None,
                "best": max(scored) if scored else None,
                "best_so_far": best_so_far,
                "verified": len(scored),
            }
        )
    figure, axes = plt.subplots(figsize=(6, 4))
    xs = [float(c["generation"]) for c in curve]
    nan = float("nan")
    best_line = [nan if c["best_so_far"] is None else c["best_so_far"] for c in curve]
    mean_line = [nan if c["mean"] is None else c["mean"] for c in curve]
    axes.plot(xs, best_line, marker="o", label="best so far (new designs)")
    axes.plot(xs, mean_line, marker=".", linestyle="--", label="generation mean")
    for r in found:
        if r.fitness is not None:
            axes.scatter([r.generation], [r.fitness], color="#888888", s=10)
    for r, style in zip(seeds, (":", "-."), strict=False):
        axes.axhline(r.fitness or 0.0, color="#555555", linestyle=style, linewidth=1, label=f"seed {r.name}")
    axes.set_xlabel("generation")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("fitness (accuracy above chance)")
    axes.legend()
    figure.tight_layout()
    return _save(figure, out, "fitness"), curve


def _save(figure: Any, out: Path, stem: str) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    # Text kept as text, not glyph outlines: the SVG is a fraction of the size and can be
    # searched and diffed, so it is the one the report links and the docs keep.
    with plt.rc_context({"svg.fonttype": "none"}):
        for path in paths:
            figure.savefig(path, dpi=150)
    plt.close(figure)
    return paths


def write_report(store: Store, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rows = store.designs()
    rungs_of = {r.id: sorted({e.rung for e in store.results(r.id)}) for r in rows}
    failed = [r for r in rows if r.status == CHECK_FAILED]
    passed = [r for r in rows if r.status not in (CHECK_FAILED, NEW) and r.mode != "seed"]
    reviewed = [r for r in rows if r.proposal_id]
    refused = [r for r in rows if (r.proposal_status or "").startswith("refused")]
    table, stats = review_vs_fitness(rows)
    lineage_plot(rows, out)
    _, curve = fitness_plot(rows, out)
    showdown = store.get_state("showdown")
    if showdown and showdown.get("best", {}).get("mean") is not None:
        best, gpt = showdown["best"], showdown["gpt"]
        final = (
            f"On the top rung `{showdown['rung']}` over {showdown['seeds']} seeds: {best['name']} "
            f"{best['mean']:+.4f} ± {best['std']:.4f} vs the GPT seed {_fmt(gpt['mean'])} ± {gpt['std'] or 0:.4f}."
        )
    else:
        final = "The final comparison on the top rung has not run yet."
    failures = "\n".join(
        f"- {r.name}: "
        + "; ".join(f"{s['name']}: {s['detail']}" for s in (r.check or {}).get("steps", []) if not s["ok"])
        for r in failed
    )
    text = "\n\n".join(
        [
            "# Genesys report",
            f"{len(rows)} designs ({len(passed)} new ones passed the checker, {len(failed)} failed it), "
            f"{len(reviewed)} proposals reviewed on the platform, {len(refused)} refused by it unreviewed, "
            f"{sum(r.fitness is not None for r in rows)} verified.",
            "## Final comparison\n\n" + final,
            "## Leaderboard\n\n" + leaderboard(rows, rungs_of),
            "## Lineage\n\n![lineage](lineage.svg)",
            "## Fitness over generations\n\n![fitness](fitness.svg)",
            "## Review vs fitness\n\n" + table,
            "## Checker failures\n\n" + (failures or "none"),
        ]
    )
    path = out / "report.md"
    path.write_text(text + "\n", "utf-8")
    (out / "report.json").write_text(
        json.dumps({"review_vs_fitness": stats, "curve": curve, "showdown": showdown}, indent=2, default=str),
        "utf-8",
    )
    return path
