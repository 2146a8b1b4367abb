"""`openxiv bench integrity --real DIR`: scan a folder of real documents labelled by the folder they
sit in (`clean/`, `attacked/`) and report false alarms, recall per attack channel, crashes and speed.

Every file is scanned in a child process with a time limit: native code that crashes, or a scan that
never returns, is counted against that file as a crash instead of ending the benchmark.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from openxiv.integrity.errors import DocumentError
from openxiv.integrity.scanner import scan_document
from openxiv.integrity.schemas import Action, IntegrityReport
from openxiv.integrity.settings import IntegritySettings
from openxiv.tooling.integrity.bench import rate

LABELS = ("clean", "attacked")
HARD_NEGATIVE_PREFIX = "HN-"
UNKNOWN_CHANNEL = "unknown"
# Stages 1-2 of the scanner (PDF structure, text extraction, layout rules): the part with a speed
# target of its own. Reports name their stages in `timings`; the keys seen are kept in the results.
STAGE_1_2_KEYS = ("structure", "extract", "layout_rules")
VERDICTS = ("hold", "note", "pass", "unreadable", "crash")


class DatasetError(ValueError):
    """The folder is not a labelled set of documents; `str(error)` says what is wrong."""


@dataclass(frozen=True)
class RealDocument:
    path: Path
    label: str  # "clean" or "attacked", from the folder
    tag: str  # manifest tag; without a manifest "clean", or "unknown" for an attack

    @property
    def hard_negative(self) -> bool:
        return self.tag.startswith(HARD_NEGATIVE_PREFIX)


@dataclass
class Outcome:
    file: str
    label: str
    tag: str
    verdict: str  # one of VERDICTS
    risk: float | None = None
    top_category: str | None = None
    top_page: int | None = None
    top_score: float | None = None
    categories: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall clock of scan_document
    cpu_seconds: float = 0.0  # its CPU time: the speed on one core even on a busy machine
    pages: int | None = None
    document_type: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # why the file was unreadable or crashed

    @property
    def top_finding(self) -> str:
        """The strongest finding, e.g. "white_text p2 (0.91)"; a low score explains a pass."""
        if self.top_category is None:
            return ""
        page = f" p{self.top_page}" if self.top_page else ""
        return f"{self.top_category}{page} ({self.top_score or 0.0:.2f})"


def discover(root: Path) -> list[RealDocument]:
    """The documents under ROOT/clean and ROOT/attacked, tagged from ROOT/manifest.json when present."""
    if not root.is_dir():
        raise DatasetError(f"{root} is not a directory")
    folders = [root / label for label in LABELS]
    if not any(folder.is_dir() for folder in folders):
        raise DatasetError(f"{root} has neither a clean/ nor an attacked/ subfolder")
    tags = _manifest_tags(root / "manifest.json")
    documents = []
    for label, folder in zip(LABELS, folders, strict=True):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                default = "clean" if label == "clean" else UNKNOWN_CHANNEL
                documents.append(RealDocument(path, label, tags.get((label, path.name), default)))
    if not documents:
        raise DatasetError(f"{root}/clean and {root}/attacked hold no files")
    return documents


def _manifest_tags(manifest: Path) -> dict[tuple[str, str], str]:
    if not manifest.exists():
        return {}
    try:
        entries = json.loads(manifest.read_text("utf-8"))
        return {(str(e["subset"]), str(e["file"])): str(e["tag"]) for e in entries}
    except (ValueError, TypeError, KeyError) as error:
        raise DatasetError(
            f"{manifest}: expected a JSON list of objects with subset, file and tag ({error!r})"
        ) from None


def verdict(report: IntegrityReport) -> str:
    """hold, note or pass. A report whose risk reached the threshold but that names no action
    (scanners before `action` existed) is held: that is what the platform did with it."""
    if report.action == Action.PASS and report.flagged:
        return "hold"
    return report.action.value


def _summary(document: RealDocument, report: IntegrityReport, seconds: float, cpu_seconds: float) -> Outcome:
    top = max(report.findings, key=lambda f: f.score, default=None)
    return Outcome(
        file=document.path.name,
        label=document.label,
        tag=document.tag,
        verdict=verdict(report),
        risk=round(report.risk_score, 4),
        top_category=top.category.value if top else None,
        top_page=top.page if top else None,
        top_score=round(top.score, 3) if top else None,
        categories=[c.value for c in report.categories],
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu_seconds, 3),
        pages=report.page_count,
        document_type=report.document_type,
        timings=dict(report.timings),
    )


def _crash_reason(error: BaseException) -> str:
    """The exception and the innermost frame it came from: enough to find the bug."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" in {frames[-1].name} ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    message = str(error).splitlines()[0][:200] if str(error) else ""
    return f"{type(error).__name__}{where}: {message}"


