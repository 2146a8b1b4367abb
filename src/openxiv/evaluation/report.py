"""Writes `report.json` (every figure), `report.md` (the same figures as tables) and PNG plots.

Sections from several commands run into one output folder accumulate: `eval decision` and then
`eval pairwise --out X` leave one report with both. Files are replaced atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SECTION_ORDER = ("decision", "pairwise", "revision", "integrity")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_report(out: Path) -> dict[str, Any]:
    path = out / "report.json"
    if not path.exists():
        return {"sections": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {"sections": {}}
    return data if isinstance(data.get("sections"), dict) else {"sections": {}}


def write_report(out: Path, sections: dict[str, dict[str, Any]], *, command: str) -> dict[str, Any]:
    """Merge `sections` into the folder's report, redraw plots, write JSON and Markdown."""
    out = Path(out)
    report = load_report(out)
    report["sections"].update(sections)
    report["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report.setdefault("commands", [])
    report["commands"] = [*report["commands"], command][-20:]
    from openxiv.evaluation import plots  # matplotlib is slow to import: only when drawing

    plot_dir = out / "plots"
    drawn: dict[str, list[str]] = {}
    for name, section in report["sections"].items():
        draw = {
            "decision": plots.decision_plots,
            "pairwise": plots.pairwise_plot,
            "revision": plots.revision_plot,
        }
        if name in draw:
            drawn[name] = [f"plots/{f}" for f in draw[name](section, plot_dir)]
    report["plots"] = drawn
    _atomic_write(out / "report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _atomic_write(out / "report.md", render_markdown(report))
    return report


# --------------------------------------------------------------------------- Markdown


def fmt(item: Any, pct: bool = False) -> str:
    """`0.651 [0.607, 0.694]` from an estimate dict; plain number otherwise; `n/a` for missing."""
    if isinstance(item, dict):
        v, lo, hi = item.get("value"), item.get("ci_low"), item.get("ci_high")
        if v is None:
            return "n/a"
        if lo is None or hi is None:
            return _num(v, pct)
        return f"{_num(v, pct)} [{_num(lo, pct)}, {_num(hi, pct)}]"
    if item is None:
        return "n/a"
    return _num(float(item), pct)


def _num(v: float, pct: bool) -> str:
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def cost_text(cost: dict[str, Any]) -> str:
    """Money, calls, tokens and model time: a local model costs no money but still costs time."""
    minutes = cost.get("latency_ms", 0.0) / 60000
    return (
        f"${cost.get('cost_usd', 0.0):.4f}, {cost.get('calls', 0)} calls, "
        f"{cost.get('input_tokens', 0):,} in / {cost.get('output_tokens', 0):,} out tokens, "
        f"{minutes:.1f} min in model calls"
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


DECISION_COLUMNS = ("accuracy", "balanced_accuracy", "f1", "fpr", "fnr", "accept_rate")


def _decision_md(s: dict[str, Any]) -> str:
    parts = ["## Accept/reject agreement", ""]
    ds, st = s["dataset"], s["settings"]
    parts.append(
        f"Data: `{ds['name']}` ({ds['papers']} papers, {ds['accepted']} accepted). Intervals: "
        f"{st['interval']} over {st['resamples']:,} bootstrap resamples of papers (seed {st['seed']})."
    )
    parts.append("")
    header = ["reviewer", "rule", "n", *DECISION_COLUMNS]
    rows = []
    human = s.get("human_baseline", {})
    if human.get("available"):
        h = human["single_reviewer_decision"]
        rows.append(
            ["human: one reviewer", f"rating ≥ {h['threshold']:g}", str(human["n_papers"])]
            + [fmt(h[c]) for c in DECISION_COLUMNS]
        )
    for r in s["reviewers"]:
        rows.append(
            [r["name"], "own decision", str(r["n_papers"])]
            + [fmt(r["own_decision"][c]) for c in DECISION_COLUMNS]
        )
        t = r["overall_threshold"]
        rows.append(
            [r["name"], f"Overall ≥ {t['threshold']:g}", str(r["n_papers"])]
            + [fmt(t[c]) for c in DECISION_COLUMNS]
        )
    parts += [_table(header, rows), ""]

    parts += ["### Ratings: ROC-AUC, best threshold and correlation with humans", ""]
    rows = []
    for r in s["reviewers"]:
        corr = r.get("correlation", {})
        mean = corr.get("with_mean_human_rating", {})
        single = corr.get("with_single_reviewer", {})
        best = r["best_threshold"]
        rows.append(
            [
                r["name"],
                fmt(r["roc_auc_overall"]),
                f"≥ {best['threshold']:g} ({fmt(best['balanced_accuracy'])})",
                fmt(mean.get("pearson")),
                fmt(mean.get("spearman")),
                fmt(single.get("pearson")),
                cost_text(r["cost"]) if r["cost"].get("calls") else "-",
            ]
        )
    parts.append(
        _table(
            [
                "reviewer",
                "ROC-AUC (Overall)",
                "best threshold (bal. acc.)",
                "Pearson vs mean human",
                "Spearman vs mean human",
                "Pearson vs one reviewer",
                "cost",
            ],
            rows,
        )
    )
    if human.get("available") and human.get("correlation"):
        c = human["correlation"]
        parts += [
            "",
            "Human-human baseline from the individual ratings: one reviewer vs another "
            f"Pearson {fmt(c['reviewer_vs_reviewer']['pearson'])}, Spearman {fmt(c['reviewer_vs_reviewer']['spearman'])}; "
            f"one reviewer vs the mean of the others Pearson {fmt(c['reviewer_vs_mean_of_others']['pearson'])}. "
            "Compare the first with a model's 'vs one reviewer' column. The human decision row is optimistic: "
            "the same ratings informed the venue's decision.",
        ]
    parts += ["", "### Threshold sweep (balanced accuracy at Overall ≥ t)", ""]
    thresholds = [row["threshold"] for row in s["reviewers"][0]["sweep"]] if s["reviewers"] else []
    rows = [[r["name"]] + [fmt(row["balanced_accuracy"]) for row in r["sweep"]] for r in s["reviewers"]]
    parts.append(_table(["reviewer"] + [f"≥ {t:g}" for t in thresholds], rows))
    return "\n".join(parts)


PAIR_COLUMNS = (
    "accuracy_ties_half",
    "strict_accuracy",
    "order_consistency",
    "first_position_rate",
    "tie_rate",
)


def _pairwise_md(s: dict[str, Any]) -> str:
    st = s["settings"]
    parts = [
        "## Pairwise accuracy (accepted vs rejected)",
        "",
        f"{st['pairs']} balanced pairs (seed {st['seed']}"
        + (
            f", papers with mean rating in {st['exclude_borderline']} left out"
            if st["exclude_borderline"]
            else ""
        )
        + ")"
        + (", each judged in both orders." if s["judges"] else "."),
        "",
    ]
    if s["judges"]:
        rows = [
            [j["name"], str(j["pairs"]), str(j["failed"])]
            + [fmt(j.get(c)) for c in PAIR_COLUMNS]
            + [cost_text(j["cost"])]
            for j in s["judges"]
        ]
        parts += [
            _table(
                [
                    "judge",
                    "pairs",
                    "failed",
                    "accuracy (ties ½)",
                    "strict",
                    "order consistency",
                    "first chosen",
                    "ties",
                    "cost",
                ],
                rows,
            ),
            "",
        ]
    if s["pointwise"]:
        rows = [
            [
                p["name"],
                p["source"],
                str(p["pairs"]),
                fmt(p.get("accuracy_ties_half")),
                fmt(p.get("tie_rate")),
                fmt(p.get("all_pairs_accuracy_ties_half")),
            ]
            for p in s["pointwise"]
        ]
        parts += ["Pointwise-derived (two independent Overall ratings compared; predicted ties = ½):", ""]
        parts.append(
            _table(
                ["reviewer", "source", "pairs", "accuracy (ties ½)", "ties", "all accepted×rejected pairs"],
                rows,
            )
        )
    return "\n".join(parts)


def _revision_md(s: dict[str, Any]) -> str:
    parts = [
        "## Revision study",
        "",
        f"{s['papers_completed']} of {s['settings']['papers_requested']} papers completed every step. "
        f"Cost: {cost_text(s['cost'])}.",
        "",
        "New version preferred over old (ties ½) — shape of the seed paper's tables 5-6:",
        "",
    ]
    rows = [
        [
            p["variant"],
            str(p["n"]),
            fmt(p["old_new_order"], True),
            fmt(p["new_old_order"], True),
            fmt(p["average"], True),
        ]
        for p in s["preference"]
    ]
    parts += [_table(["variant", "n", "Old-New order", "New-Old order", "average"], rows), ""]
    seats = s["votes"]["seats"]
    parts += ["Acceptance by each panel seat and by the panel vote — shape of tables 7-8:", ""]
    rows = [
        [r["version"], str(r["n"])]
        + [fmt(r["seat_accept_rate"].get(x), True) for x in seats]
        + [fmt(r["panel_accept_rate"], True)]
        for r in s["votes"]["rows"]
    ]
    parts.append(_table(["version", "n", *seats, "vote"], rows))
    return "\n".join(parts)


def _integrity_md(s: dict[str, Any]) -> str:
    body = s.get("markdown") or "```json\n" + json.dumps(s.get("report", s), indent=2)[:4000] + "\n```"
    return "## Integrity benchmark\n\n" + body


def _engines_md(engines: list[dict[str, Any]]) -> list[str]:
    lines = []
    for e in engines:
        if "model" not in e:
            lines.append(f"Engine: alias `{e.get('alias')}`.")
            continue
        lines.append(
            f"Engine: alias `{e['alias']}` = {e['provider']} `{e['model']}`, temperature "
            f"{e['temperature']:g}, output ≤ {e['max_output_tokens']:,} of a {e['context_tokens']:,}-token "
            f"context; prompts {e['prompt_version']}, rubric {e['rubric']}, panel {e['panel']}."
        )
    return ["", *lines] if lines else []


def render_markdown(report: dict[str, Any]) -> str:
    render = {
        "decision": _decision_md,
        "pairwise": _pairwise_md,
        "revision": _revision_md,
        "integrity": _integrity_md,
    }
    parts = ["# OpenXiv evaluation report", "", f"Generated {report.get('generated_at', '')}.", ""]
    sections = report["sections"]
    for name in [*SECTION_ORDER, *sorted(set(sections) - set(SECTION_ORDER))]:
        if name in sections:
            parts.append(render.get(name, _integrity_md)(sections[name]))
            parts += _engines_md(sections[name].get("engines") or [])
            for plot in report.get("plots", {}).get(name, []):
                parts += ["", f"![{Path(plot).stem}]({plot})"]
            parts.append("")
    parts += ["Every figure above is also in `report.json`.", ""]
    return "\n".join(parts)
