"""One neutral citation record per version, and its DataCite mapping.

Everything that describes an item to the outside (exports, meta tags, the DataCite payload, and
harvesting formats such as OAI-PMH's `oai_dc` and `oai_datacite`) is built from a
`CitationRecord`, so the formats cannot disagree about a title, an author or a date. The module is
pure: it reads ORM rows that the caller loaded and touches no session, network or clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openxiv.models import Submission, SubmissionVersion
from openxiv.submissions.records import AuthorView, SubmissionView, VersionView
from openxiv.submissions.version_meta import VersionMeta

SOURCE_MEDIA_TYPES = {"markdown": "text/markdown", "latex": "application/x-latex"}
ORCID_URL = "https://orcid.org/"


@dataclass(frozen=True)
class Licence:
    spdx: str
    name: str
    url: str  # the deed people read
    legal_url: str  # the legal code


def _cc(spdx: str, name: str, path: str) -> Licence:
    base = f"https://creativecommons.org/{path}"
    return Licence(spdx, name, base, f"{base}legalcode")


# Licences an item may carry (submissions.schemas.Licence), keyed by their SPDX identifier.
LICENCES: Mapping[str, Licence] = {
    licence.spdx: licence
    for licence in (
        _cc("CC-BY-4.0", "Creative Commons Attribution 4.0 International", "licenses/by/4.0/"),
        _cc(
            "CC-BY-SA-4.0",
            "Creative Commons Attribution Share Alike 4.0 International",
            "licenses/by-sa/4.0/",
        ),
        _cc(
            "CC-BY-NC-4.0",
            "Creative Commons Attribution Non Commercial 4.0 International",
            "licenses/by-nc/4.0/",
        ),
        _cc(
            "CC-BY-NC-SA-4.0",
            "Creative Commons Attribution Non Commercial Share Alike 4.0 International",
            "licenses/by-nc-sa/4.0/",
        ),
        _cc(
            "CC-BY-ND-4.0",
            "Creative Commons Attribution No Derivatives 4.0 International",
            "licenses/by-nd/4.0/",
        ),
        _cc(
            "CC-BY-NC-ND-4.0",
            "Creative Commons Attribution Non Commercial No Derivatives 4.0 International",
            "licenses/by-nc-nd/4.0/",
        ),
        _cc("CC0-1.0", "Creative Commons Zero v1.0 Universal", "publicdomain/zero/1.0/"),
    )
}


def licence_for(value: str) -> Licence | None:
    """The known licence a stored licence string names (SPDX ids compare case-insensitively)."""
    wanted = value.strip().casefold()
    return next((licence for spdx, licence in LICENCES.items() if spdx.casefold() == wanted), None)


@dataclass(frozen=True)
class CitedAuthor:
    name: str  # as submitted
    kind: str  # human | agent
    orcid: str | None
    affiliation: str | None

    @property
    def is_person(self) -> bool:
        return self.kind == "human"

    @property
    def family_given(self) -> tuple[str, str]:
        """(family, given) for a person: "Family, Given" as written, else the last word is the
        family name ("Ada Lovelace" -> Lovelace, Ada). Agents have no such parts: ("", "")."""
        if not self.is_person:
            return "", ""
        name = " ".join(self.name.split())
        if "," in name:
            family, _, given = name.partition(",")
            return family.strip(), given.strip()
        given, _, family = name.rpartition(" ")
        return family, given

    @property
    def inverted_name(self) -> str:
        """ "Family, Given" for people (what DataCite, RIS and BibTeX expect), the name for agents."""
        family, given = self.family_given
        return f"{family}, {given}" if family and given else (family or self.name)

    @property
    def orcid_url(self) -> str | None:
        return f"{ORCID_URL}{self.orcid}" if self.orcid else None


@dataclass(frozen=True)
class CitationRecord:
    """What may be said about one version of an item, in no particular format."""

    identifier: str  # YYMM.NNNNN
    version: int
    latest_version: int
    kind: str  # paper | proposal
    status: str
    title: str
    abstract: str
    authors: tuple[CitedAuthor, ...]
    keywords: tuple[str, ...]
    categories: tuple[str, ...]
    licence: str  # as stored (an SPDX id for every item accepted today)
    ai_involvement: str
    version_created: datetime  # when this version was posted
    first_posted: datetime  # when the item's first version was posted
    updated: datetime
    publisher: str
    base_url: str
    has_pdf: bool
    source_format: str | None
    # Registered DOIs only: a DOI that does not resolve yet is not cited.
    doi: str | None = None
    concept_doi: str | None = None
    # Registered DOIs of the item's other versions, by version number.
    version_dois: Mapping[int, str] = field(default_factory=dict)

    @property
    def versioned_identifier(self) -> str:
        return f"{self.identifier}v{self.version}"

    @property
    def ai_generated(self) -> bool:
        return any(author.kind == "agent" for author in self.authors)

    @property
    def year(self) -> int:
        return self.version_created.year

    @property
    def landing_url(self) -> str:
        return f"{self.base_url}/abs/{self.versioned_identifier}"

    @property
    def concept_url(self) -> str:
        return f"{self.base_url}/abs/{self.identifier}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1/submissions/{self.versioned_identifier}"

    @property
    def pdf_url(self) -> str | None:
        return f"{self.api_url}/pdf" if self.has_pdf else None

    @property
    def source_url(self) -> str | None:
        return f"{self.api_url}/source" if self.source_format else None

    @property
    def source_media_type(self) -> str | None:
        return SOURCE_MEDIA_TYPES.get(self.source_format or "")

    @property
    def doi_url(self) -> str | None:
        return doi_url(self.doi) if self.doi else None

    @property
    def cite_url(self) -> str:
        """The one link to cite: the DOI when registered, else the permanent landing page."""
        return self.doi_url or self.landing_url

    @property
    def known_licence(self) -> Licence | None:
        return licence_for(self.licence)

    @property
    def licence_url(self) -> str | None:
        licence = self.known_licence
        return licence.url if licence else None

    @property
    def resource_type(self) -> str:
        return "Research proposal" if self.kind == "proposal" else "Preprint"

    def cite_export_url(self, format_name: str) -> str:
        return f"{self.api_url}/cite?format={format_name}"


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


def _author(row: AuthorView) -> CitedAuthor:
    return CitedAuthor(
        name=" ".join(row.name.split()),
        kind=row.kind,
        orcid=row.orcid or None,
        affiliation=(row.affiliation or "").strip() or None,
    )


def citation_record(
    submission: SubmissionView,
    version: VersionView,
    *,
    base_url: str,
    publisher: str,
    dois: Mapping[int | None, str] | None = None,
) -> CitationRecord:
    """The record of `version`; `dois` holds the item's registered DOIs by version number (None:
    the concept DOI naming the item as a whole)."""
    meta = VersionMeta.from_column(version.meta)
    known = dict(dois or {})
    return CitationRecord(
        identifier=submission.identifier,
        version=version.number,
        latest_version=submission.latest_version,
        kind=submission.kind,
        status=submission.status,
        title=" ".join(version.title.split()),
        abstract=version.abstract.strip(),
        authors=tuple(_author(row) for row in version.authors),
        keywords=tuple(meta.keywords),
        categories=tuple(meta.categories),
        licence=meta.licence,
        ai_involvement=meta.ai_involvement.strip(),
        version_created=version.created_at,
        first_posted=submission.created_at,
        updated=submission.updated_at,
        publisher=publisher,
        base_url=base_url.rstrip("/"),
        has_pdf=version.pdf_sha256 is not None,
        source_format=version.source_format,
        doi=known.get(version.number),
        concept_doi=known.get(None),
        version_dois={number: doi for number, doi in known.items() if number is not None},
    )


# ---------------------------------------------------------------------------- DataCite (kernel 4)


def _datacite_creator(author: CitedAuthor) -> dict[str, Any]:
    creator: dict[str, Any] = {"name": author.inverted_name}
    family, given = author.family_given
    if author.is_person:
        creator["nameType"] = "Personal"
        if family and given:
            creator["givenName"] = given
            creator["familyName"] = family
    else:
        # An AI agent is neither a person nor an organisation; DataCite has no third kind, and an
        # unsplit name with no type is what its schema allows for that.
        creator["name"] = author.name
    creator["nameIdentifiers"] = (
        [
            {
                "nameIdentifier": author.orcid_url,
                "nameIdentifierScheme": "ORCID",
                "schemeUri": "https://orcid.org",
            }
        ]
        if author.orcid_url
        else []
    )
    creator["affiliation"] = [{"name": author.affiliation}] if author.affiliation else []
    return creator


def _datacite_rights(record: CitationRecord) -> list[dict[str, Any]]:
    licence = record.known_licence
    if licence is None:
        return [{"rights": record.licence}] if record.licence else []
    return [
        {
            "rights": licence.name,
            "rightsUri": licence.legal_url,
            "rightsIdentifier": licence.spdx.lower(),
            "rightsIdentifierScheme": "SPDX",
            "schemeUri": "https://spdx.org/licenses/",
        }
    ]


def _related(identifier: str, relation: str) -> dict[str, str]:
    return {"relatedIdentifier": identifier, "relatedIdentifierType": "DOI", "relationType": relation}


def datacite_related_identifiers(record: CitationRecord, *, concept: bool) -> list[dict[str, str]]:
    """How the version DOIs and the concept DOI point at each other: the concept `HasVersion` each
    version; a version `IsVersionOf` the concept, `IsNewVersionOf` the nearest earlier version
    with a DOI and `IsPreviousVersionOf` the nearest later one."""
    if concept:
        return [_related(doi, "HasVersion") for _, doi in sorted(record.version_dois.items())]
    related: list[dict[str, str]] = []
    if record.concept_doi:
        related.append(_related(record.concept_doi, "IsVersionOf"))
    earlier = [number for number in record.version_dois if number < record.version]
    later = [number for number in record.version_dois if number > record.version]
    if earlier:
        related.append(_related(record.version_dois[max(earlier)], "IsNewVersionOf"))
    if later:
        related.append(_related(record.version_dois[min(later)], "IsPreviousVersionOf"))
    return related


def ai_statement(record: CitationRecord) -> str:
    statement = record.ai_involvement or "not stated"
    prefix = "AI-generated work (at least one author is an AI agent). " if record.ai_generated else ""
    return f"{prefix}AI involvement: {statement}"


def datacite_attributes(record: CitationRecord, *, doi: str | None, concept: bool = False) -> dict[str, Any]:
    """The `attributes` of a DataCite REST API DOI (metadata kernel 4): for a version, or with
    `concept` for the item as a whole (its URL is the page of the latest version)."""
    subjects: list[dict[str, str]] = [{"subject": keyword} for keyword in record.keywords]
    subjects += [{"subject": category, "subjectScheme": "arXiv"} for category in record.categories]
    descriptions = [{"description": ai_statement(record), "descriptionType": "TechnicalInfo"}]
    if record.abstract:
        descriptions.insert(0, {"description": record.abstract, "descriptionType": "Abstract"})
    identifier = record.identifier if concept else record.versioned_identifier
    attributes: dict[str, Any] = {
        "url": record.concept_url if concept else record.landing_url,
        "types": {"resourceTypeGeneral": "Preprint", "resourceType": record.resource_type},
        "creators": [_datacite_creator(author) for author in record.authors],
        "titles": [{"title": record.title}],
        "publisher": record.publisher,
        "publicationYear": record.first_posted.year if concept else record.year,
        "subjects": subjects,
        "dates": [
            {"date": record.first_posted.date().isoformat(), "dateType": "Submitted"},
            {"date": record.version_created.date().isoformat(), "dateType": "Issued"},
        ],
        "language": "en",
        "identifiers": [{"identifier": identifier, "identifierType": "arXiv-style identifier"}],
        "rightsList": _datacite_rights(record),
        "descriptions": descriptions,
        "relatedIdentifiers": datacite_related_identifiers(record, concept=concept),
        "schemaVersion": "http://datacite.org/schema/kernel-4",
    }
    if not concept:
        attributes["version"] = str(record.version)
    formats = ["application/pdf"] if record.has_pdf else []
    if record.source_media_type:
        formats.append(record.source_media_type)
    attributes["formats"] = formats
    if doi:
        attributes = {
            "doi": doi,
            "prefix": doi.split("/", 1)[0],
            "suffix": doi.split("/", 1)[1],
            **attributes,
        }
    return attributes


def records_by_version(
    submission: Submission,
    versions: Sequence[SubmissionVersion],
    *,
    base_url: str,
    publisher: str,
    dois: Mapping[int | None, str] | None = None,
) -> dict[int, CitationRecord]:
    """Records of several versions of one item (harvesters list every version)."""
    return {
        version.number: citation_record(
            submission, version, base_url=base_url, publisher=publisher, dois=dois
        )
        for version in versions
    }