def scan_in_process(document: RealDocument, settings: IntegritySettings) -> Outcome:
    """Scan one document here; any exception other than DocumentError is a crash."""
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        report = scan_document(document.path.read_bytes(), filename=document.path.name, settings=settings)
    except DocumentError as error:
        reason = f"{type(error).__name__}: {error}"
        return _failed(document, time.perf_counter() - started, reason, verdict="unreadable")
    except Exception as error:
        return _failed(document, time.perf_counter() - started, _crash_reason(error))
    return _summary(document, report, time.perf_counter() - started, time.process_time() - cpu_started)


Scan = Callable[[RealDocument, IntegritySettings], Outcome]


def _child(scan: Scan, document: RealDocument, settings: IntegritySettings, conn: Connection) -> None:
    conn.send(asdict(scan(document, settings)))
    conn.close()


def _context() -> ForkContext | SpawnContext:
    # fork: children start with the scanner and its classifier already loaded, so a file's
    # seconds are its scan, not the imports; spawn where fork does not exist.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _warm_up(settings: IntegritySettings) -> None:
    """Load what every scan loads once (classifier, lexicons) before children are forked."""
    scan_document(
        b"# Warm-up\n\nA short note on graph neural networks.\n", filename="warm-up.md", settings=settings
    )


def scan_all(
    documents: list[RealDocument],
    settings: IntegritySettings,
    *,
    jobs: int = 1,
    timeout_s: float,
    progress: Callable[[Outcome], None] | None = None,
    scan: Scan | None = None,
) -> list[Outcome]:
    """Scan each document in its own child process, at most JOBS at a time, each for at most
    TIMEOUT_S seconds. Returns one outcome per document, in the order given. SCAN (default
    `scan_in_process`) is what runs in the child."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    scan = scan or scan_in_process
    ctx = _context()
    if ctx.get_start_method() == "fork":
        _warm_up(settings)
    outcomes: dict[int, Outcome] = {}
    waiting = list(reversed(list(enumerate(documents))))
    running: dict[Connection, tuple[int, BaseProcess, float]] = {}

    def finish(receiver: Connection, outcome: Outcome) -> None:
        index, process, _ = running.pop(receiver)
        receiver.close()
        process.join()
        outcomes[index] = outcome
        if progress:
            progress(outcome)

    while waiting or running:
        while waiting and len(running) < jobs:
            index, document = waiting.pop()
            receiver, sender = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_child, args=(scan, document, settings, sender), daemon=True)
            child.start()
            sender.close()  # the child's copy is the only writer left: its death reads as EOF
            running[receiver] = (index, child, time.monotonic())
        deadline = min(started for _, _, started in running.values()) + timeout_s
        ready = wait(list(running), timeout=max(0.0, deadline - time.monotonic()))
        now = time.monotonic()
        for receiver, (index, process, started) in list(running.items()):
            document, elapsed = documents[index], now - started
            if receiver in ready:
                try:
                    outcome = Outcome(**receiver.recv())
                except (EOFError, OSError):
                    process.join()
                    outcome = _failed(
                        document, elapsed, f"the scanning process died ({_exit_status(process.exitcode)})"
                    )
                finish(receiver, outcome)
            elif elapsed >= timeout_s:
                process.kill()
                finish(receiver, _failed(document, elapsed, f"no result within {timeout_s:g} s (killed)"))
    return [outcomes[index] for index in range(len(documents))]


def _failed(document: RealDocument, seconds: float, reason: str, verdict: str = "crash") -> Outcome:
    return Outcome(
        document.path.name, document.label, document.tag, verdict, seconds=round(seconds, 3), reason=reason
    )


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        return f"signal {-code}"
    return f"exit code {code}"


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    clean = [o for o in outcomes if o.label == "clean"]
    hard = [o for o in clean if o.tag.startswith(HARD_NEGATIVE_PREFIX)]
    ordinary = [o for o in clean if not o.tag.startswith(HARD_NEGATIVE_PREFIX)]
    attacked = [o for o in outcomes if o.label == "attacked"]

    def count(group: list[Outcome], *verdicts: str) -> int:
        return sum(o.verdict in verdicts for o in group)

    def by_tag(group: list[Outcome], *verdicts: str) -> dict[str, Any]:
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in group:
            tally[o.tag][0] += o.verdict in verdicts
            tally[o.tag][1] += 1
        return {tag: rate(k, n) for tag, (k, n) in sorted(tally.items())}

    # Speed over scanned PDFs only: Markdown and LaTeX sources have no pages worth counting.
    scanned = [o for o in outcomes if o.pages and o.document_type == "pdf"]
    pages = sum(o.pages or 0 for o in scanned)
    scan_s = sum(o.seconds for o in scanned)
    cpu_s = sum(o.cpu_seconds for o in scanned)
    keys_seen = sorted({key for o in scanned for key in o.timings})
    stage12_keys = [key for key in STAGE_1_2_KEYS if key in keys_seen]
    stage12_s = sum(o.timings.get(key, 0.0) for o in scanned for key in stage12_keys) / 1000
    return {
        "documents": len(outcomes),
        "clean": len(clean),
        "hard_negatives": len(hard),
        "attacked": len(attacked),
        "verdicts": {v: count(outcomes, v) for v in VERDICTS},
        # Rates are over every file of the group: a file that crashed or was unreadable counts as
        # neither held nor caught, and is listed under crashes / unreadable.
        "fpr_clean": rate(count(clean, "hold"), len(clean)),
        "fpr_hard_negatives": rate(count(hard, "hold"), len(hard)),
        "fpr_ordinary_clean": rate(count(ordinary, "hold"), len(ordinary)),
        "fpr_clean_by_tag": by_tag(clean, "hold"),
        "noted_clean": rate(count(clean, "note"), len(clean)),
        "recall": rate(count(attacked, "hold"), len(attacked)),
        "recall_held_or_noted": rate(count(attacked, "hold", "note"), len(attacked)),
        "recall_by_channel": by_tag(attacked, "hold"),
        "crashes": [
            {"file": o.file, "label": o.label, "reason": o.reason} for o in outcomes if o.verdict == "crash"
        ],
        "unreadable": [
            {"file": o.file, "label": o.label, "reason": o.reason}
            for o in outcomes
            if o.verdict == "unreadable"
        ],
        "false_positives": [o.file for o in clean if o.verdict == "hold"],
        "missed": [o.file for o in attacked if o.verdict != "hold"],
        "speed": {
            "pdf_files": len(scanned),
            "pdf_pages": pages,
            "full_scan_pages_per_s": round(pages / scan_s, 1) if scan_s else None,
            "full_scan_pages_per_cpu_s": round(pages / cpu_s, 1) if cpu_s else None,
            "stages_1_2_pages_per_s": round(pages / stage12_s, 1) if stage12_s else None,
            # Stage timings are wall clock; their share of the wall time applied to the CPU time
            # estimates the stages' speed on one free core.
            "stages_1_2_pages_per_cpu_s": round(pages / (cpu_s * stage12_s / scan_s), 1)
            if stage12_s and cpu_s and scan_s
            else None,
            "stages_1_2_keys": stage12_keys,
            "timing_keys_seen": keys_seen,
        },
    }


def table(outcomes: list[Outcome]) -> str:
    """The per-file verdicts as a Markdown table."""
    lines = [
        "| file | label | tag | verdict | risk | top finding | seconds | pages | reason |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        risk = f"{o.risk:.2f}" if o.risk is not None else ""
        reason = (o.reason or "").replace("|", "\\|")
        lines.append(
            f"| {o.file} | {o.label} | {o.tag} | {o.verdict} | {risk} | {o.top_finding} | {o.seconds:.2f} | {o.pages or ''} | {reason} |"
        )
    return "\n".join(lines) + "\n"


def run_real_benchmark(
    root: Path,
    out: Path,
    *,
    settings: IntegritySettings | None = None,
    jobs: int = 1,
    timeout_s: float | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> dict[str, Any]:
    """Scan every document under ROOT, write OUT/results.json and OUT/files.md, return the results.
    TIMEOUT_S defaults to the scanner's own time budget plus a minute, so the scanner's budget
    acts first and the kill only catches scans that ignore it."""
    settings = settings or IntegritySettings()
    documents = discover(root)
    timeout_s = timeout_s if timeout_s is not None else settings.time_budget_s + 60
    started = time.perf_counter()
    outcomes = scan_all(documents, settings, jobs=jobs, timeout_s=timeout_s, progress=progress)
    results = summarise(outcomes)
    results.update(
        {
            "directory": str(root),
            "jobs": jobs,
            "timeout_s": timeout_s,
            "wall_s": round(time.perf_counter() - started, 1),
            "threshold": settings.flag_threshold,
            "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
            "files": [asdict(o) for o in outcomes],
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), "utf-8")
    (out / "files.md").write_text(table(outcomes), "utf-8")
    return results
