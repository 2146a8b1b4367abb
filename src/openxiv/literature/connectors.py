"""Semantic Scholar, the arXiv API and OpenAlex, each turned into `RecordIn`s.

All three go through `ScholarlyClient`, so they share its throttling, cache and offline switch.
Their errors surface as `ExternalServiceError` (or a subclass) with a readable reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from openxiv.literature.formats.s2json import paper_to_record
from openxiv.literature.formats.xmlfeeds import parse_xml
from openxiv.literature.http import ExternalServiceError, Response, ScholarlyClient
from openxiv.literature.records import RecordIn, Rejection, authors_list, finish, parse_year
from openxiv.models.base import utcnow

S2_FIELDS = "paperId,externalIds,title,abstract,year,venue,authors,url,citationCount"


def _checked_json(service: str, response: Response) -> Any:
    if response.status_code != 200:
        detail = response.text[:200].strip().replace("\n", " ")
        raise ExternalServiceError(service, f"HTTP {response.status_code}: {detail}")
    try:
        return response.json()
    except json.JSONDecodeError as error:
        raise ExternalServiceError(service, f"answered with invalid JSON ({error.msg})") from error


def _stamp(records: list[RecordIn]) -> list[RecordIn]:
    """Normalised records with their fetch time; ones without a usable title are dropped."""
    now = utcnow()
    kept = [record for record in records if isinstance(finish(record), RecordIn)]
    for record in kept:
        record.fetched_at = now
    return kept


class SemanticScholar:
    name = "semantic_scholar"

    def __init__(self, client: ScholarlyClient) -> None:
        self.client = client

    def _headers(self) -> Mapping[str, str]:
        key = self.client.settings.semantic_scholar_api_key
        return {"x-api-key": key} if key else {}

    def search(self, query: str, limit: int = 10) -> list[RecordIn]:
        response = self.client.get(
            self.name,
            "/graph/v1/paper/search",
            {"query": query[:500], "limit": limit, "fields": S2_FIELDS},
            self._headers(),
        )
        data = _checked_json(self.name, response)
        return _stamp([paper_to_record(p) for p in data.get("data") or [] if isinstance(p, dict)])

    def paper(self, paper_id: str) -> RecordIn | None:
        """Look up one paper by S2 id, `arXiv:…`, `DOI:…` or any id prefix the API accepts."""
        path = f"/graph/v1/paper/{quote(paper_id, safe=':/')}"
        response = self.client.get(self.name, path, {"fields": S2_FIELDS}, self._headers())
        if response.status_code == 404:
            return None
        return _stamp([paper_to_record(_checked_json(self.name, response))])[0]

    def recommendations(self, paper_id: str, limit: int = 10) -> list[RecordIn]:
        path = f"/recommendations/v1/papers/forpaper/{quote(paper_id, safe=':/')}"
        response = self.client.get(self.name, path, {"limit": limit, "fields": S2_FIELDS}, self._headers())
        if response.status_code == 404:
            return []
        data = _checked_json(self.name, response)
        papers = data.get("recommendedPapers") or []
        return _stamp([paper_to_record(p) for p in papers if isinstance(p, dict)])


def arxiv_search_query(query: str) -> str:
    words = re.findall(r"[^\W_]+", query)[:12]
    return " AND ".join(f"all:{word}" for word in words) or "all:*"


class ArxivAPI:
    name = "arxiv"

    def __init__(self, client: ScholarlyClient) -> None:
        self.client = client

    def _feed(self, params: Mapping[str, str | int]) -> list[RecordIn]:
        response = self.client.get(self.name, "/api/query", params)
        if response.status_code != 200:
            raise ExternalServiceError(self.name, f"HTTP {response.status_code}")
        records: list[RecordIn] = []
        errors: list[str] = []
        for item in parse_xml([response.text.encode("utf-8")]):
            if isinstance(item, Rejection):
                errors.append(item.reason)
            else:
                records.append(item)
        if errors and not records and any("arXiv API error" in e for e in errors):
            raise ExternalServiceError(self.name, errors[0])
        return _stamp(records)

    def search(self, query: str, max_results: int = 10) -> list[RecordIn]:
        return self._feed({"search_query": arxiv_search_query(query), "start": 0, "max_results": max_results})

    def lookup(self, arxiv_ids: list[str]) -> list[RecordIn]:
        return self._feed({"id_list": ",".join(arxiv_ids), "max_results": len(arxiv_ids)})


def openalex_abstract(inverted: Mapping[str, list[int]] | None) -> str:
    """OpenAlex ships abstracts as {word: [positions]}; put the words back in order."""
    if not inverted:
        return ""
    positions: dict[int, str] = {}
    for word, places in inverted.items():
        for place in places:
            positions[int(place)] = word
    return " ".join(positions[i] for i in sorted(positions))


def openalex_record(work: Mapping[str, Any]) -> RecordIn:
    ids = work.get("ids") or {}
    openalex_id = str(work.get("id") or ids.get("openalex") or "").rsplit("/", 1)[-1] or None
    location = work.get("primary_location") or {}
    venue = ((location.get("source") or {}) if isinstance(location, dict) else {}).get("display_name")
    arxiv = None
    for loc in work.get("locations") or []:
        url = (loc or {}).get("landing_page_url") or ""
        if "arxiv.org/abs/" in url:
            arxiv = url
            break
    authors = [((a or {}).get("author") or {}).get("display_name") for a in work.get("authorships") or []]
    return RecordIn(
        title=str(work.get("display_name") or work.get("title") or ""),
        abstract=openalex_abstract(work.get("abstract_inverted_index")),
        authors=authors_list([a for a in authors if a]),
        year=parse_year(work.get("publication_year")),
        venue=venue,
        doi=work.get("doi") or ids.get("doi"),
        arxiv_id=arxiv,
        openalex_id=openalex_id,
        url=(location.get("landing_page_url") if isinstance(location, dict) else None) or work.get("id"),
        source="openalex",
        extra={"citation_count": work["cited_by_count"]}
        if isinstance(work.get("cited_by_count"), int)
        else {},
    )


class OpenAlex:
    name = "openalex"

    def __init__(self, client: ScholarlyClient) -> None:
        self.client = client

    def _params(self, extra: Mapping[str, str | int]) -> dict[str, str | int]:
        params = dict(extra)
        if self.client.settings.contact_email:
            params["mailto"] = self.client.settings.contact_email
        return params

    def search(self, query: str, per_page: int = 10) -> list[RecordIn]:
        response = self.client.get(
            self.name, "/works", self._params({"search": query[:500], "per-page": per_page})
        )
        data = _checked_json(self.name, response)
        return _stamp([openalex_record(w) for w in data.get("results") or [] if isinstance(w, dict)])

    def work(self, work_id: str) -> RecordIn | None:
        response = self.client.get(self.name, f"/works/{quote(work_id, safe=':/')}", self._params({}))
        if response.status_code == 404:
            return None
        return _stamp([openalex_record(_checked_json(self.name, response))])[0]
