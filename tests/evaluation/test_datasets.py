from __future__ import annotations

import json
from pathlib import Path

import pytest

from openxiv.evaluation.datasets import (
    DatasetError,
    is_accept,
    load_dataset,
    load_deepreview_jsonl,
    load_iclr_bench,
    load_peerread,
    load_review_csv,
    strip_outcome_text,
)
from tests.evaluation.conftest import SECRET_META


def test_iclr_bench_matches_its_notice(bench_dir: Path) -> None:
    ds = load_iclr_bench(bench_dir)
    assert len(ds.papers) == 500
    assert sum(p.accepted for p in ds.papers.values()) == 184
    with_text = ds.with_text
    assert len(with_text) == 60
    assert sum(p.accepted for p in with_text) == 30
    assert len(ds.reviewer_runs) == 6
    assert all(len(run.reviews) == 500 and run.skipped == 0 for run in ds.reviewer_runs)
    first = ds.papers["tDirSp3pczB"]
    assert first.ratings == (6.0, 8.0, 6.0, 8.0, 6.0) and not first.accepted


def test_bench_texts_reach_models_without_control_characters(bench_dir: Path) -> None:
    ds = load_iclr_bench(bench_dir)
    for paper in ds.with_text:
        text = paper.model_input()
        assert not any(ord(c) < 32 and c not in "\n\t" for c in text), paper.paper_id


def test_strip_outcome_text_removes_decision_lines_and_keeps_the_rest() -> None:
    text = (
        "Published as a conference paper at ICLR 2022\n"
        "Title\x07 of work\n"
        "Decision: Accept (Oral)\n"
        "Meta-review: strong paper\n"
        "We accepted the null hypothesis.\n"
    )
    assert strip_outcome_text(text) == "Title of work\nWe accepted the null hypothesis."


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Accept (Spotlight)", True), ("Reject", False), (True, True), (0, False), ("poster", True)],
)
def test_is_accept(value: object, expected: bool) -> None:
    assert is_accept(value) is expected


def test_is_accept_rejects_unknown_spelling() -> None:
    with pytest.raises(DatasetError, match="unknown decision"):
        is_accept("maybe")


def test_jsonl_drops_meta_review_and_banners(small_jsonl: Path) -> None:
    ds = load_deepreview_jsonl(small_jsonl)
    assert len(ds.papers) == 8 and sum(p.accepted for p in ds.papers.values()) == 4
    paper = ds.papers["p0"]
    assert paper.ratings == (8.0, 6.0, 6.0)
    seen = paper.model_input()
    assert SECRET_META not in seen and "Published as" not in seen and "Accept" not in seen
    assert "QUALITY=high" in seen and paper.title == "Paper 0"


def test_jsonl_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "decision": "Reject"}\n{not json\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.jsonl:2: not valid JSON"):
        load_deepreview_jsonl(path)
    path.write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r":1: needs an id"):
        load_deepreview_jsonl(path)


def test_peerread_ignores_meta_reviews(tmp_path: Path) -> None:
    reviews = tmp_path / "reviews"
    parsed = tmp_path / "parsed_pdfs"
    reviews.mkdir()
    parsed.mkdir()
    record = {
        "id": "104",
        "title": "A Study",
        "abstract": "Short abstract.",
        "accepted": True,
        "reviews": [
            {"IS_META_REVIEW": True, "comments": "Decision: Accept. " + SECRET_META},
            {"IS_META_REVIEW": False, "RECOMMENDATION": 7, "comments": "good"},
            {"IS_META_REVIEW": False, "RECOMMENDATION": "5: marginally below", "comments": "ok"},
        ],
    }
    (reviews / "104.json").write_text(json.dumps(record), encoding="utf-8")
    (parsed / "104.pdf.json").write_text(
        json.dumps({"metadata": {"sections": [{"heading": "1 Intro", "text": "Body text."}]}}),
        encoding="utf-8",
    )
    ds = load_dataset(tmp_path)
    paper = ds.papers["104"]
    assert paper.accepted and paper.ratings == (7.0, 5.0)
    assert "Body text." in paper.model_input() and SECRET_META not in paper.model_input()
    assert load_peerread(reviews / "104.json").papers["104"].text == paper.text


def test_review_csv_requires_columns_and_skips_unreadable_rows(tmp_path: Path) -> None:
    path = tmp_path / "run.csv"
    path.write_text("paper_id,Overall\nx,5\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="missing column"):
        load_review_csv(path)
    path.write_text("paper_id,Overall,Decision\nx,5,Reject\ny,,Accept\nz,7,Maybe\n", encoding="utf-8")
    run = load_review_csv(path)
    assert list(run.reviews) == ["x"] and run.skipped == 2


def test_load_dataset_explains_unknown_location(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(DatasetError, match="not a known data set"):
        load_dataset(tmp_path / "notes.txt")
