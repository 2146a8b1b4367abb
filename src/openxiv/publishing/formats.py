"""Citation exports of one version: BibTeX, RIS, CSL-JSON, DataCite JSON and schema.org JSON-LD,
all from the same `CitationRecord`.

Titles and abstracts are whatever authors typed, so each writer makes them inert in its own
syntax: BibTeX escapes LaTeX's special characters (a title cannot close its field or run a
command), RIS folds line breaks (a title cannot start a tag of its own), and the JSON formats are
serialised by `json`, with `<`, `>` and `&` escaped so the JSON-LD can sit in a `<script>` element.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openxiv.publishing.metadata import CitationRecord, CitedAuthor, ai_statement, datacite_attributes


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str
    write: Callable[[CitationRecord], str]


# ------------------------------------------------------------------------------------------ BibTeX

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_LATEX_SPECIAL_RE = re.compile("|".join(re.escape(char) for char in _LATEX_SPECIALS))


# "--" would print as a dash and "''" as a closing quote: an empty group between the characters
# keeps them literal.
_LIGATURE_RE = re.compile(r"([-`'])(?=[-`'])")


def latex_escape(text: str) -> str:
    """Text as LaTeX typesets it literally: every special character escaped, whitespace folded."""
    folded = " ".join(text.split())
    escaped = _LATEX_SPECIAL_RE.sub(lambda match: _LATEX_SPECIALS[match.group(0)], folded)
    return _LIGATURE_RE.sub(r"\1{}", escaped)


def _ascii_word(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if char.isascii() and char.isalnum()).lower()


def bibtex_key(record: CitationRecord) -> str:
    """`family` + year + identifier, e.g. `example2026_2612.00001v1`: readable, and unique per
    version because the identifier is."""
    first = record.authors[0] if record.authors else None
    family = ""
    if first is not None:
        family = first.family_given[0] if first.is_person else first.name
    return f"{_ascii_word(family) or 'anon'}{record.year}_{record.versioned_identifier}"


def _bibtex_name(author: CitedAuthor) -> str:
    family, given = author.family_given
    if family and given:
        return f"{latex_escape(family)}, {latex_escape(given)}"
    # One brace group: BibTeX must not split an agent's (or a one-word) name into parts.
    return "{" + latex_escape(author.name) + "}"


def to_bibtex(record: CitationRecord) -> str:
    """`@misc` with arXiv's eprint fields; an accepted paper is an `@article` of the publisher."""
    accepted = record.status == "accepted" and record.kind == "paper"
    fields: list[tuple[str, str]] = [
        ("title", latex_escape(record.title)),
        ("author", " and ".join(_bibtex_name(author) for author in record.authors)),
    ]
    if accepted:
        fields.append(("journal", latex_escape(record.publisher)))
    fields += [
        ("year", str(record.year)),
        ("month", record.version_created.strftime("%b").lower()),
        ("eprint", record.versioned_identifier),
        ("archiveprefix", latex_escape(record.publisher)),
    ]
    if record.categories:
        fields.append(("primaryclass", latex_escape(record.categories[0])))
    if record.doi:
        fields.append(("doi", latex_escape(record.doi)))
    fields.append(("url", latex_escape(record.cite_url)))
    fields.append(("publisher", latex_escape(record.publisher)))
    if record.keywords:
        fields.append(("keywords", latex_escape(", ".join(record.keywords))))
    if record.licence:
        fields.append(("copyright", latex_escape(record.licence)))
    fields.append(("note", latex_escape(ai_statement(record))))
    if record.abstract:
        fields.append(("abstract", latex_escape(record.abstract)))
    entry_type = "article" if accepted else "misc"
    # `month` is a BibTeX macro (jan, feb, ...); everything else is a braced string.
    body = ",\n".join(
        f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}" for name, value in fields
    )
    return f"@{entry_type}{{{bibtex_key(record)},\n{body}\n}}\n"


# --------------------------------------------------------------------------------------------- RIS


def _ris_line(tag: str, value: str) -> str:
    # A line break in a value would begin a new tag (or end the record): folded to a space.
    return f"{tag}  - {' '.join(value.split())}"


def to_ris(record: CitationRecord) -> str:
    lines = [_ris_line("TY", "UNPB" if record.status != "accepted" else "JOUR")]
    lines.append(_ris_line("TI", record.title))
    lines += [_ris_line("AU", author.inverted_name) for author in record.authors]
    lines.append(_ris_line("PY", str(record.year)))
    lines.append(_ris_line("DA", record.version_created.strftime("%Y/%m/%d")))
    if record.abstract:
        lines.append(_ris_line("AB", record.abstract))
    lines += [_ris_line("KW", keyword) for keyword in record.keywords]
    if record.doi:
        lines.append(_ris_line("DO", record.doi))
    lines.append(_ris_line("UR", record.cite_url))
    if record.pdf_url:
        lines.append(_ris_line("L1", record.pdf_url))
    lines.append(_ris_line("PB", record.publisher))
    if record.status == "accepted":
        lines.append(_ris_line("JO", record.publisher))
    lines.append(_ris_line("AN", record.versioned_identifier))
    lines.append(_ris_line("ET", f"v{record.version}"))
    lines.append(_ris_line("N1", ai_statement(record)))
    lines.append(_ris_line("LA", "en"))
    lines.append("ER  - ")
    return "\r\n".join(lines) + "\r\n"


# ---------------------------------------------------------------------------------------- CSL-JSON


def _csl_name(author: CitedAuthor) -> dict[str, str]:
    family, given = author.family_given
    if family and given:
        return {"family": family, "given": given}
    return {"literal": author.name}


def _date_parts(record: CitationRecord) -> dict[str, Any]:
    day = record.version_created
    return {"date-parts": [[day.year, day.month, day.day]]}


