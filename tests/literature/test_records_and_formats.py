"""Normalisation rules and every import format, on recorded files in the real schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openxiv.literature.formats import UnknownFormat, detect_format, parse_file
from openxiv.literature.formats.bibtex import parse_bibtex
from openxiv.literature.formats.jsonl import parse_jsonl
from openxiv.literature.formats.s2json import parse_s2
from openxiv.literature.formats.xmlfeeds import parse_xml
from openxiv.literature.records import (
    RecordIn,
    Rejection,
    authors_list,
    finish,
    normalise_arxiv_id,
    normalise_doi,
    title_key,
)

from .conftest import FIXTURES


def records(items: list[RecordIn | Rejection]) -> list[RecordIn]:
    return [item for item in items if isinstance(item, RecordIn)]


def rejections(items: list[RecordIn | Rejection]) -> list[Rejection]:
    return [item for item in items if isinstance(item, Rejection)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1706.03762", "1706.03762"),
        ("arXiv:1706.03762v5", "1706.03762"),
        ("https://arxiv.org/abs/1706.03762v7", "1706.03762"),
        ("http://arxiv.org/abs/hep-ex/0307015v1", "hep-ex/0307015"),
        ("2401.00001", "2401.00001"),
        ("not an id", None),
        ("", None),
    ],
)
def test_arxiv_ids_in_every_spelling_fold_to_one(raw: str, expected: str | None) -> None:
    assert normalise_arxiv_id(raw) == expected


def test_doi_and_title_normalisation() -> None:
    assert normalise_doi("https://doi.org/10.1109/CVPR.2016.90.") == "10.1109/cvpr.2016.90"
    assert normalise_doi("doi:10.18653/v1/N19-1423") == "10.18653/v1/n19-1423"
    assert normalise_doi("no doi here") is None
    assert title_key("Attention Is All You Need!") == title_key("attention is all  you need")
    assert title_key("Über naïve Bäume") == "ubernaivebaume"
    assert title_key("BERT") != title_key("BART")


def test_authors_from_strings_lists_and_objects() -> None:
    assert authors_list("Kaiming He and Xiangyu Zhang") == ["Kaiming He", "Xiangyu Zhang"]
    assert authors_list([{"name": "A. B."}, "C D", {"display_name": "E F"}]) == ["A. B.", "C D", "E F"]
    with pytest.raises(ValueError):
        authors_list(42)


def test_finish_cleans_and_rejects() -> None:
    record = RecordIn(title="  A\x00 title\nwith   breaks ", abstract="x", arxiv_id="arXiv:2101.00001v2")
    assert isinstance(finish(record), RecordIn)
    assert record.title == "A title with breaks"
    assert record.arxiv_id == "2101.00001"
    assert finish(RecordIn(title="   ")) == "missing title"
    assert finish(RecordIn(title="!!! ???")) == "title has no letters or digits"


def test_jsonl_requires_only_title_and_abstract_and_reports_bad_lines() -> None:
    lines = [
        b'{"title": "Minimal", "abstract": "Only the two required fields."}',
        b'{"title": "Full", "abstract": "All fields.", "authors": ["A B"], "year": "2021", "venue": "V",'
        b' "doi": "10.1/x", "arxiv": "2101.00001", "s2_id": "abc", "ids": {"openalex": "W1"}, "topic": "t"}',
        b"{broken json",
        b"[1, 2]",
        b'{"title": "No abstract"}',
        b'{"abstract": "No title"}',
        b'{"title": "Bad authors", "abstract": "x", "authors": 5}',
        b"",
        '{"title": "Caf\u00e9 in Latin-1", "abstract": "r\u00e9sum\u00e9"}'.encode("latin-1"),
    ]
    items = list(parse_jsonl(lines))
    good = records(items)
    assert [r.title for r in good] == ["Minimal", "Full", "Café in Latin-1"]
    full = good[1]
    assert (full.year, full.venue, full.doi, full.arxiv_id, full.s2_id, full.openalex_id) == (
        2021, "V", "10.1/x", "2101.00001", "abc", "W1",
    )  # fmt: skip
    assert full.extra == {"topic": "t"}
    assert "Windows-1252" in good[2].extra["import_note"]
    reasons = {r.position: r.reason for r in rejections(items)}
    assert reasons["line 3"].startswith("not valid JSON")
    assert reasons["line 4"] == "expected a JSON object, got list"
    assert reasons["line 5"] == "missing required field 'abstract'"
    assert reasons["line 6"] == "missing required field 'title'"
    assert "authors" in reasons["line 7"]


def test_arxiv_atom_feed() -> None:
    items = list(parse_xml([(FIXTURES / "arxiv_query.xml").read_bytes()]))
    assert not rejections(items)
    first, second, third = (finish(r) for r in records(items))
    assert isinstance(first, RecordIn) and isinstance(second, RecordIn) and isinstance(third, RecordIn)
    assert first.title == "Attention Is All You Need"
    assert first.arxiv_id == "1706.03762"
    assert first.year == 2017
    assert first.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    assert first.abstract.startswith("Sequence transduction has been dominated")
    assert first.extra["category"] == "cs.CL"
    assert second.arxiv_id == "hep-ex/0307015"
    assert second.doi == "10.1140/epjc/s2003-01326-x"
    assert second.venue == "Eur.Phys.J. C31 (2003) 17-29"
    assert third.arxiv_id == "1810.04805"


def test_arxiv_api_error_entry_is_a_rejection_with_its_message() -> None:
    items = list(parse_xml([(FIXTURES / "arxiv_error.xml").read_bytes()]))
    assert not records(items)
    assert "incorrect id format" in rejections(items)[0].reason


def test_oai_pmh_arxiv_format_skips_deleted_and_broken_records_and_continues() -> None:
    data = (FIXTURES / "oai_arxiv.xml").read_bytes()
    # Split the document at awkward places: items must still be found across block boundaries.
    blocks = [data[i : i + 97] for i in range(0, len(data), 97)]
    items = list(parse_xml(blocks))
    good = records(items)
    assert [r.arxiv_id for r in good] == ["1512.03385", "1406.2661"]
    assert good[0].authors == ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"]
    assert good[0].year == 2015
    assert good[1].doi == "10.1145/3422622"
    bad = rejections(items)
    assert any("deleted" in r.reason for r in bad)
    assert any("malformed XML" in r.reason for r in bad)
    assert len(bad) == 2


def test_oai_dc_flips_creator_names_and_skips_comment_descriptions() -> None:
    (record,) = records(list(parse_xml([(FIXTURES / "oai_dc.xml").read_bytes()])))
    assert record.title == "Auto-Encoding Variational Bayes"
    assert record.authors == ["Diederik P Kingma", "Max Welling"]
    assert record.abstract.startswith("A stochastic variational inference algorithm")
    assert normalise_arxiv_id(record.arxiv_id) == "1312.6114"
    assert record.year == 2013


def test_xml_that_is_not_a_feed_or_declares_entities_is_refused() -> None:
    (item,) = list(parse_xml([b"<html><body>hello</body></html>"]))
    assert isinstance(item, Rejection) and "no <entry> or <record>" in item.reason
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><feed><entry><title>&a;</title></entry></feed>'
    (item,) = list(parse_xml([bomb]))
    assert isinstance(item, Rejection) and "DOCTYPE" in item.reason
    oai_error = b'<OAI-PMH><error code="noRecordsMatch">nothing in this range</error></OAI-PMH>'
    (item,) = list(parse_xml([oai_error]))
    assert isinstance(item, Rejection) and "noRecordsMatch" in item.reason


def test_semantic_scholar_search_recommendations_and_batch_shapes() -> None:
    search = records(list(parse_s2((FIXTURES / "s2_search.json").read_bytes())))
    assert [r.s2_id for r in search][:2] == [
        "204e3073870fae3d05bcbc2f6a8e263d9b72e776",
        "df2b0e26d0599ce3e70df8a9da02e51594e0e992",
    ]
    assert search[0].arxiv_id == "1706.03762" and search[0].venue == "Neural Information Processing Systems"
    assert search[1].doi == "10.18653/v1/N19-1423" and search[1].abstract == ""
    recommended = records(list(parse_s2((FIXTURES / "s2_recommendations.json").read_bytes())))
    assert [r.title for r in recommended] == [
        "Longformer: The Long-Document Transformer",
        "Reformer: The Efficient Transformer",
    ]
    batch = list(parse_s2((FIXTURES / "s2_batch.json").read_bytes()))
    assert len(records(batch)) == 2  # the paper with an empty title is rejected later, by `finish`
    reasons = [r.reason for r in rejections(batch)]
    assert any("null entry" in r for r in reasons) and any("got str" in r for r in reasons)
    lines = b'{"paperId": "x1", "title": "One"}\n{oops\n{"paperId": "x2", "title": "Two"}\n'
    parsed = list(parse_s2(lines))
    assert [r.s2_id for r in records(parsed)] == ["x1", "x2"]
    assert rejections(parsed)[0].position == "line 2"


def test_bibtex_entries_macros_accents_and_broken_entries() -> None:
    items = list(parse_bibtex((FIXTURES / "refs.bib").read_bytes()))
    good = records(items)
    by_key = {r.extra["bibtex_key"]: r for r in good}
    assert set(by_key) == {"vaswani2017attention", "he2016resnet", "schmidhuber1997", "kingma2015adam"}
    vaswani = by_key["vaswani2017attention"]
    assert vaswani.title == "Attention is All you Need"
    assert vaswani.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    assert vaswani.venue == "Advances in Neural Information Processing Systems"
    assert vaswani.arxiv_id == "1706.03762" and vaswani.year == 2017
    assert by_key["he2016resnet"].doi == "10.1109/CVPR.2016.90"
    assert by_key["schmidhuber1997"].authors == ["Sepp Hochreiter", "Jürgen Schmidhuber"]
    assert "Jürgen" in by_key["schmidhuber1997"].title
    assert normalise_arxiv_id(by_key["kingma2015adam"].arxiv_id) == "1412.6980"
    reasons = [r.reason for r in rejections(items)]
    assert any("unbalanced braces" in r for r in reasons)
    assert any("has no title" in r for r in reasons)


def test_detect_format(tmp_path: Path) -> None:
    cases = {
        "a.jsonl": b'{"title": "t", "abstract": "a"}\n',
        "b.json": (FIXTURES / "s2_search.json").read_bytes(),
        "c.xml": b"\xef\xbb\xbf  <?xml version='1.0'?><feed/>",
        "d.bib": b"@article{x, title={t}}",
        "e.txt": b'{"paperId": "x", "title": "t"}\n',
    }
    expected = {"a.jsonl": "jsonl", "b.json": "s2", "c.xml": "xml", "d.bib": "bibtex", "e.txt": "s2"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert detect_format(tmp_path / name) == expected[name], name
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    with pytest.raises(UnknownFormat, match="empty"):
        detect_format(tmp_path / "empty.jsonl")
    (tmp_path / "prose.txt").write_bytes(b"just some words")
    with pytest.raises(UnknownFormat, match="cannot tell"):
        detect_format(tmp_path / "prose.txt")


def test_starter_corpus_is_valid_and_has_a_few_hundred_distinct_entries() -> None:
    from openxiv.literature.service import starter_records

    corpus = starter_records()
    assert len(corpus) >= 300
    assert len({r.title_key for r in corpus}) == len(corpus)
    arxiv = [r.arxiv_id for r in corpus if r.arxiv_id]
    assert len(arxiv) == len(set(arxiv))
    assert all(r.year and r.authors and r.venue and r.abstract for r in corpus)


def test_parse_file_streams_a_jsonl_file(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps({"title": f"T{i}", "abstract": "a"}) for i in range(5)))
    assert [r.title for r in records(list(parse_file(path, "jsonl")))] == ["T0", "T1", "T2", "T3", "T4"]
