"""DOIs are minted when an item is published: the status event starts the job, the job writes
the DOI rows and registers them, and the item's API, page and exports show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from openxiv.accounts import service as accounts
from openxiv.db import transaction
from openxiv.models import Submission
from openxiv.models.publishing import Doi
from openxiv.publishing import jobs, service
from openxiv.publishing.settings import PublishingSettings
from openxiv.submissions import repository
from openxiv.submissions.lifecycle import Status
from tests.core.helpers import auth, register, version_body
from tests.publishing.conftest import Poster
from tests.publishing.datacite_server import FakeDataCite, running_datacite


def _dois(client: Any, identifier: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/submissions/{identifier}/dois")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _rows(runtime: Any) -> list[Doi]:
    with runtime.read_sessions() as session:
        return list(session.scalars(select(Doi).order_by(Doi.id)).all())


def _use_datacite(runtime: Any, fake: FakeDataCite, **options: Any) -> None:
    runtime.settings.publishing = PublishingSettings(
        registrar="datacite",
        datacite_url=fake.base_url,
        datacite_repository_id=fake.repository_id,
        datacite_password=fake.password,
        timeout_s=2,
        **options,
    )


class LaterJobs:
    """Records the retries a job asks for instead of letting the inline test queue drop them."""

    def __init__(self, runtime: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any], float]] = []
        runtime.queue.enqueue_job_later = lambda name, payload, delay: self.calls.append(
            (name, payload, delay)
        )


def test_publishing_mints_version_and_concept_dois_with_the_local_registrar(
    poster: Poster, client: Any, runtime: Any
) -> None:
    item = poster.post()
    identifier = item["id"]
    assert _dois(client, identifier) == {"concept": None, "versions": []}
    poster.move(identifier, Status.PROVISIONALLY_ACCEPTED)

    dois = _dois(client, identifier)
    assert dois["concept"]["doi"] == f"10.5072/openxiv.{identifier}"
    assert dois["concept"]["state"] == "registered"
    assert [(d["version"], d["doi"], d["state"]) for d in dois["versions"]] == [
        (1, f"10.5072/openxiv.{identifier}v1", "registered")
    ]
    assert dois["versions"][0]["url"] == f"https://doi.org/10.5072/openxiv.{identifier}v1"

    # The item's API response signposts the DOI as what to cite.
    response = client.get(f"/api/v1/submissions/{identifier}")
    assert f'<https://doi.org/10.5072/openxiv.{identifier}v1>; rel="cite-as"' in response.headers["link"]
    # ... and the page shows it.
    page = client.get(f"/abs/{identifier}").text
    assert f'href="https://doi.org/10.5072/openxiv.{identifier}v1"' in page
    assert "registration pending" not in page

    # Accepting it later mints nothing new and changes nothing.
    before = [(r.doi, r.state, r.attempts, r.registered_at) for r in _rows(runtime)]
    poster.move(identifier, Status.ACCEPTED)
    assert [(r.doi, r.state, r.attempts, r.registered_at) for r in _rows(runtime)] == before


def test_items_that_are_not_published_get_no_doi(poster: Poster, client: Any, runtime: Any) -> None:
    item = poster.post()
    poster.move(item["id"], Status.REJECTED)
    assert _dois(client, item["id"]) == {"concept": None, "versions": []}
    assert _rows(runtime) == []


def test_no_dois_when_the_registrar_is_off(poster: Poster, client: Any, runtime: Any) -> None:
    runtime.settings.publishing = PublishingSettings(registrar="off")
    item = poster.post()
    poster.move(item["id"], Status.PROVISIONALLY_ACCEPTED)
    assert _rows(runtime) == []
    link = client.get(f"/api/v1/submissions/{item['id']}").headers["link"]
    assert f'<http://127.0.0.1:8000/abs/{item["id"]}v1>; rel="cite-as"' in link


def test_datacite_registration_sends_the_full_metadata(poster: Poster, client: Any, runtime: Any) -> None:
    with running_datacite() as fake:
        _use_datacite(runtime, fake)
        item = poster.post(
            authors=[
                {
                    "kind": "human",
                    "name": "Ada Lovelace",
                    "orcid": "0000-0002-1825-0097",
                    "affiliation": "Analytical Society",
                },
                {"kind": "human", "name": "Babbage, Charles"},
            ],
            ai_involvement="Drafted with an LLM; every claim checked by the authors.",
            licence="CC-BY-SA-4.0",
        )
        identifier = item["id"]
        poster.move(identifier, Status.PROVISIONALLY_ACCEPTED)

        version_doi, concept_doi = f"10.5072/openxiv.{identifier}v1", f"10.5072/openxiv.{identifier}"
        assert fake.states == {version_doi: "findable", concept_doi: "findable"}
        sent = fake.dois[version_doi]
        assert sent["types"]["resourceTypeGeneral"] == "Preprint"
        assert sent["url"] == f"http://127.0.0.1:8000/abs/{identifier}v1"
        assert sent["creators"][0] == {
            "name": "Lovelace, Ada",
            "nameType": "Personal",
            "givenName": "Ada",
            "familyName": "Lovelace",
            "nameIdentifiers": [
                {
                    "nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                    "nameIdentifierScheme": "ORCID",
                    "schemeUri": "https://orcid.org",
                }
            ],
            "affiliation": [{"name": "Analytical Society"}],
        }
        assert sent["creators"][1]["familyName"] == "Babbage"
        assert sent["titles"] == [{"title": "Warm-up length and batch size in small transformers"}]
        assert sent["publisher"] == "OpenXiv"
        assert sent["publicationYear"] >= 2026
        assert sent["rightsList"][0]["rightsIdentifier"] == "cc-by-sa-4.0"
        assert sent["rightsList"][0]["rightsIdentifierScheme"] == "SPDX"
        assert (
            sent["rightsList"][0]["rightsUri"] == "https://creativecommons.org/licenses/by-sa/4.0/legalcode"
        )
        descriptions = {d["descriptionType"]: d["description"] for d in sent["descriptions"]}
        assert descriptions["Abstract"].startswith("We study how the learning-rate warm-up")
        assert "Drafted with an LLM; every claim checked by the authors." in descriptions["TechnicalInfo"]
        assert {
            "relatedIdentifier": concept_doi,
            "relatedIdentifierType": "DOI",
            "relationType": "IsVersionOf",
        } in sent["relatedIdentifiers"]
        concept = fake.dois[concept_doi]
        assert concept["url"] == f"http://127.0.0.1:8000/abs/{identifier}"
        assert concept["relatedIdentifiers"] == [
            {"relatedIdentifier": version_doi, "relatedIdentifierType": "DOI", "relationType": "HasVersion"}
        ]
        assert _dois(client, identifier)["versions"][0]["state"] == "registered"


def test_datacite_down_leaves_the_item_published_and_the_doi_pending_until_a_retry(
    poster: Poster, client: Any, runtime: Any
) -> None:
    later = LaterJobs(runtime)
    with running_datacite(mode="down") as fake:
        _use_datacite(runtime, fake)
        item = poster.post()
        identifier = item["id"]
        poster.move(identifier, Status.PROVISIONALLY_ACCEPTED)

        assert client.get(f"/api/v1/submissions/{identifier}").json()["status"] == "provisionally_accepted"
        dois = _dois(client, identifier)
        assert dois["versions"][0]["state"] == "pending" and dois["concept"]["state"] == "pending"
        rows = _rows(runtime)
        assert all(row.attempts == 1 and "HTTP 500" in (row.last_error or "") for row in rows)
        assert all(row.next_attempt_at is not None for row in rows)
        page = client.get(f"/abs/{identifier}").text
        assert f'10.5072/openxiv.{identifier}v1 <small class="pending">(registration pending)</small>' in page
        # Not registered yet, so not cited: the landing page is.
        link = client.get(f"/api/v1/submissions/{identifier}").headers["link"]
        assert f'<http://127.0.0.1:8000/abs/{identifier}v1>; rel="cite-as"' in link
        # One retry for the item, after the first delay of the schedule.
        assert later.calls == [(jobs.REGISTER_DOIS, {"submission_id": rows[0].submission_id}, 60.0)]

        fake.mode = "ok"
        name, payload, _ = later.calls[0]
        runtime.job_handlers[name](payload)  # the retry comes due

        dois = _dois(client, identifier)
        assert dois["versions"][0]["state"] == "registered" and dois["concept"]["state"] == "registered"
        assert set(fake.states.values()) == {"findable"}
        assert all(row.attempts == 2 and row.last_error is None for row in _rows(runtime))
        assert len(later.calls) == 1  # nothing more to retry
        # A repeated retry does nothing at all.
        requests = len(fake.requests)
        runtime.job_handlers[name](payload)
        assert len(fake.requests) == requests


def test_a_doi_is_failed_once_the_retries_are_spent(poster: Poster, client: Any, runtime: Any) -> None:
    later = LaterJobs(runtime)
    with running_datacite(mode="down") as fake:
        _use_datacite(runtime, fake, retry_schedule_s=[5.0])
        item = poster.post()
        poster.move(item["id"], Status.PROVISIONALLY_ACCEPTED)
        assert [delay for _, _, delay in later.calls] == [5.0]
        runtime.job_handlers[jobs.REGISTER_DOIS](later.calls[0][1])
        assert len(later.calls) == 1  # the schedule is spent: no further retry
        dois = _dois(client, item["id"])
        assert dois["versions"][0]["state"] == "failed"
        assert client.get(f"/api/v1/submissions/{item['id']}").json()["status"] == "provisionally_accepted"

        # Once the registrar works again, a moderator puts the failed DOIs back in line; the
        # registration is queued (and, on the inline test queue, runs at once).
        fake.mode = "ok"
        retry = f"/api/v1/submissions/{item['id']}/dois/retry"
        assert client.post(retry).status_code == 401
        assert client.post(retry, headers=auth(poster.token)).status_code == 403
        moderator = _moderator(client, runtime)
        response = client.post(retry, headers=auth(moderator))
        assert response.status_code == 200, response.text
        assert response.json() == {"requeued": 2}
        dois = _dois(client, item["id"])
        assert dois["versions"][0]["state"] == "registered" and dois["concept"]["state"] == "registered"
        assert client.post(retry, headers=auth(moderator)).json() == {"requeued": 0}


def _moderator(client: Any, runtime: Any) -> str:
    account_id = register(client, email="moderator@example.org")["account"]["id"]
    with transaction(runtime.write_sessions) as session:
        account = accounts.get_account(session, account_id)
        accounts.set_roles(session, account, ["author", "moderator"])
        return accounts.issue_key(session, account, scopes=["read", "moderate"]).token


def test_an_already_taken_doi_is_updated_and_the_row_registered(
    poster: Poster, client: Any, runtime: Any
) -> None:
    with running_datacite() as fake:
        _use_datacite(runtime, fake)
        item = poster.post()
        identifier = item["id"]
        # DataCite has the DOI from an earlier attempt whose answer never arrived.
        version_doi = f"10.5072/openxiv.{identifier}v1"
        fake.dois[version_doi] = {"titles": [{"title": "stale"}]}
        fake.states[version_doi] = "draft"
        poster.move(identifier, Status.PROVISIONALLY_ACCEPTED)
        assert fake.states[version_doi] == "findable"
        assert fake.dois[version_doi]["titles"] == [
            {"title": "Warm-up length and batch size in small transformers"}
        ]
        assert _dois(client, identifier)["versions"][0]["state"] == "registered"


def test_a_newer_published_version_updates_the_links_of_the_older_ones(
    poster: Poster, client: Any, runtime: Any
) -> None:
    with running_datacite() as fake:
        _use_datacite(runtime, fake)
        item = poster.post()
        identifier = item["id"]
        response = client.post(
            f"/api/v1/submissions/{identifier}/versions",
            headers=auth(poster.token),
            json=version_body(title="Warm-up length and batch size, revised"),
        )
        assert response.status_code == 201, response.text
        # v1 had been published before v2 was posted (as a later lifecycle may allow): its DOIs
        # exist and are registered.
        with transaction(runtime.write_sessions) as session:
            submission = repository.by_identifier(session, identifier)
            assert submission is not None
            service.reserve(session, runtime.settings, "datacite", submission, 1)
            submission_id = submission.id
        jobs.register_dois(
            runtime.write_sessions, runtime.queue, runtime.settings, {"submission_id": submission_id}
        )
        v1, v2, concept = (f"10.5072/openxiv.{identifier}{suffix}" for suffix in ("v1", "v2", ""))
        assert fake.dois[v1]["relatedIdentifiers"] == [
            {"relatedIdentifier": concept, "relatedIdentifierType": "DOI", "relationType": "IsVersionOf"}
        ]

        poster.move(identifier, Status.PROVISIONALLY_ACCEPTED)  # v2 is the latest

        relations = {
            doi: {(r["relationType"], r["relatedIdentifier"]) for r in fake.dois[doi]["relatedIdentifiers"]}
            for doi in (v1, v2, concept)
        }
        assert relations[v1] == {("IsVersionOf", concept), ("IsPreviousVersionOf", v2)}
        assert relations[v2] == {("IsVersionOf", concept), ("IsNewVersionOf", v1)}
        assert relations[concept] == {("HasVersion", v1), ("HasVersion", v2)}
        # The concept DOI now describes the item by its latest version.
        assert fake.dois[concept]["titles"] == [{"title": "Warm-up length and batch size, revised"}]
        assert not any(row.stale for row in _rows(runtime))
        with runtime.read_sessions() as session:
            assert session.scalar(select(func.count()).select_from(Doi)) == 3
            assert session.get(Submission, submission_id) is not None
