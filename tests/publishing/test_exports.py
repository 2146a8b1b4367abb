"""Citation exports read back by the parsers reference managers use, validated against the
schemas of what we promise, and extracted from the item page as Zotero and Google Scholar do.
Titles and abstracts that try to inject markup or records stay inert text everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import bibtexparser
import jsonschema
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from lxml import html

from openxiv.submissions.lifecycle import Status
from tests.publishing.conftest import Poster

SCHEMAS = Path(__file__).parent / "schemas"
HOSTILE_TITLE = (
    'Warm-up </script><script>alert("t")</script><style>body{display:none}</style> '
    "at 50% & $x^2$ #1 a_b ~c \\relax {braces}"
)
HOSTILE_ABSTRACT = (
    "We study warm-up.\nER  - \nTY  - JOUR\nTI  - injected record\n"
    '"><img src=x onerror=alert(1)> </script><!-- and } @misc{evil, title={x}'
)
MEDIA_TYPES = {
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "csl": "application/vnd.citationstyles.csl+json",
    "datacite": "application/vnd.datacite.datacite+json",
    "jsonld": "application/ld+json",
}
AUTHORS = [
    {
        "kind": "human",
        "name": "Ada Lovelace",
        "orcid": "0000-0002-1825-0097",
        "affiliation": "Analytical Society",
    },
    {"kind": "human", "name": "Gödel, Kurt"},
]


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text("utf-8"))
    return loaded


def cite(client: Any, identifier: str, format_name: str) -> Any:
    response = client.get(f"/api/v1/submissions/{identifier}/cite", params={"format": format_name})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == MEDIA_TYPES[format_name]
    return response


@pytest.fixture
def published(poster: Poster) -> dict[str, Any]:
    item = poster.post(
        pdf_sha256=poster.upload_pdf(),
        title=HOSTILE_TITLE,
        abstract=HOSTILE_ABSTRACT,
        authors=AUTHORS,
        keywords=["warm-up", "batch size"],
    )
    poster.move(item["id"], Status.PROVISIONALLY_ACCEPTED)
    return item


def test_bibtex_round_trips_through_bibtexparser(client: Any, published: dict[str, Any]) -> None:
    identifier = published["id"]
    text = cite(client, identifier, "bibtex").text
    library = bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors()]
    )
    assert library.failed_blocks == []
    assert len(library.entries) == 1  # the abstract's `@misc{evil` stayed inside its field
    entry = library.entries[0]
    assert entry.entry_type == "misc"
    assert entry.key.startswith("lovelace") and entry.key.endswith(f"_{identifier}v1")
    # pylatexenc reads \textasciicircum as the modifier letcircumflex (U+02C6); LaTeX prints "^".
    assert entry["title"].replace("\u02c6", "^") == HOSTILE_TITLE
    assert entry["abstract"] == " ".join(HOSTILE_ABSTRACT.split())
    assert entry["author"] == ["Lovelace, Ada", "Gödel, Kurt"]
    assert entry["eprint"] == f"{identifier}v1"
    assert entry["doi"] == f"10.5072/openxiv.{identifier}v1"
    assert entry["url"] == f"https://doi.org/10.5072/openxiv.{identifier}v1"
    assert entry["primaryclass"] == "cs.LG"
    assert entry["archiveprefix"] == "OpenXiv"
    assert "AI involvement: None: written by the human author." in entry["note"]
    # Raw: every LaTeX special of the title escaped, so it cannot close the field or run a command.
    raw_title = re.search(r"^  title = \{(.*)\},$", text, re.M)
    assert raw_title is not None
    assert "\\}\\{" not in raw_title.group(1) and "\\relax" not in raw_title.group(1).replace(
        "\\textbackslash{}relax", ""
    )


def test_an_accepted_paper_is_an_article(client: Any, poster: Poster, published: dict[str, Any]) -> None:
    poster.move(published["id"], Status.ACCEPTED)
    library = bibtexparser.parse_string(cite(client, published["id"], "bibtex").text)
    assert library.entries[0].entry_type == "article"
    assert library.entries[0]["journal"] == "OpenXiv"
    assert rispy.loads(cite(client, published["id"], "ris").text)[0]["type_of_reference"] == "JOUR"


def test_ris_round_trips_through_rispy(client: Any, published: dict[str, Any]) -> None:
    identifier = published["id"]
    records = rispy.loads(cite(client, identifier, "ris").text)
    assert len(records) == 1  # the abstract's "ER  - / TY  - JOUR" did not start a second record
    record = records[0]
    assert record["type_of_reference"] == "UNPB"
    assert record["title"] == HOSTILE_TITLE
    assert record["authors"] == ["Lovelace, Ada", "Gödel, Kurt"]
    assert record["abstract"] == " ".join(HOSTILE_ABSTRACT.split())
    assert record["keywords"] == ["warm-up", "batch size"]
    assert record["doi"] == f"10.5072/openxiv.{identifier}v1"
    assert record["urls"] == [f"https://doi.org/10.5072/openxiv.{identifier}v1"]
    assert record["publisher"] == "OpenXiv"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", record["date"])


def test_csl_json_is_valid_and_complete(client: Any, published: dict[str, Any]) -> None:
    items = cite(client, published["id"], "csl").json()
    jsonschema.validate(items, schema("csl"))
    item = items[0]
    assert item["title"] == HOSTILE_TITLE
    assert item["author"] == [{"family": "Lovelace", "given": "Ada"}, {"family": "Gödel", "given": "Kurt"}]
    assert item["DOI"] == f"10.5072/openxiv.{published['id']}v1"


def test_datacite_json_is_valid_and_names_the_doi(client: Any, published: dict[str, Any]) -> None:
    identifier = published["id"]
    document = cite(client, identifier, "datacite").json()
    jsonschema.validate(document, schema("datacite"))
    assert document["doi"] == f"10.5072/openxiv.{identifier}v1"
    assert document["id"] == f"https://doi.org/10.5072/openxiv.{identifier}v1"
    assert document["titles"] == [{"title": HOSTILE_TITLE}]
    assert (
        document["creators"][0]["nameIdentifiers"][0]["nameIdentifier"]
        == "https://orcid.org/0000-0002-1825-0097"
    )
    assert {
        "relatedIdentifier": f"10.5072/openxiv.{identifier}",
        "relatedIdentifierType": "DOI",
        "relationType": "IsVersionOf",
    } in document["relatedIdentifiers"]


def test_exports_of_an_unpublished_item_have_no_doi(client: Any, poster: Poster) -> None:
    item = poster.post()
    document = cite(client, item["id"], "datacite").json()
    jsonschema.validate(document, schema("datacite"))
    assert "doi" not in document and "id" not in document
    jsonschema.validate(cite(client, item["id"], "jsonld").json(), schema("jsonld"))
    assert (
        "doi" not in bibtexparser.parse_string(cite(client, item["id"], "bibtex").text).entries[0].fields_dict
    )


def test_json_ld_on_the_page_is_the_export_and_is_inert(client: Any, published: dict[str, Any]) -> None:
    identifier = published["id"]
    exported = cite(client, identifier, "jsonld").json()
    jsonschema.validate(exported, schema("jsonld"))
    assert exported["name"] == HOSTILE_TITLE
    assert exported["sameAs"] == f"https://doi.org/10.5072/openxiv.{identifier}v1"

    page = client.get(f"/abs/{identifier}").text
    assert "<script>alert" not in page and "<style>body" not in page and "<img src=x" not in page
    tree = html.fromstring(page)
    scripts = tree.xpath("//script")
    # The site's own scripts are files (src=...); the only inline one is the JSON-LD data block.
    inline = [script for script in scripts if not script.get("src")]
    assert [script.get("type") for script in inline] == ["application/ld+json"]
    assert all(script.get("src", "").startswith("/static/") for script in scripts if script.get("src"))
    assert tree.xpath("//style") == []
    scripts = inline
    embedded = json.loads(scripts[0].text)
    assert embedded == exported
    # Shown as text on the page.
    assert tree.xpath("//h1")[0].text_content() == HOSTILE_TITLE


def test_highwire_tags_read_as_zotero_reads_them(client: Any, published: dict[str, Any]) -> None:
    identifier = published["id"]
    tree = html.fromstring(client.get(f"/abs/{identifier}").content)
    tags: dict[str, list[str]] = {}
    for meta in tree.xpath('//head/meta[starts-with(@name, "citation_")]'):
        tags.setdefault(meta.get("name"), []).append(meta.get("content"))
    assert tags["citation_title"] == [HOSTILE_TITLE]
    assert tags["citation_author"] == ["Lovelace, Ada", "Gödel, Kurt"]
    assert tags["citation_author_institution"] == ["Analytical Society"]
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", tags["citation_publication_date"][0])
    assert tags["citation_online_date"] == tags["citation_publication_date"]
    assert tags["citation_pdf_url"] == [f"http://127.0.0.1:8000/api/v1/submissions/{identifier}v1/pdf"]
    assert tags["citation_abstract_html_url"] == [f"http://127.0.0.1:8000/abs/{identifier}v1"]
    assert tags["citation_doi"] == [f"10.5072/openxiv.{identifier}v1"]
    assert tags["citation_arxiv_id"] == [f"{identifier}v1"]
    assert tags["citation_keywords"] == ["warm-up", "batch size"]
    assert tags["citation_publisher"] == ["OpenXiv"]
    assert tags["citation_abstract"] == [HOSTILE_ABSTRACT.strip()]
    # The PDF the tag names is served.
    pdf = client.get(f"/api/v1/submissions/{identifier}v1/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def _links(header: str) -> list[tuple[str, dict[str, str]]]:
    links = []
    for target, params in re.findall(r"<([^>]*)>((?:\s*;\s*[a-z]+=\"[^\"]*\")*)", header):
        links.append((target, dict(re.findall(r'([a-z]+)="([^"]*)"', params))))
    return links


@pytest.mark.parametrize("path", ["/abs/{id}", "/api/v1/submissions/{id}", "/api/v1/submissions/{id}/cite"])
def test_signposting_links(client: Any, published: dict[str, Any], path: str) -> None:
    identifier = published["id"]
    response = client.get(path.format(id=identifier))
    links = _links(response.headers["link"])
    by_rel: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for target, params in links:
        by_rel.setdefault(params["rel"], []).append((target, params))
    assert [t for t, _ in by_rel["cite-as"]] == [f"https://doi.org/10.5072/openxiv.{identifier}v1"]
    described = {params["type"]: target for target, params in by_rel["describedby"]}
    assert described == {
        "application/vnd.datacite.datacite+json": f"http://127.0.0.1:8000/api/v1/submissions/{identifier}v1/cite?format=datacite",
        "application/ld+json": f"http://127.0.0.1:8000/api/v1/submissions/{identifier}v1/cite?format=jsonld",
    }
    assert [t for t, _ in by_rel["license"]] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert [t for t, _ in by_rel["author"]] == ["https://orcid.org/0000-0002-1825-0097"]
    items = {params["type"]: target for target, params in by_rel["item"]}
    assert items == {
        "application/pdf": f"http://127.0.0.1:8000/api/v1/submissions/{identifier}v1/pdf",
        "text/markdown": f"http://127.0.0.1:8000/api/v1/submissions/{identifier}v1/source",
    }
    # Every described-by link is served, with the type it announces.
    for media_type, target in described.items():
        served = client.get(target.removeprefix("http://127.0.0.1:8000"))
        assert served.status_code == 200 and served.headers["content-type"] == media_type


def test_the_format_is_negotiated_and_checked(client: Any, published: dict[str, Any]) -> None:
    identifier = published["id"]
    url = f"/api/v1/submissions/{identifier}/cite"
    assert client.get(url).headers["content-type"] == "application/x-bibtex"
    negotiated = client.get(url, headers={"Accept": "text/html, application/x-research-info-systems;q=0.9"})
    assert negotiated.headers["content-type"] == "application/x-research-info-systems"
    assert client.get(url, params={"format": "endnote"}).status_code == 422
    assert client.get("/api/v1/submissions/2101.99999/cite").status_code == 404
    # A pinned version is cited as that version.
    assert f"eprint = {{{identifier}v1}}" in client.get(f"/api/v1/submissions/{identifier}v1/cite").text
    assert client.get(f"/api/v1/submissions/{identifier}v2/cite").status_code == 404
