"""What an item's page and its API responses carry for machines: Highwire `citation_*` meta tags
(Google Scholar, Zotero), schema.org JSON-LD, and Signposting `Link` headers
(https://signposting.org/FAIR/). Pure: built from a citation record."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session

from openxiv.publishing.formats import FORMATS, json_ld, script_safe_json
from openxiv.publishing.metadata import CitationRecord, citation_record
from openxiv.publishing.service import DoiView, Site, citation_for, item_dois
from openxiv.submissions.service import FoundRecord, FoundVersion

# Characters a URI may contain (RFC 3986); anything else is percent-encoded so that no value can
# end a `<...>` target or a header line.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"


@dataclass(frozen=True)
class ExportLink:
    label: str
    url: str
    media_type: str


@dataclass(frozen=True)
class PageCitation:
    """Everything the item page shows or embeds about citing the version it shows."""

    record: CitationRecord
    meta_tags: list[tuple[str, str]]
    json_ld: str  # safe inside a <script> element
    link_header: str
    doi: DoiView | None  # this version's DOI, whatever its state
    concept_doi: DoiView | None
    exports: list[ExportLink]


_EXPORT_LABELS = {
    "bibtex": "BibTeX",
    "ris": "RIS",
    "csl": "CSL-JSON",
    "datacite": "DataCite JSON",
    "jsonld": "JSON-LD",
}


def highwire_tags(record: CitationRecord) -> list[tuple[str, str]]:
    """The `citation_*` meta tags, in the order Google Scholar documents them (an author's
    institution follows that author)."""
    tags: list[tuple[str, str]] = [("citation_title", record.title)]
    for author in record.authors:
        tags.append(("citation_author", author.inverted_name))
        if author.affiliation:
            tags.append(("citation_author_institution", author.affiliation))
        if author.orcid:
            tags.append(("citation_author_orcid", author.orcid))
    tags += [
        ("citation_publication_date", record.version_created.strftime("%Y/%m/%d")),
        ("citation_online_date", record.version_created.strftime("%Y/%m/%d")),
        ("citation_date", record.first_posted.strftime("%Y/%m/%d")),
        ("citation_publisher", record.publisher),
        ("citation_arxiv_id", record.versioned_identifier),
        ("citation_technical_report_number", record.versioned_identifier),
        ("citation_abstract_html_url", record.landing_url),
    ]
    if record.pdf_url:
        tags.append(("citation_pdf_url", record.pdf_url))
    if record.doi:
        tags.append(("citation_doi", record.doi))
    if record.abstract:
        tags.append(("citation_abstract", record.abstract))
    tags += [("citation_keywords", keyword) for keyword in record.keywords]
    tags.append(("citation_language", "en"))
    return tags


def _target(url: str) -> str:
    return f"<{quote(url, safe=_URI_SAFE)}>"


def link_header(record: CitationRecord) -> str:
    """Signposting links of a version: what to cite, where its metadata is, its licence, its
    authors' ORCID pages, and its files."""
    links = [f'{_target(record.cite_url)}; rel="cite-as"']
    for name in ("datacite", "jsonld"):
        export = FORMATS[name]
        links.append(
            f'{_target(record.cite_export_url(name))}; rel="describedby"; type="{export.media_type}"'
        )
    if record.licence_url:
        links.append(f'{_target(record.licence_url)}; rel="license"')
    links += [f'{_target(author.orcid_url)}; rel="author"' for author in record.authors if author.orcid_url]
    if record.pdf_url:
        links.append(f'{_target(record.pdf_url)}; rel="item"; type="application/pdf"')
    if record.source_url and record.source_media_type:
        links.append(f'{_target(record.source_url)}; rel="item"; type="{record.source_media_type}"')
    return ", ".join(links)


def page_citation(session: Session, found: FoundVersion, site: Site) -> PageCitation:
    dois = item_dois(session, found.submission.id)
    record = citation_for(session, found, site, dois.registered())
    return PageCitation(
        record=record,
        meta_tags=highwire_tags(record),
        json_ld=script_safe_json(json_ld(record)),
        link_header=link_header(record),
        doi=dois.for_version(found.version.number),
        concept_doi=dois.concept,
        exports=[
            ExportLink(_EXPORT_LABELS[name], record.cite_export_url(name), export.media_type)
            for name, export in FORMATS.items()
        ],
    )


def api_link_header(found: FoundRecord, site: Site) -> str:
    """The `Link` header of the item's JSON, from what `find_record` read (the version's DOI is
    all of the item's DOIs that it shows)."""
    dois = {found.version.number: found.version_doi, None: found.concept_doi}
    record = citation_record(
        found.submission,
        found.version,
        base_url=site.base_url,
        publisher=site.publisher,
        dois={number: doi for number, doi in dois.items() if doi is not None},
    )
    return link_header(record)
