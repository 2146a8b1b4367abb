"""The OAI-PMH metadata formats, written from publishing's neutral `CitationRecord` (the one
mapping every outside format shares): `oai_dc` (simple Dublin Core) and `oai_datacite` (DataCite
kernel 4 inside DataCite's OAI wrapper)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from openxiv.discovery.xmltext import clean
from openxiv.publishing.metadata import CitationRecord, ai_statement, datacite_attributes

XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
DATACITE = "http://datacite.org/schema/kernel-4"
for _prefix, _uri in (
    ("xsi", XSI),
    ("oai_dc", OAI_DC),
    ("dc", DC),
    ("oai_datacite", OAI_DATACITE),
    ("datacite", DATACITE),
):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    write: Callable[[CitationRecord, ET.Element], None]


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: clean(v) for k, v in attributes.items()})
    if text is not None:
        element.text = clean(text)
    return element


def write_oai_dc(record: CitationRecord, parent: ET.Element) -> None:
    root = _add(
        parent,
        f"{{{OAI_DC}}}dc",
        **{f"{{{XSI}}}schemaLocation": f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"},
    )

    def dc(name: str, value: str) -> None:
        if value:
            _add(root, f"{{{DC}}}{name}", value)

    dc("title", record.title)
    for author in record.authors:
        dc("creator", author.inverted_name)
    for subject in (*record.categories, *record.keywords):
        dc("subject", subject)
    dc("description", record.abstract)
    dc("description", ai_statement(record))
    dc("publisher", record.publisher)
    dc("date", record.version_created.date().isoformat())
    dc("type", "Text")
    dc("type", record.resource_type)
    dc("identifier", record.landing_url)
    if record.doi and record.doi_url:
        # Both spellings: harvesters match `doi:` (arXiv's and OpenAIRE's form), readers follow the URL.
        dc("identifier", f"doi:{record.doi}")
        dc("identifier", record.doi_url)
    if record.pdf_url:
        dc("format", "application/pdf")
    dc("language", "en")
    dc("rights", record.licence_url or record.licence)


def write_oai_datacite(record: CitationRecord, parent: ET.Element) -> None:
    attributes = datacite_attributes(record, doi=record.doi)
    wrapper = _add(
        parent,
        f"{{{OAI_DATACITE}}}oai_datacite",
        **{f"{{{XSI}}}schemaLocation": f"{OAI_DATACITE} http://schema.datacite.org/oai/oai-1.1/oai.xsd"},
    )
    _add(wrapper, f"{{{OAI_DATACITE}}}schemaVersion", "4")
    _add(wrapper, f"{{{OAI_DATACITE}}}datacentreSymbol", record.publisher)
    payload = _add(wrapper, f"{{{OAI_DATACITE}}}payload")
    _datacite_resource(attributes, record, payload)


def _datacite_resource(attributes: dict[str, Any], record: CitationRecord, parent: ET.Element) -> None:
    def tag(name: str) -> str:
        return f"{{{DATACITE}}}{name}"

    resource = _add(
        parent,
        tag("resource"),
        **{f"{{{XSI}}}schemaLocation": f"{DATACITE} http://schema.datacite.org/meta/kernel-4/metadata.xsd"},
    )
    # Kernel 4 names the resource by a DOI; before one is registered the landing page stands in.
    if attributes.get("doi"):
        _add(resource, tag("identifier"), attributes["doi"], identifierType="DOI")
    else:
        _add(resource, tag("identifier"), record.landing_url, identifierType="URL")
    creators = _add(resource, tag("creators"))
    for creator in attributes["creators"]:
        element = _add(creators, tag("creator"))
        name_type = {"nameType": creator["nameType"]} if "nameType" in creator else {}
        _add(element, tag("creatorName"), creator["name"], **name_type)
        if creator.get("givenName"):
            _add(element, tag("givenName"), creator["givenName"])
            _add(element, tag("familyName"), creator["familyName"])
        for identifier in creator.get("nameIdentifiers", []):
            _add(
                element,
                tag("nameIdentifier"),
                identifier["nameIdentifier"],
                nameIdentifierScheme=identifier["nameIdentifierScheme"],
                schemeURI=identifier["schemeUri"],
            )
        for affiliation in creator.get("affiliation", []):
            _add(element, tag("affiliation"), affiliation["name"])
    titles = _add(resource, tag("titles"))
    for title in attributes["titles"]:
        _add(titles, tag("title"), title["title"])
    _add(resource, tag("publisher"), attributes["publisher"])
    _add(resource, tag("publicationYear"), str(attributes["publicationYear"]))
    types = attributes["types"]
    _add(
        resource, tag("resourceType"), types["resourceType"], resourceTypeGeneral=types["resourceTypeGeneral"]
    )
    if attributes["subjects"]:
        subjects = _add(resource, tag("subjects"))
        for subject in attributes["subjects"]:
            scheme = {"subjectScheme": subject["subjectScheme"]} if "subjectScheme" in subject else {}
            _add(subjects, tag("subject"), subject["subject"], **scheme)
    dates = _add(resource, tag("dates"))
    for when in attributes["dates"]:
        _add(dates, tag("date"), when["date"], dateType=when["dateType"])
    _add(resource, tag("language"), attributes["language"])
    alternates = _add(resource, tag("alternateIdentifiers"))
    for identifier in attributes["identifiers"]:
        _add(
            alternates,
            tag("alternateIdentifier"),
            identifier["identifier"],
            alternateIdentifierType=identifier["identifierType"],
        )
    if attributes["relatedIdentifiers"]:
        related = _add(resource, tag("relatedIdentifiers"))
        for item in attributes["relatedIdentifiers"]:
            _add(
                related,
                tag("relatedIdentifier"),
                item["relatedIdentifier"],
                relatedIdentifierType=item["relatedIdentifierType"],
                relationType=item["relationType"],
            )
    if attributes.get("formats"):
        formats = _add(resource, tag("formats"))
        for media_type in attributes["formats"]:
            _add(formats, tag("format"), media_type)
    if attributes.get("version"):
        _add(resource, tag("version"), attributes["version"])
    if attributes["rightsList"]:
        rights_list = _add(resource, tag("rightsList"))
        for rights in attributes["rightsList"]:
            extra = {
                xml_name: rights[json_name]
                for json_name, xml_name in (
                    ("rightsUri", "rightsURI"),
                    ("rightsIdentifier", "rightsIdentifier"),
                    ("rightsIdentifierScheme", "rightsIdentifierScheme"),
                    ("schemeUri", "schemeURI"),
                )
                if rights.get(json_name)
            }
            _add(rights_list, tag("rights"), rights["rights"], **extra)
    descriptions = _add(resource, tag("descriptions"))
    for description in attributes["descriptions"]:
        _add(
            descriptions,
            tag("description"),
            description["description"],
            descriptionType=description["descriptionType"],
        )


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat(
        "oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC, write_oai_dc
    ),
    "oai_datacite": MetadataFormat(
        "oai_datacite", "http://schema.datacite.org/oai/oai-1.1/oai.xsd", OAI_DATACITE, write_oai_datacite
    ),
}
