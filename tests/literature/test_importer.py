"""Imports into the real database (SQLite and PostgreSQL): de-duplication, merging, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openxiv.literature import importer
from openxiv.literature.importer import import_file, import_records
from openxiv.literature.records import RecordIn
from openxiv.models.literature import LiteratureImport, LiteratureRecord

from .conftest import FIXTURES


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(LiteratureRecord)) or 0)


def _write(path: Path, rows: list[dict[str, object] | str]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", "utf-8")
    return path


def test_duplicates_across_ids_and_titles_are_merged_not_stored_twice(session: Session) -> None:
    first = import_records(
        session,
        [
            RecordIn(
                title="Attention Is All You Need", abstract="Transformer.", arxiv_id="1706.03762v5", year=2017
            ),
            RecordIn(
                title="Deep Residual Learning for Image Recognition",
                abstract="ResNet.",
                doi="10.1109/CVPR.2016.90",
            ),
        ],
    )
    assert (first.accepted, first.duplicate) == (2, 0)
    second = import_records(
        session,
        [
            # same arXiv id, different title spelling: duplicate; its DOI and venue fill the gaps
            RecordIn(title="Attention is all you need.", abstract="", arxiv_id="arXiv:1706.03762",
                     doi="10.5555/3295222.3295349", venue="NeurIPS", year=2017),
            # same DOI in another case
            RecordIn(title="ResNet paper", abstract="x", doi="https://doi.org/10.1109/cvpr.2016.90"),
            # same folded title, no shared id, compatible year: duplicate
            RecordIn(title="DEEP RESIDUAL LEARNING FOR IMAGE RECOGNITION", abstract="", year=2016),
            # same title but twenty years apart: another paper
            RecordIn(title="Attention Is All You Need", abstract="An older essay.", year=1997),
            # same title and year but a different arXiv id: another paper
            RecordIn(title="Attention Is All You Need", abstract="A namesake.", arxiv_id="2401.99999", year=2017),
        ],
    )  # fmt: skip
    session.commit()
    assert (second.accepted, second.duplicate, second.rejected) == (2, 3, 0)
    reasons = [issue.reason for issue in second.issues]
    assert reasons[0].startswith("same arXiv id 1706.03762 as record #")
    assert reasons[1].startswith("same DOI 10.1109/cvpr.2016.90")
    assert reasons[2].startswith("same title as record #")
    transformer = session.scalar(select(LiteratureRecord).where(LiteratureRecord.arxiv_id == "1706.03762"))
    assert transformer is not None
    assert transformer.doi == "10.5555/3295222.3295349" and transformer.venue == "NeurIPS"
    assert transformer.abstract == "Transformer."  # never overwritten by an emptier copy
    assert transformer.updated_at > transformer.created_at
    assert _count(session) == 4


def test_file_import_reports_every_outcome_and_a_second_run_finds_it_done(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "in.jsonl",
        [
            {"title": "Paper one", "abstract": "First."},
            {"title": "Paper two", "abstract": "Second.", "doi": "10.1/two"},
            "{not json",
            {"title": "Paper One", "abstract": "Same title as line 1."},
            {"title": "No abstract"},
        ],
    )
    report = import_file(session_factory, path, batch_size=2)
    assert (report.accepted, report.duplicate, report.rejected) == (2, 1, 2)
    by_position = {issue.position: issue for issue in report.issues}
    assert by_position["line 3"].kind == "rejected"
    assert (
        by_position["line 4"].kind == "duplicate" and "same title as record #" in by_position["line 4"].reason
    )
    assert by_position["line 5"].reason == "missing required field 'abstract'"
    again = import_file(session_factory, path)
    assert again.already_imported and again.accepted == 2
    with session_factory() as session:
        assert _count(session) == 2


def test_interrupted_import_resumes_after_the_last_committed_batch(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        tmp_path / "big.jsonl", [{"title": f"Paper {i}", "abstract": f"About {i}."} for i in range(25)]
    )
    real_commit = importer._commit_batch
    calls = {"n": 0}

    def crash_on_third(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C in the middle of batch 3
        return real_commit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "_commit_batch", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        import_file(session_factory, path, batch_size=10)
    with session_factory() as session:
        assert _count(session) == 20
        run = session.scalars(select(LiteratureImport)).one()
        assert (run.state, run.position) == ("running", 20)
    monkeypatch.setattr(importer, "_commit_batch", real_commit)
    resumed = import_file(session_factory, path, batch_size=10)
    assert resumed.resumed_from == 20
    assert (resumed.accepted, resumed.duplicate) == (25, 0)
    with session_factory() as session:
        assert _count(session) == 25


def test_every_recorded_format_imports_through_one_path(session_factory: sessionmaker[Session]) -> None:
    totals = {}
    for name in ("arxiv_query.xml", "oai_arxiv.xml", "oai_dc.xml", "s2_search.json", "refs.bib"):
        report = import_file(session_factory, FIXTURES / name)
        totals[name] = (report.accepted, report.duplicate, report.rejected)
    assert totals["arxiv_query.xml"] == (3, 0, 0)
    assert totals["oai_arxiv.xml"] == (2, 0, 2)
    assert totals["oai_dc.xml"] == (1, 0, 0)
    # Transformer and BERT are already known from the arXiv feed
    assert totals["s2_search.json"] == (1, 2, 0)
    # Transformer and ResNet known (arXiv id, title+year); one broken entry, one without title
    assert totals["refs.bib"][2] == 2 and totals["refs.bib"][1] == 2
    with session_factory() as session:
        transformer = session.scalar(
            select(LiteratureRecord).where(LiteratureRecord.arxiv_id == "1706.03762")
        )
        assert transformer is not None and transformer.s2_id == "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
