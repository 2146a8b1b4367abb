"""Loaders for review-evaluation data sets, all returning the same small record types.

Three formats are read:

* the ICLR 2022 bench (`ratings_subset.tsv`, `llm_reviews/*.csv`, `papers/*.txt`);
* PeerRead (`reviews/<id>.json`, optionally with `parsed_pdfs/<id>.pdf.json` beside it);
* DeepReview-style JSON Lines (one paper per line with its text, ratings and decision).

Everything a model may later read (`Paper.text`, `Paper.title`, `Paper.abstract`) passes through
`strip_outcome_text`, so that no decision, meta-review or camera-ready banner leaks the label the
model is being scored against. Labels (`Paper.accepted`, `Paper.ratings`) live beside the text and
are only ever handed to the metrics.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The ICLR bench CSVs hold long review texts in single cells.
csv.field_size_limit(2**31 - 1)


class DatasetError(ValueError):
    """The data set is missing, malformed or does not have the shape the loader expects."""


@dataclass(frozen=True)
class Paper:
    """One submission: what a model may see (title/abstract/text) and the labels it must not."""

    paper_id: str
    accepted: bool
    ratings: tuple[float, ...] = ()
    title: str = ""
    abstract: str = ""
    text: str = ""
    raw_decision: str = ""

    @property
    def mean_rating(self) -> float:
        return sum(self.ratings) / len(self.ratings) if self.ratings else math.nan

    @property
    def has_text(self) -> bool:
        return bool(self.text.strip())

    def model_input(self) -> str:
        """The text a reviewer model gets: title, abstract and body, outcome already stripped."""
        parts = [p for p in (self.title, self.abstract, self.text) if p.strip()]
        return "\n\n".join(parts)


@dataclass(frozen=True)
class StoredReview:
    """A review written earlier by some reviewer (an LLM configuration or a person)."""

    paper_id: str
    overall: float
    accept: bool
    confidence: float = math.nan
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewerRun:
    """All stored reviews of one reviewer configuration, keyed by paper id."""

    name: str
    reviews: Mapping[str, StoredReview]
    skipped: int = 0  # rows that could not be read (no numeric Overall, unknown decision, ...)


@dataclass(frozen=True)
class Dataset:
    name: str
    papers: Mapping[str, Paper]
    reviewer_runs: tuple[ReviewerRun, ...] = ()
    source: str = ""

    @property
    def with_text(self) -> list[Paper]:
        return [p for p in self.papers.values() if p.has_text]


# --------------------------------------------------------------------------- sanitising

# Lines that state a venue outcome. Camera-ready PDFs carry "Published as a conference paper at
# ICLR 2022" on every page, which would hand the answer to any reviewer model.
_OUTCOME_LINE = re.compile(
    r"^\W*(published as a (conference|workshop) paper|accepted (as|at|to|for) |"
    r"(paper )?decision\s*[:\-]|meta[- ]?review\s*[:\-]|final decision|acceptance decision|"
    r"camera[- ]ready)",
    re.IGNORECASE,
)
# PDF extraction leaves glyph codes of maths fonts as C0 control characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_outcome_text(text: str) -> str:
    """Remove control characters and any line announcing a decision or containing a meta-review."""
    clean = _CONTROL.sub("", text)
    kept = [line for line in clean.splitlines() if not _OUTCOME_LINE.match(line)]
    return "\n".join(kept).strip()


def is_accept(decision: Any) -> bool:
    """Map the many spellings of a venue decision to accept (True) or reject (False)."""
    if isinstance(decision, bool):
        return decision
    if isinstance(decision, int | float) and not isinstance(decision, bool):
        return bool(decision)
    value = str(decision).strip().lower()
    if value.startswith("accept") or value in {"true", "yes", "1", "oral", "poster", "spotlight"}:
        return True
    if value.startswith("reject") or value in {"false", "no", "0", "withdrawn", "desk reject"}:
        return False
    raise DatasetError(f"unknown decision {decision!r} (expected Accept... / Reject)")


def _number(value: Any) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", str(value))
    return float(match.group(1)) if match else math.nan


# --------------------------------------------------------------------------- ICLR 2022 bench


def load_iclr_bench(root: Path) -> Dataset:
    """Load the ICLR 2022 bench folder (ratings, stored LLM reviews, full texts)."""
    root = Path(root)
    ratings_path = root / "ratings_subset.tsv"
    if not ratings_path.is_file():
        raise DatasetError(f"{root}: no ratings_subset.tsv here; is --data the iclr2022-bench folder?")
    papers: dict[str, Paper] = {}
    with ratings_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if (
            not reader.fieldnames
            or "paper_id" not in reader.fieldnames
            or "decision" not in reader.fieldnames
        ):
            raise DatasetError(f"{ratings_path}: expected columns paper_id, 0..6, decision")
        rating_columns = [c for c in reader.fieldnames if c.isdigit()]
        for line, row in enumerate(reader, start=2):
            pid = (row.get("paper_id") or "").strip()
            if not pid:
                raise DatasetError(f"{ratings_path}:{line}: empty paper_id")
            decision = (row.get("decision") or "").strip()
            if decision.lower() == "unknown":
                continue
            try:
                accepted = is_accept(decision)
            except DatasetError as error:
                raise DatasetError(f"{ratings_path}:{line}: {error}") from None
            values = tuple(v for v in (_number(row.get(c)) for c in rating_columns) if not math.isnan(v))
            papers[pid] = Paper(paper_id=pid, accepted=accepted, ratings=values, raw_decision=decision)

    texts = root / "papers"
    if texts.is_dir():
        for path in sorted(texts.glob("*.txt")):
            pid = path.stem
            if pid in papers:
                body = strip_outcome_text(path.read_text(encoding="utf-8", errors="replace"))
                old = papers[pid]
                papers[pid] = Paper(
                    pid,
                    old.accepted,
                    old.ratings,
                    title="",
                    abstract="",
                    text=body,
                    raw_decision=old.raw_decision,
                )

    runs = []
    review_dir = root / "llm_reviews"
    if review_dir.is_dir():
        runs = [load_review_csv(path) for path in sorted(review_dir.glob("*.csv"))]
    return Dataset(name="iclr2022-bench", papers=papers, reviewer_runs=tuple(runs), source=str(root))


def load_review_csv(path: Path) -> ReviewerRun:
    """One reviewer configuration in the NeurIPS-form CSV layout (paper_id, ..., Overall, Decision)."""
    path = Path(path)
    reviews: dict[str, StoredReview] = {}
    skipped = 0
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        names = reader.fieldnames or []
        missing = {"paper_id", "Overall", "Decision"} - set(names)
        if missing:
            raise DatasetError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            overall = _number(row.get("Overall"))
            try:
                accept = is_accept(row.get("Decision", ""))
            except DatasetError:
                skipped += 1
                continue
            if math.isnan(overall):
                skipped += 1
                continue
            pid = row["paper_id"].strip()
            extra = {k: v for k, v in row.items() if k not in {"paper_id", "Overall", "Decision"} and v}
            reviews[pid] = StoredReview(pid, overall, accept, _number(row.get("Confidence")), extra)
    return ReviewerRun(name=path.stem, reviews=reviews, skipped=skipped)


# --------------------------------------------------------------------------- PeerRead


def _peerread_text(parsed: Mapping[str, Any]) -> tuple[str, str]:
    meta = parsed.get("metadata") or {}
    abstract = str(meta.get("abstractText") or "")
    sections = meta.get("sections") or []
    body = "\n\n".join(
        f"{s.get('heading') or ''}\n{s.get('text') or ''}".strip() for s in sections if isinstance(s, Mapping)
    )
    return abstract, body


def load_peerread(root: Path) -> Dataset:
    """Load PeerRead: a `reviews/` folder of `<id>.json` (or a single JSON file) + optional `parsed_pdfs/`.

    Meta-reviews (`IS_META_REVIEW`) and any decision text are dropped; they never reach `Paper`.
    Ratings come from the `RECOMMENDATION` of the ordinary reviews.
    """
    root = Path(root)
    if root.is_file():
        files, parsed_dir = [root], root.parent.parent / "parsed_pdfs"
    else:
        review_dir = root / "reviews" if (root / "reviews").is_dir() else root
        files, parsed_dir = sorted(review_dir.glob("*.json")), review_dir.parent / "parsed_pdfs"
    if not files:
        raise DatasetError(f"{root}: no PeerRead review JSON files found")
    papers: dict[str, Paper] = {}
    for path in files:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DatasetError(f"{path}: not valid JSON ({error})") from None
        if not isinstance(record, Mapping) or "accepted" not in record:
            raise DatasetError(f"{path}: expected a PeerRead object with an 'accepted' field")
        pid = str(record.get("id") or path.stem)
        ratings = []
        for review in record.get("reviews") or []:
            if (
                not isinstance(review, Mapping)
                or review.get("IS_META_REVIEW")
                or review.get("is_meta_review")
            ):
                continue
            value = _number(review.get("RECOMMENDATION"))
            if not math.isnan(value):
                ratings.append(value)
        abstract = str(record.get("abstract") or "")
        body = ""
        parsed_path = parsed_dir / f"{pid}.pdf.json"
        if parsed_path.is_file():
            try:
                parsed_abstract, body = _peerread_text(json.loads(parsed_path.read_text(encoding="utf-8")))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise DatasetError(f"{parsed_path}: not valid JSON ({error})") from None
            abstract = abstract or parsed_abstract
        papers[pid] = Paper(
            paper_id=pid,
            accepted=is_accept(record["accepted"]),
            ratings=tuple(ratings),
            title=strip_outcome_text(str(record.get("title") or "")),
            abstract=strip_outcome_text(abstract),
            text=strip_outcome_text(body),
            raw_decision=str(record["accepted"]),
        )
    return Dataset(name=f"peerread:{root.name}", papers=papers, source=str(root))


# --------------------------------------------------------------------------- DeepReview-style JSONL

_ID_KEYS = ("paper_id", "id", "forum", "submission_id")
_TEXT_KEYS = ("paper_context", "text", "content", "full_text", "paper", "markdown")
_DECISION_KEYS = ("decision", "accepted", "accept", "label")
_RATING_KEYS = ("rates", "ratings", "scores", "rating")


def _first(record: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if key in record and record[key] not in (None, ""):
            return record[key]
    return None


def _jsonl_ratings(record: Mapping[str, Any]) -> tuple[float, ...]:
    raw = _first(record, _RATING_KEYS)
    if raw is None and isinstance(record.get("reviews"), list):
        raw = [r.get("rating") for r in record["reviews"] if isinstance(r, Mapping)]
    if raw is None:
        return ()
    values = raw if isinstance(raw, list) else [raw]
    numbers = (_number(v) for v in values)
    return tuple(v for v in numbers if not math.isnan(v))


def load_deepreview_jsonl(path: Path) -> Dataset:
    """Load JSON Lines with one paper per line: id, title, abstract, text, decision, ratings.

    Key names accepted: id from {paper_id,id,forum}; text from {paper_context,text,content,full_text};
    decision from {decision,accepted,label}; ratings from {rates,ratings,scores} or `reviews[].rating`.
    Reviews and meta-reviews in the record are label material and are not kept.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such JSONL file")
    papers: dict[str, Paper] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, Mapping):
                raise DatasetError(f"{path}:{number}: expected a JSON object")
            pid = _first(record, _ID_KEYS)
            decision = _first(record, _DECISION_KEYS)
            if pid is None or decision is None:
                raise DatasetError(f"{path}:{number}: needs an id ({'/'.join(_ID_KEYS)}) and a decision")
            try:
                accepted = is_accept(decision)
            except DatasetError as error:
                raise DatasetError(f"{path}:{number}: {error}") from None
            text = _first(record, _TEXT_KEYS)
            papers[str(pid)] = Paper(
                paper_id=str(pid),
                accepted=accepted,
                ratings=_jsonl_ratings(record),
                title=strip_outcome_text(str(record.get("title") or "")),
                abstract=strip_outcome_text(str(record.get("abstract") or "")),
                text=strip_outcome_text(text if isinstance(text, str) else ""),
                raw_decision=str(decision),
            )
    if not papers:
        raise DatasetError(f"{path}: no records")
    return Dataset(name=f"jsonl:{path.stem}", papers=papers, source=str(path))


def load_dataset(location: Path) -> Dataset:
    """Pick the loader from what is at `location`."""
    location = Path(location)
    if not location.exists():
        raise DatasetError(f"{location}: does not exist")
    if location.is_dir() and (location / "ratings_subset.tsv").is_file():
        return load_iclr_bench(location)
    if location.is_file() and location.suffix in {".jsonl", ".ndjson"}:
        return load_deepreview_jsonl(location)
    if (location.is_dir() and ((location / "reviews").is_dir() or any(location.glob("*.json")))) or (
        location.is_file() and location.suffix == ".json"
    ):
        return load_peerread(location)
    raise DatasetError(
        f"{location}: not a known data set (ICLR bench folder, PeerRead folder/JSON, or .jsonl file)"
    )
