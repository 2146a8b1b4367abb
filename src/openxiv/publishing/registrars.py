"""Registrar adapters: `local` (no network) and `datacite` (DataCite REST API, JSON:API)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import httpx

import openxiv
from openxiv.publishing.ports import Registrar, RegistrarError
from openxiv.publishing.settings import PublishingSettings

logger = logging.getLogger("openxiv.publishing")
JSON_API = "application/vnd.api+json"
MAX_ERROR_CHARS = 500


class LocalRegistrar:
    """DOIs under the configured prefix that only this instance knows of: registering one means
    recording it here, so it can never fail. Meant for development and for instances whose
    prefix is resolved by other means."""

    name = "local"

    def register(self, doi: str, attributes: dict[str, Any]) -> None:
        if not attributes.get("url"):
            raise RegistrarError(f"{doi}: no URL to register", permanent=True)


class DataCiteRegistrar:
    """DataCite's REST API: the DOI is created as a draft (`POST /dois`), then made findable
    (`PUT /dois/{doi}` with `event: publish`). A DOI DataCite already has (a retry after a crash,
    or new metadata after a newer version) answers the POST with 422 "already been taken"; the
    PUT then updates it, so registering twice is harmless."""

    name = "datacite"

    def __init__(
        self,
        base_url: str,
        repository_id: str,
        password: str,
        *,
        timeout_s: float = 20.0,
        client: httpx.Client | None = None,
    ) -> None:
        if not (repository_id and password):
            raise ValueError(
                "publishing.registrar = 'datacite' needs datacite_repository_id and datacite_password"
            )
        self._base_url = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(repository_id, password)
        self._timeout_s = timeout_s
        self._client = client

    def register(self, doi: str, attributes: dict[str, Any]) -> None:
        draft = {key: value for key, value in attributes.items() if key != "event"}
        draft["doi"] = doi
        created = self._send("POST", "/dois", draft)
        if created.status_code == 201:
            logger.info("datacite: %s created as a draft", doi)
        elif created.status_code == 422 and _already_taken(created):
            logger.info("datacite: %s exists; updating it", doi)
        else:
            raise _refusal("create", doi, created)
        published = self._send("PUT", f"/dois/{quote(doi, safe='/')}", {**draft, "event": "publish"})
        if published.status_code != 200:
            raise _refusal("publish", doi, published)
        state = _json(published).get("data", {}).get("attributes", {}).get("state")
        if state not in (None, "findable"):
            raise RegistrarError(f"datacite: {doi} is {state!r} after the publish event")

    def _send(self, method: str, path: str, attributes: dict[str, Any]) -> httpx.Response:
        body = {"data": {"type": "dois", "attributes": attributes}}
        headers = {
            "Content-Type": JSON_API,
            "Accept": JSON_API,
            "User-Agent": f"OpenXiv/{openxiv.__version__}",
        }
        http = self._client or httpx.Client(timeout=self._timeout_s, follow_redirects=False, trust_env=False)
        try:
            return http.request(
                method,
                f"{self._base_url}{path}",
                content=json.dumps(body).encode(),
                headers=headers,
                auth=self._auth,
                timeout=self._timeout_s,
            )
        except httpx.TimeoutException:
            raise RegistrarError(f"datacite: no answer within {self._timeout_s:g} s") from None
        except httpx.HTTPError as error:
            raise RegistrarError(
                f"datacite unreachable: {type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
            ) from None
        finally:
            if self._client is None:
                http.close()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _already_taken(response: httpx.Response) -> bool:
    errors = _json(response).get("errors") or []
    return any(
        isinstance(error, dict) and "already been taken" in str(error.get("title", "")) for error in errors
    )


def _refusal(step: str, doi: str, response: httpx.Response) -> RegistrarError:
    errors = _json(response).get("errors") or []
    titles = "; ".join(str(error.get("title", "")) for error in errors if isinstance(error, dict))
    detail = titles or response.text[:200].strip()
    message = f"datacite {step} {doi}: HTTP {response.status_code}" + (f": {detail}" if detail else "")
    # DataCite's 422 says the metadata itself is wrong, which no retry changes; a refused login
    # (401/403) may be fixed in the settings, and anything else may pass.
    return RegistrarError(message[:MAX_ERROR_CHARS], permanent=response.status_code in (400, 422))


def make_registrar(settings: PublishingSettings) -> Registrar | None:
    """The configured registrar, or None when DOIs are switched off."""
    if settings.registrar == "off":
        return None
    if settings.registrar == "datacite":
        return DataCiteRegistrar(
            settings.datacite_url,
            settings.datacite_repository_id,
            settings.datacite_password,
            timeout_s=settings.timeout_s,
        )
    return LocalRegistrar()
