"""The BM25 index and the search service on the real database: ranking, incremental updates,
published submissions, and the awkward queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openxiv.literature.importer import import_records
from openxiv.literature.index import Bm25Index
from openxiv.literature.records import RecordIn
from openxiv.literature.schemas import SearchResponse
from openxiv.literature.service import (
    InvalidQuery,
    get_index,
    index_submission,
    load_starter_corpus,
    search,
)
from openxiv.literature.settings import LiteratureSettings
from openxiv.models.base import utcnow
from openxiv.models.literature import LiteratureRecord


@pytest.fixture
def seeded(session: Session) -> Session:
    load_starter_corpus(session)
    session.commit()
    return session


def titles(response: SearchResponse) -> list[str]:
    return [hit.title for hit in response.hits]


def test_titles_find_their_paper_first_with_ids_score_and_passage(
    seeded: Session, lit_settings: LiteratureSettings
) -> None:
    response = search(seeded, lit_settings, "Deep Residual Learning for Image Recognition", k=5)
    best = response.hits[0]
    assert best.title == "Deep Residual Learning for Image Recognition"
    assert best.ids == {"arxiv": "1512.03385"}
    assert best.year == 2016 and best.authors[0] == "Kaiming He"
    assert "shortcut" in best.passage
    assert [h.score for h in response.hits] == sorted((h.score for h in response.hits), reverse=True)
    assert response.retrievers == ["bm25"] and response.notice is None


def test_topic_queries_rank_the_relevant_papers(seeded: Session, lit_settings: LiteratureSettings) -> None:
    found = titles(search(seeded, lit_settings, "denoising diffusion image synthesis", k=5))
    assert any("Diffusion" in title for title in found[:2])
    found = titles(search(seeded, lit_settings, "policy gradient reinforcement learning trust region", k=5))
    assert "Trust Region Policy Optimization" in found[:2]


def test_new_and_changed_records_are_searchable_without_a_rebuild(
    seeded: Session, lit_settings: LiteratureSettings
) -> None:
    index = get_index(seeded, lit_settings)
    generation = index._generation
    assert search(seeded, lit_settings, "quokka photosynthesis", k=3).hits == []
    import_records(seeded, [RecordIn(title="Quokka photosynthesis networks", abstract="A study of quokkas.")])
    seeded.commit()
    hits = search(seeded, lit_settings, "quokka photosynthesis", k=3).hits
    assert [h.title for h in hits] == ["Quokka photosynthesis networks"]
    # change a record of the main segment: the old text must stop matching, the new must match
    resnet = seeded.scalars(select(LiteratureRecord).where(LiteratureRecord.arxiv_id == "1512.03385")).one()
    resnet.abstract = "Now about wombat genomics."
    resnet.updated_at = utcnow()
    seeded.commit()
    assert titles(search(seeded, lit_settings, "wombat genomics", k=3)) == [resnet.title]
    assert resnet.title not in titles(search(seeded, lit_settings, "identity shortcut connections", k=20))
    assert index._generation == generation  # served from the delta, no rebuild


def test_index_persists_and_a_large_delta_triggers_a_rebuild(
    seeded: Session, lit_settings: LiteratureSettings, tmp_path: Path
) -> None:
    settings = lit_settings.model_copy(update={"delta_rebuild_threshold": 5})
    index = get_index(seeded, settings)
    first_generation = index._generation
    import_records(seeded, [RecordIn(title=f"Numbat study {i}", abstract="numbat") for i in range(40)])
    seeded.commit()
    assert len(search(seeded, settings, "numbat", k=50).hits) == 40
    assert index._generation != first_generation  # 40 new records > 10% of 342: rebuilt
    reopened = Bm25Index(index.directory, fingerprint=index.fingerprint)
    assert reopened.ready and reopened.size == index.size


def test_published_submissions_are_indexed(seeded: Session, lit_settings: LiteratureSettings) -> None:
    from openxiv.models.accounts import Account
    from openxiv.models.submissions import Submission, SubmissionVersion, VersionAuthor

    account = Account(
        email="a@example.org", display_name="Ada", password_hash="x", policy_version="2026-11",
        policy_accepted_at=utcnow(),
    )  # fmt: skip
    seeded.add(account)
    seeded.flush()
    submission = Submission(
        identifier="2611.00001", kind="paper", status="published", title="t", owner_id=account.id
    )
    seeded.add(submission)
    seeded.flush()
    version = SubmissionVersion(
        submission_id=submission.id, number=1, title="Echidna-inspired sparse attention",
        abstract="We propose echidna attention, a sparse attention pattern.", created_by_account_id=account.id,
    )  # fmt: skip
    seeded.add(version)
    seeded.flush()
    seeded.add(VersionAuthor(version_id=version.id, position=1, kind="human", name="Ada L."))
    seeded.flush()
    record = index_submission(seeded, submission.id)
    seeded.commit()
    hit = search(seeded, lit_settings, "echidna attention", k=1).hits[0]
    assert hit.ids == {"openxiv": "2611.00001"} and hit.source == "openxiv" and hit.authors == ["Ada L."]
    # a new version replaces the text of the same record
    seeded.add(SubmissionVersion(
        submission_id=submission.id, number=2, title="Echidna attention, revised",
        abstract="Now with platypus experiments.", created_by_account_id=account.id,
    ))  # fmt: skip
    submission.latest_version = 2
    seeded.flush()
    again = index_submission(seeded, submission.id)
    seeded.commit()
    assert again.id == record.id
    assert titles(search(seeded, lit_settings, "platypus experiments", k=1)) == ["Echidna attention, revised"]
    from openxiv.errors import NotFound

    with pytest.raises(NotFound):
        index_submission(seeded, 999_999)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_queries_are_refused_clearly(
    seeded: Session, lit_settings: LiteratureSettings, query: str
) -> None:
    with pytest.raises(InvalidQuery, match="empty"):
        search(seeded, lit_settings, query)


def test_long_and_odd_queries(seeded: Session, lit_settings: LiteratureSettings) -> None:
    long_query = ("residual networks image recognition " * 400)[:10_000]
    long_query += " " + " ".join(f"rareword{i}" for i in range(200))
    response = search(seeded, lit_settings, long_query[:10_000], k=3)
    assert response.hits[0].title == "Deep Residual Learning for Image Recognition"
    huge = search(seeded, lit_settings, " ".join(f"w{i} residual" for i in range(1500))[:10_000], k=3)
    assert huge.hits  # still answers
    with pytest.raises(InvalidQuery, match="limit"):
        search(seeded, lit_settings, "x" * (lit_settings.max_query_chars + 1))
    only_stop = search(seeded, lit_settings, "the of and", k=3)
    assert only_stop.hits == [] and "no searchable words" in (only_stop.notice or "")
    assert search(seeded, lit_settings, "ΔΣ αβγ 量子 \x00 <script>", k=3).hits == []
    with pytest.raises(InvalidQuery):
        search(seeded, lit_settings, "transformer", k=0)


def test_many_distinct_terms_are_cut_to_the_most_specific(
    seeded: Session, lit_settings: LiteratureSettings
) -> None:
    settings = lit_settings.model_copy(update={"max_query_terms": 4})
    words = "learning networks model deep neural training data transformer attention residual"
    response = search(seeded, settings, words, k=3)
    assert "most specific words" in (response.notice or "")


def test_pruned_scoring_returns_exactly_the_full_scan_top_k(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openxiv.literature import index as index_module
    from openxiv.literature.benchmark import SyntheticCorpus, naive_rescan
    from openxiv.literature.text import tokenize

    corpus = SyntheticCorpus(seed=3, vocabulary=5000)
    documents = corpus.documents(3000)
    now = utcnow()
    index = Bm25Index(tmp_path / "pruning")
    index.build(((i + 1, t, a, now) for i, (t, a) in enumerate(documents)), now)
    queries = corpus.queries(documents, 40)
    monkeypatch.setattr(index_module, "FULL_SCAN_POSTINGS", 10**12)
    full = [index.search(index.select_terms(tokenize(q), 64), 10) for q in queries]
    monkeypatch.setattr(index_module, "FULL_SCAN_POSTINGS", 0)
    pruned = [index.search(index.select_terms(tokenize(q), 64), 10) for q in queries]
    for a, b in zip(full, pruned, strict=True):
        assert [rid for rid, _ in a] == [rid for rid, _ in b]
        assert [round(s, 4) for _, s in a] == [round(s, 4) for _, s in b]
    # and both agree with scoring every document from scratch
    for query, hits in list(zip(queries, full, strict=True))[:5]:
        assert [rid - 1 for rid, _ in hits][:3] == naive_rescan(documents, query)[:3]
