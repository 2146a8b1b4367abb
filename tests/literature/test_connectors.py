"""Semantic Scholar, arXiv and OpenAlex adapters against a real HTTP server on 127.0.0.1 that
replays recorded responses; throttling, caching, Retry-After and the offline switch."""

from __future__ import annotations

import email.utils
import itertools
import socket
import time
from pathlib import Path

import pytest

from openxiv.literature.connectors import ArxivAPI, OpenAlex, SemanticScholar, openalex_abstract
from openxiv.literature.http import (
    ExternalRateLimited,
    ExternalServiceError,
    ScholarlyClient,
    ServiceOffline,
    parse_retry_after,
)
from openxiv.literature.settings import LiteratureSettings

from .conftest import ReplayServer, online_settings

S2_SEARCH = "/s2/graph/v1/paper/search"


def test_semantic_scholar_search_lookup_and_recommendations(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.fixture(S2_SEARCH, "s2_search.json")
    replay_server.fixture("/s2/graph/v1/paper/arXiv:1706.03762", "s2_paper.json")
    replay_server.fixture(
        "/s2/recommendations/v1/papers/forpaper/arXiv:1706.03762", "s2_recommendations.json"
    )
    settings = online_settings(replay_server, tmp_path, semantic_scholar_api_key="k-123")
    with ScholarlyClient(settings) as client:
        s2 = SemanticScholar(client)
        found = s2.search("attention transformer", limit=3)
        paper = s2.paper("arXiv:1706.03762")
        recommended = s2.recommendations("arXiv:1706.03762", limit=2)
        assert s2.paper("arXiv:0000.00000") is None  # 404: not found, not an error
    assert [r.arxiv_id for r in found][:2] == ["1706.03762", "1810.04805"]
    assert all(r.source == "s2" and r.fetched_at is not None for r in found)
    assert paper is not None and paper.s2_id == "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
    assert [r.title for r in recommended] == [
        "Longformer: The Long-Document Transformer",
        "Reformer: The Efficient Transformer",
    ]
    hit = replay_server.hits_for(S2_SEARCH)[0]
    assert hit.query["query"] == ["attention transformer"] and hit.query["limit"] == ["3"]
    assert "externalIds" in hit.query["fields"][0]
    assert hit.headers.get("x-api-key") == "k-123"
    assert hit.headers.get("User-Agent", "").startswith("OpenXiv/")


def test_arxiv_api_search_and_error_feed(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.route(
        "/arxiv/api/query",
        (
            200,
            {"Content-Type": "application/atom+xml"},
            (Path(__file__).parent / "fixtures/arxiv_query.xml").read_bytes(),
        ),
        (
            200,
            {"Content-Type": "application/atom+xml"},
            (Path(__file__).parent / "fixtures/arxiv_error.xml").read_bytes(),
        ),
    )
    with ScholarlyClient(online_settings(replay_server, tmp_path)) as client:
        arxiv = ArxivAPI(client)
        records = arxiv.search("attention transformer", max_results=3)
        with pytest.raises(ExternalServiceError, match="incorrect id format"):
            arxiv.lookup(["1234.12345678"])
    assert [r.arxiv_id for r in records] == ["1706.03762", "hep-ex/0307015", "1810.04805"]
    first = replay_server.hits_for("/arxiv/api/query")[0]
    assert first.query["search_query"] == ["all:attention AND all:transformer"]
    assert first.query["max_results"] == ["3"]


def test_openalex_search_rebuilds_the_inverted_abstract(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.fixture("/openalex/works", "openalex_works.json")
    settings = online_settings(replay_server, tmp_path, contact_email="ops@example.org")
    with ScholarlyClient(settings) as client:
        (work,) = OpenAlex(client).search("attention", per_page=1)
    assert work.title == "Attention Is All You Need"
    assert work.abstract == "Attention alone, without recurrence, suffices for translation."
    assert work.openalex_id == "W2963403868"
    assert work.doi == "10.48550/arxiv.1706.03762"
    assert work.arxiv_id == "1706.03762"
    assert work.authors == ["Ashish Vaswani", "Noam Shazeer"]
    assert work.venue == "arXiv (Cornell University)"
    assert replay_server.hits[0].query["mailto"] == ["ops@example.org"]
    assert openalex_abstract({"b": [1], "a": [0, 2]}) == "a b a"


def test_requests_to_one_service_are_spaced_by_its_interval(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.fixture(S2_SEARCH, "s2_search.json")
    replay_server.fixture("/openalex/works", "openalex_works.json")
    settings = online_settings(replay_server, tmp_path, interval=0.3)
    with ScholarlyClient(settings) as client:
        for word in ("a", "b", "c"):
            SemanticScholar(client).search(word)
        OpenAlex(client).search("x")  # another service: its own budget, no wait for S2's
    times = [hit.at for hit in replay_server.hits_for(S2_SEARCH)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 2 and min(gaps) >= 0.28
    assert replay_server.hits_for("/openalex/works")[0].at - times[-1] < 0.25


def test_responses_are_cached_until_their_ttl(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.fixture(S2_SEARCH, "s2_search.json")
    clock = [1000.0]
    settings = online_settings(replay_server, tmp_path, cache_ttl_s=60.0)
    with ScholarlyClient(settings, clock=lambda: clock[0]) as client:
        s2 = SemanticScholar(client)
        s2.search("same query")
        s2.search("same query")
        assert len(replay_server.hits) == 1
        s2.search("another query")
        assert len(replay_server.hits) == 2
        clock[0] += 61
        s2.search("same query")
        assert len(replay_server.hits) == 3


def test_429_with_retry_after_is_waited_out(replay_server: ReplayServer, tmp_path: Path) -> None:
    body = (Path(__file__).parent / "fixtures/s2_search.json").read_bytes()
    replay_server.route(
        S2_SEARCH,
        (429, {"Retry-After": "1", "Content-Type": "application/json"}, b'{"message": "Too Many Requests"}'),
        (200, {"Content-Type": "application/json"}, body),
    )
    with ScholarlyClient(online_settings(replay_server, tmp_path)) as client:
        records = SemanticScholar(client).search("q")
    assert records
    first, second = replay_server.hits_for(S2_SEARCH)
    assert second.at - first.at >= 0.95


def test_a_service_that_keeps_limiting_or_asks_too_much_is_reported(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    replay_server.route(S2_SEARCH, (429, {"Retry-After": later}, b""))
    replay_server.route("/openalex/works", (503, {"Retry-After": "0"}, b"busy"))
    settings = online_settings(replay_server, tmp_path, max_retries=2)
    with ScholarlyClient(settings) as client:
        with pytest.raises(ExternalRateLimited, match="asked to wait"):
            SemanticScholar(client).search("q")
        with pytest.raises(ExternalServiceError, match=r"HTTP 503.*3 attempts"):
            OpenAlex(client).search("q")
    assert len(replay_server.hits_for(S2_SEARCH)) == 1
    assert len(replay_server.hits_for("/openalex/works")) == 3


def test_offline_switch_sends_nothing(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.fixture(S2_SEARCH, "s2_search.json")
    settings = online_settings(replay_server, tmp_path).model_copy(update={"online": False})
    with ScholarlyClient(settings) as client, pytest.raises(ServiceOffline, match="switched off"):
        SemanticScholar(client).search("q")
    assert replay_server.hits == []
    assert LiteratureSettings().online is False  # the default


def test_unreachable_service_and_invalid_json(replay_server: ReplayServer, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    settings = online_settings(replay_server, tmp_path)
    settings.semantic_scholar.base_url = f"http://127.0.0.1:{dead_port}"
    replay_server.route("/openalex/works", (200, {"Content-Type": "application/json"}, b"<html>oops</html>"))
    with ScholarlyClient(settings) as client:
        with pytest.raises(ExternalServiceError, match="unreachable"):
            SemanticScholar(client).search("q")
        with pytest.raises(ExternalServiceError, match="invalid JSON"):
            OpenAlex(client).search("q")


def test_retry_after_parsing() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = time.time()
    assert 29 <= (parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) or 0) <= 31