def csl_item(record: CitationRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": record.versioned_identifier,
        "type": "article-journal" if record.status == "accepted" and record.kind == "paper" else "article",
        "genre": record.resource_type,
        "title": record.title,
        "author": [_csl_name(author) for author in record.authors],
        "issued": _date_parts(record),
        "publisher": record.publisher,
        "number": record.versioned_identifier,
        "version": str(record.version),
        "URL": record.cite_url,
        "language": "en",
        "note": ai_statement(record),
    }
    if record.status == "accepted" and record.kind == "paper":
        item["container-title"] = record.publisher
    if record.abstract:
        item["abstract"] = record.abstract
    if record.doi:
        item["DOI"] = record.doi
    if record.keywords:
        item["keyword"] = ", ".join(record.keywords)
    if record.licence:
        item["license"] = record.licence
    return item


def to_csl_json(record: CitationRecord) -> str:
    return _dump([csl_item(record)])


# ---------------------------------------------------------------------------------- DataCite JSON


def datacite_document(record: CitationRecord) -> dict[str, Any]:
    """DataCite JSON of a version: the attributes DataCite would hold for its DOI. Without a
    registered DOI, the same description identified by the version's identifier only."""
    attributes = datacite_attributes(record, doi=record.doi)
    if record.doi:
        attributes = {"id": record.cite_url, **attributes}
    return attributes


def to_datacite_json(record: CitationRecord) -> str:
    return _dump(datacite_document(record))


# ------------------------------------------------------------------------------ schema.org JSON-LD


def _schema_author(author: CitedAuthor) -> dict[str, Any]:
    family, given = author.family_given
    if author.is_person:
        person: dict[str, Any] = {"@type": "Person", "name": author.name}
        if family and given:
            person["givenName"] = given
            person["familyName"] = family
    else:
        # schema.org has no author type for software: an agent is named as an organisation with
        # the additional type saying what it really is.
        person = {
            "@type": "Organization",
            "additionalType": "https://schema.org/SoftwareApplication",
            "name": author.name,
            "description": "AI agent",
        }
    if author.orcid_url:
        person["@id"] = author.orcid_url
        person["identifier"] = author.orcid_url
    if author.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": author.affiliation}
    return person


def json_ld(record: CitationRecord) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "@id": record.cite_url,
        "url": record.landing_url,
        "identifier": [record.versioned_identifier, *([record.doi_url] if record.doi_url else [])],
        "name": record.title,
        "headline": record.title[:110],
        "author": [_schema_author(author) for author in record.authors],
        "datePublished": record.version_created.date().isoformat(),
        "dateCreated": record.first_posted.date().isoformat(),
        "dateModified": record.updated.date().isoformat(),
        "publisher": {"@type": "Organization", "name": record.publisher, "url": record.base_url},
        "inLanguage": "en",
        "isAccessibleForFree": True,
        "version": str(record.version),
        "genre": record.resource_type,
        "creativeWorkStatus": record.status,
        "creditText": ai_statement(record),
        "isPartOf": {"@type": "CreativeWork", "@id": _concept_id(record), "url": record.concept_url},
    }
    if record.doi_url:
        document["sameAs"] = record.doi_url
    if record.abstract:
        document["abstract"] = record.abstract
    if record.keywords:
        document["keywords"] = list(record.keywords)
    if record.categories:
        document["about"] = [{"@type": "Thing", "name": category} for category in record.categories]
    if record.licence_url:
        document["license"] = record.licence_url
    elif record.licence:
        document["license"] = record.licence
    encodings = []
    if record.pdf_url:
        encodings.append(
            {"@type": "MediaObject", "contentUrl": record.pdf_url, "encodingFormat": "application/pdf"}
        )
    if record.source_url and record.source_media_type:
        encodings.append(
            {
                "@type": "MediaObject",
                "contentUrl": record.source_url,
                "encodingFormat": record.source_media_type,
            }
        )
    if encodings:
        document["encoding"] = encodings
    return document


def _concept_id(record: CitationRecord) -> str:
    return f"https://doi.org/{record.concept_doi}" if record.concept_doi else record.concept_url


def to_json_ld(record: CitationRecord) -> str:
    return _dump(json_ld(record))


def script_safe_json(document: Any, *, indent: int | None = None) -> str:
    """JSON that can stand inside `<script type="application/ld+json">`: `</script>` (or `<!--`)
    in a title cannot end the element, since `<`, `>` and `&` only ever appear as `\\u` escapes
    (which JSON parsers read back as the same characters)."""
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(document, ensure_ascii=False, indent=indent, separators=separators)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _dump(document: Any) -> str:
    # The downloads get the same escapes as the embedded JSON-LD: inert even where a browser
    # guesses the type.
    return script_safe_json(document, indent=2) + "\n"


# -------------------------------------------------------------------------------------- plain text


def to_text(record: CitationRecord) -> str:
    """A one-line reference for people: names as written, year, title, where, and the link to cite."""
    names = ", ".join(author.name for author in record.authors)
    return f"{names} ({record.year}). {record.title}. {record.publisher} preprint {record.versioned_identifier}. {record.cite_url}"


FORMATS: Mapping[str, ExportFormat] = {
    export.name: export
    for export in (
        ExportFormat("bibtex", "application/x-bibtex", "bib", to_bibtex),
        ExportFormat("ris", "application/x-research-info-systems", "ris", to_ris),
        ExportFormat("csl", "application/vnd.citationstyles.csl+json", "json", to_csl_json),
        ExportFormat("datacite", "application/vnd.datacite.datacite+json", "json", to_datacite_json),
        ExportFormat("jsonld", "application/ld+json", "jsonld", to_json_ld),
    )
}
