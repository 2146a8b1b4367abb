"""The registrar adapters: DataCite's REST API against a loopback server that speaks it, and the
local registrar's DOI names."""

from __future__ import annotations

import time
from typing import Any

import pytest

from openxiv.publishing.ports import RegistrarError, doi_for
from openxiv.publishing.registrars import DataCiteRegistrar, LocalRegistrar, make_registrar
from openxiv.publishing.settings import PublishingSettings
from tests.publishing.datacite_server import FakeDataCite, running_datacite

DOI = "10.5072/openxiv.2612.00001v1"


def attributes(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": "https://openxiv.example/abs/2612.00001v1",
        "creators": [{"name": "Example, Ada", "nameType": "Personal"}],
        "titles": [{"title": "Warm-up length and batch size"}],
        "publisher": "OpenXiv",
        "publicationYear": 2026,
        "types": {"resourceTypeGeneral": "Preprint"},
    }
    body.update(overrides)
    return body


def registrar(fake: FakeDataCite, **options: Any) -> DataCiteRegistrar:
    return DataCiteRegistrar(
        fake.base_url,
        options.pop("user", fake.repository_id),
        options.pop("password", fake.password),
        **options,
    )


def test_a_new_doi_is_created_as_a_draft_then_published() -> None:
    with running_datacite() as fake:
        registrar(fake).register(DOI, attributes())
        assert fake.states[DOI] == "findable"
        assert [(method, path) for method, path, _ in fake.requests] == [
            ("POST", "/dois"),
            ("PUT", f"/dois/{DOI}"),
        ]
        post, put = fake.requests[0][2], fake.requests[1][2]
        assert post is not None and put is not None
        assert "event" not in post["data"]["attributes"]  # a draft first
        assert put["data"]["attributes"]["event"] == "publish"
        assert fake.dois[DOI]["titles"] == [{"title": "Warm-up length and batch size"}]


def test_a_doi_datacite_already_has_is_updated_not_refused() -> None:
    with running_datacite() as fake:
        registrar(fake).register(DOI, attributes())
        registrar(fake).register(DOI, attributes(titles=[{"title": "A corrected title"}]))
        assert fake.states[DOI] == "findable"
        assert fake.dois[DOI]["titles"] == [{"title": "A corrected title"}]
        assert [method for method, _, _ in fake.requests] == ["POST", "PUT", "POST", "PUT"]


def test_missing_required_metadata_is_a_permanent_refusal() -> None:
    with running_datacite() as fake:
        with pytest.raises(RegistrarError) as refused:
            registrar(fake).register(DOI, attributes(publisher="", publicationYear=None))
        assert refused.value.permanent
        assert "publisher can't be blank" in str(refused.value)
        assert "publicationYear can't be blank" in str(refused.value)
        assert fake.states[DOI] == "draft"  # created, never findable


def test_wrong_credentials_are_refused_and_retried_later() -> None:
    with running_datacite() as fake:
        with pytest.raises(RegistrarError) as refused:
            registrar(fake, password="wrong").register(DOI, attributes())
        assert not refused.value.permanent  # fixing the settings makes the next attempt pass
        assert "HTTP 401" in str(refused.value)
        assert fake.dois == {}


def test_a_server_error_is_retryable() -> None:
    with running_datacite(mode="down") as fake:
        with pytest.raises(RegistrarError) as refused:
            registrar(fake).register(DOI, attributes())
        assert not refused.value.permanent
        assert "HTTP 500" in str(refused.value)


def test_a_server_that_does_not_answer_in_time_is_retryable() -> None:
    with running_datacite(mode="slow", slow_s=2.0) as fake:
        started = time.monotonic()
        with pytest.raises(RegistrarError) as refused:
            registrar(fake, timeout_s=0.3).register(DOI, attributes())
        assert time.monotonic() - started < 1.8
        assert not refused.value.permanent
        assert "no answer within 0.3 s" in str(refused.value)


def test_an_unreachable_server_is_retryable() -> None:
    with running_datacite() as fake:
        url = fake.base_url
    # The server is gone: connection refused.
    with pytest.raises(RegistrarError) as refused:
        DataCiteRegistrar(url, "OPENXIV.TEST", "pw", timeout_s=2).register(DOI, attributes())
    assert not refused.value.permanent
    assert "unreachable" in str(refused.value)


def test_datacite_needs_credentials() -> None:
    with pytest.raises(ValueError, match="datacite_repository_id"):
        make_registrar(PublishingSettings(registrar="datacite"))


def test_local_names_are_deterministic_and_need_no_network() -> None:
    assert doi_for("10.5072", "openxiv", "2612.00001", None) == "10.5072/openxiv.2612.00001"
    assert doi_for("10.5072", "openxiv", "2612.00001", 3) == "10.5072/openxiv.2612.00001v3"
    assert doi_for("10.5072", "openxiv", "2612.00001", 3) == doi_for("10.5072", "openxiv", "2612.00001", 3)
    assert doi_for("10.5072", "openxiv", "2612.00002", 3) != doi_for("10.5072", "openxiv", "2612.00001", 3)
    local = make_registrar(PublishingSettings())
    assert isinstance(local, LocalRegistrar)
    local.register(DOI, attributes())  # nothing to reach, nothing to fail
    with pytest.raises(RegistrarError):
        local.register(DOI, attributes(url=""))
    assert make_registrar(PublishingSettings(registrar="off")) is None


def test_prefix_and_namespace_are_validated() -> None:
    with pytest.raises(ValueError):
        PublishingSettings(prefix="11.5072")
    with pytest.raises(ValueError):
        PublishingSettings(suffix_namespace="Open Xiv")
