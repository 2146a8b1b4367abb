"""OAI-PMH harvested end to end with sickle against the app served on loopback: every verb, both
formats, sets, date ranges, resumption across pages, deleted records, and every error code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import httpx
import pytest
from sickle import Sickle
from sickle import oaiexceptions as oai_errors
from sqlalchemy import select, update

from openxiv.config import Settings
from openxiv.db import transaction
from openxiv.discovery.settings import DiscoverySettings
from openxiv.models import Submission
from openxiv.models.discovery import DiscoveryEntry
from openxiv.models.publishing import Doi
from openxiv.submissions.lifecycle import Status
from tests.discovery.support import author_token, move, post_item, publish, served

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
DATACITE = "{http://datacite.org/schema/kernel-4}"


@pytest.fixture
def db_backend() -> str:
    return "sqlite"  # the harvest exercises the protocol; both databases run the search tests


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"discovery": DiscoverySettings(oai_page_size=2)})


@pytest.fixture
def harvest(client: Any, runtime: Any, app: Any) -> Any:
    token = author_token(client)
    ids = {
        "a": publish(
            client, runtime, token, title="Warm-up schedules <script>alert(1)</script>", categories=["cs.LG"]
        ),
        "b": publish(client, runtime, token, title="Sparse attention at scale", categories=["cs.CL"]),
        "c": publish(
            client, runtime, token, title="Proposal on curricula", kind="proposal", categories=["cs.LG"]
        ),
        "d": publish(client, runtime, token, title="Withdrawn after acceptance", categories=["cs.LG"]),
        "e": publish(client, runtime, token, title="Fifth published item", categories=["stat.ML"]),
        "under_review": post_item(client, token, title="Still under review"),
    }
    move(runtime, ids["d"], Status.WITHDRAWN)
    with served(app) as url:
        yield url, ids


def test_full_harvest_with_resumption_deleted_records_and_formats(harvest: Any) -> None:
    url, ids = harvest
    sickle = Sickle(f"{url}/oai")
    identify = sickle.Identify()
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.protocolVersion == "2.0"
    prefixes = {f.metadataPrefix for f in sickle.ListMetadataFormats()}
    assert prefixes == {"oai_dc", "oai_datacite"}

    # Five records at two per page: three pages, followed through the resumption tokens.
    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))
    by_id = {r.header.identifier.rsplit(":", 1)[1]: r for r in records}
    assert set(by_id) == {ids[k] for k in "abcde"}  # the item under review is not harvested
    withdrawn = by_id[ids["d"]]
    assert withdrawn.header.deleted and withdrawn.xml.find(f"{OAI}metadata") is None
    live = by_id[ids["a"]]
    assert not live.header.deleted
    assert live.metadata["title"] == ["Warm-up schedules <script>alert(1)</script>"]  # text, not markup
    assert live.metadata["creator"] == ["Example, Ada"]
    assert "cs.LG" in live.metadata["subject"]
    assert "category:cs.LG" in live.header.setSpecs and "kind:paper" in live.header.setSpecs

    datacite = list(sickle.ListRecords(metadataPrefix="oai_datacite"))
    assert len(datacite) == 5
    first = next(r for r in datacite if r.header.identifier.endswith(ids["b"]))
    resource = first.xml.find(f".//{DATACITE}resource")
    assert resource is not None
    assert resource.findtext(f"{DATACITE}titles/{DATACITE}title") == "Sparse attention at scale"
    resource_type = resource.find(f"{DATACITE}resourceType")
    assert resource_type is not None and resource_type.get("resourceTypeGeneral") == "Preprint"

    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))
    assert len(headers) == 5
    record = sickle.GetRecord(identifier=live.header.identifier, metadataPrefix="oai_dc")
    assert record.metadata["title"] == live.metadata["title"]


def test_records_carry_the_registered_doi(harvest: Any, runtime: Any) -> None:
    url, ids = harvest
    doi = f"10.5072/openxiv.{ids['b']}v1"  # the local registrar's, registered when published
    with transaction(runtime.write_sessions) as session:
        registered = session.scalars(
            select(Doi)
            .join(Submission, Submission.id == Doi.submission_id)
            .where(Submission.identifier == ids["b"])
        ).all()
        assert {d.doi: d.state for d in registered} == {doi: "registered", doi[:-2]: "registered"}
        entry = session.scalar(select(DiscoveryEntry).where(DiscoveryEntry.identifier == ids["b"]))
        assert entry is not None
        # The record changed when its DOI appeared: incremental harvests (from=) fetch it again.
        assert entry.datestamp == max(d.registered_at for d in registered if d.registered_at)
        # A DOI the registrar has not taken yet is not cited.
        session.execute(
            update(Doi)
            .where(
                Doi.submission_id
                == select(Submission.id).where(Submission.identifier == ids["e"]).scalar_subquery()
            )
            .values(state="pending")
        )
    sickle = Sickle(f"{url}/oai")
    identifier = f"oai:127.0.0.1:{ids['b']}"
    dc = sickle.GetRecord(identifier=identifier, metadataPrefix="oai_dc").metadata
    assert f"doi:{doi}" in dc["identifier"] and f"https://doi.org/{doi}" in dc["identifier"]
    datacite = sickle.GetRecord(identifier=identifier, metadataPrefix="oai_datacite").xml
    named = datacite.find(f".//{DATACITE}resource/{DATACITE}identifier")
    assert named is not None and (named.text, named.get("identifierType")) == (doi, "DOI")
    # Whole pages carry them too, and only for the items whose DOI is registered.
    listed = {r.header.identifier.rsplit(":", 1)[1]: r for r in sickle.ListRecords(metadataPrefix="oai_dc")}
    assert f"doi:{doi}" in listed[ids["b"]].metadata["identifier"]
    assert not [i for i in listed[ids["e"]].metadata["identifier"] if "doi" in i]
    pending = sickle.GetRecord(identifier=f"oai:127.0.0.1:{ids['e']}", metadataPrefix="oai_datacite").xml
    landing = pending.find(f".//{DATACITE}resource/{DATACITE}identifier")
    assert landing is not None and landing.get("identifierType") == "URL"


def test_resumption_tokens_carry_size_and_cursor(harvest: Any) -> None:
    url, _ = harvest
    first = ET.fromstring(
        httpx.get(f"{url}/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).content
    )
    token = first.find(f".//{OAI}resumptionToken")
    assert token is not None and token.text
    assert (token.get("completeListSize"), token.get("cursor")) == ("5", "0")
    # POST works the same as GET.
    second = ET.fromstring(
        httpx.post(f"{url}/oai", data={"verb": "ListIdentifiers", "resumptionToken": token.text}).content
    )
    following = second.find(f".//{OAI}resumptionToken")
    assert following is not None and following.get("cursor") == "2"
    third = ET.fromstring(
        httpx.get(f"{url}/oai", params={"verb": "ListIdentifiers", "resumptionToken": following.text}).content
    )
    last = third.find(f".//{OAI}resumptionToken")
    assert last is not None and not last.text and last.get("cursor") == "4"
    assert len(third.findall(f".//{OAI}header")) == 1


def test_sets_and_date_ranges(harvest: Any) -> None:
    url, ids = harvest
    sickle = Sickle(f"{url}/oai")
    specs = {s.setSpec for s in sickle.ListSets()}
    assert {
        "category",
        "kind",
        "category:cs.LG",
        "category:cs.CL",
        "category:stat.ML",
        "kind:paper",
        "kind:proposal",
    } <= specs
    in_lg = {
        h.identifier.rsplit(":", 1)[1]
        for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", set="category:cs.LG")
    }
    assert in_lg == {ids["a"], ids["c"], ids["d"]}
    proposals = {
        h.identifier.rsplit(":", 1)[1]
        for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", set="kind:proposal")
    }
    assert proposals == {ids["c"]}
    today = datetime.now(UTC).date()
    window = {
        "from": (today - timedelta(days=1)).isoformat(),
        "until": (today + timedelta(days=1)).isoformat(),
    }
    assert len(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **window))) == 5
    now = datetime.now(UTC) + timedelta(seconds=2)
    assert (
        len(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", until=now.strftime("%Y-%m-%dT%H:%M:%SZ"))))
        == 5
    )
    with pytest.raises(oai_errors.NoRecordsMatch):
        list(
            sickle.ListIdentifiers(
                metadataPrefix="oai_dc", **{"from": (today + timedelta(days=2)).isoformat()}
            )
        )


def _error(url: str, params: dict[str, str] | list[tuple[str, str]]) -> str:
    pairs = list(params.items()) if isinstance(params, dict) else params
    document = ET.fromstring(httpx.get(f"{url}/oai?{urlencode(pairs)}").content)
    error = document.find(f"{OAI}error")
    assert error is not None, ET.tostring(document)
    # A request with bad arguments is echoed without them.
    if error.get("code") in ("badVerb", "badArgument"):
        assert document.find(f"{OAI}request").attrib == {}  # type: ignore[union-attr]
    return str(error.get("code"))


def test_every_error_code(harvest: Any) -> None:
    url, ids = harvest
    assert _error(url, {}) == "badVerb"
    assert _error(url, {"verb": "Harvest"}) == "badVerb"
    assert _error(url, [("verb", "Identify"), ("verb", "Identify")]) == "badVerb"
    assert _error(url, {"verb": "Identify", "extra": "1"}) == "badArgument"
    assert _error(url, {"verb": "ListRecords"}) == "badArgument"
    assert _error(url, {"verb": "GetRecord", "metadataPrefix": "oai_dc"}) == "badArgument"
    assert (
        _error(url, [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")])
        == "badArgument"
    )
    assert (
        _error(url, {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}) == "badArgument"
    )
    mixed = {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "from": "2026-01-01",
        "until": "2026-12-01T00:00:00Z",
    }
    assert _error(url, mixed) == "badArgument"
    backwards = {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "from": "2026-12-02",
        "until": "2026-12-01",
    }
    assert _error(url, backwards) == "badArgument"
    assert (
        _error(url, {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "colour:blue"})
        == "badArgument"
    )
    assert (
        _error(url, {"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"})
        == "badArgument"
    )
    assert _error(url, {"verb": "ListRecords", "resumptionToken": "not-a-token"}) == "badResumptionToken"
    assert _error(url, {"verb": "ListSets", "resumptionToken": "anything"}) == "badResumptionToken"
    assert _error(url, {"verb": "ListRecords", "metadataPrefix": "marc21"}) == "cannotDisseminateFormat"
    assert (
        _error(
            url, {"verb": "GetRecord", "metadataPrefix": "mods", "identifier": f"oai:127.0.0.1:{ids['a']}"}
        )
        == "cannotDisseminateFormat"
    )
    assert (
        _error(
            url, {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:127.0.0.1:9999.99999"}
        )
        == "idDoesNotExist"
    )
    # An item that is public but not published is not a record either.
    unpublished = f"oai:127.0.0.1:{ids['under_review']}"
    assert (
        _error(url, {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": unpublished})
        == "idDoesNotExist"
    )
    assert _error(url, {"verb": "ListMetadataFormats", "identifier": "nonsense"}) == "idDoesNotExist"
    future = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2999-01-01"}
    assert _error(url, future) == "noRecordsMatch"
    # sickle maps the codes to its exceptions.
    with pytest.raises(oai_errors.CannotDisseminateFormat):
        list(Sickle(f"{url}/oai").ListRecords(metadataPrefix="marc21"))
