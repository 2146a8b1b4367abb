"""Feeds read with feedparser, search relevance and filters, and injection rendered inert, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import feedparser

from openxiv.accounts import service as accounts
from openxiv.db import transaction
from openxiv.discovery import search, service
from openxiv.discovery.repository import EntryFilter
from openxiv.discovery.settings import DiscoverySettings
from openxiv.submissions.lifecycle import Status
from tests.core.helpers import auth, register
from tests.discovery.support import author_token, move, post_item, publish

INJECTION = '<script>alert("x")</script><style>body{display:none}</style><img src=x onerror=alert(1)>'


def _source(text: str) -> dict[str, str]:
    filler = "We describe the method, the data and the results in detail, with every setting. " * 6
    return {"format": "markdown", "text": f"# Item\n\n## Abstract\n{text}\n\n## Method\n{filler}"}


def _corpus(client: Any, runtime: Any) -> dict[str, str]:
    token = author_token(client)
    return {
        "warmup": publish(
            client,
            runtime,
            token,
            title="Learning-rate warm-up for small transformers",
            abstract="Warm-up length interacts with batch size in transformers.",
            categories=["cs.LG"],
            source=_source("The best warm-up grows with the square root of the batch size."),
        ),
        "attention": publish(
            client,
            runtime,
            token,
            title="Sparse attention for long documents",
            abstract="We prune attention heads; transformers keep their accuracy.",
            categories=["cs.CL"],
            source=_source("Heads are pruned by magnitude."),
        ),
        "proposal": publish(
            client,
            runtime,
            token,
            kind="proposal",
            title="A proposal to study curriculum order",
            abstract="Curriculum order for language models.",
            categories=["cs.LG"],
        ),
        "review": post_item(
            client,
            token,
            title="Decision pending on gradient clipping",
            abstract="A study of clipping in transformers that is not yet decided.",
            categories=["cs.LG"],
            source=_source("Clipping thresholds."),
        ),
        "injected": publish(
            client,
            runtime,
            token,
            title=f"Injected {INJECTION} title",
            abstract=f"Abstract {INJECTION}",
            categories=["cs.CR"],
            source=_source("Nothing to see."),
        ),
    }


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["hits"]]


def test_search_relevance_filters_and_sorting(client: Any, runtime: Any) -> None:
    ids = _corpus(client, runtime)
    search = "/api/v1/search"
    # A title match outranks an abstract-only match.
    ranked = _ids(client.get(search, params={"q": "transformers"}))
    assert ranked[0] == ids["warmup"] and set(ranked) == {ids["warmup"], ids["attention"], ids["review"]}
    # Stemming: "pruning heads" finds "prune ... heads".
    assert _ids(client.get(search, params={"q": "pruning heads"})) == [ids["attention"]]
    # Full text of the source counts too (paper_body's source repeats the warm-up paragraph).
    assert ids["warmup"] in _ids(client.get(search, params={"q": "square root"}))
    # Filters.
    assert _ids(client.get(search, params={"q": "transformers", "category": "cs.CL"})) == [ids["attention"]]
    assert _ids(client.get(search, params={"q": "curriculum", "kind": "paper"})) == []
    assert _ids(client.get(search, params={"q": "curriculum", "kind": "proposal"})) == [ids["proposal"]]
    assert _ids(client.get(search, params={"q": "transformers", "status": "under_review"})) == [ids["review"]]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert _ids(client.get(search, params={"q": "transformers", "from": tomorrow})) == []
    today = datetime.now(UTC).date().isoformat()
    assert len(_ids(client.get(search, params={"q": "transformers", "from": today, "to": today}))) == 3
    # Newest first.
    newest = _ids(client.get(search, params={"q": "transformers", "sort": "newest"}))
    assert newest == [ids["review"], ids["attention"], ids["warmup"]]
    # No item has every word: the items with any of them, and the answer says so.
    fallback = client.get(search, params={"q": "curriculum zzzunknownzzz"}).json()
    assert fallback["matched"] == "any" and [h["id"] for h in fallback["hits"]] == [ids["proposal"]]
    # Paging.
    first = client.get(search, params={"q": "transformers", "limit": 2}).json()
    assert len(first["hits"]) == 2 and first["next_offset"] == 2
    rest = _ids(client.get(search, params={"q": "transformers", "limit": 2, "offset": 2}))
    assert len(rest) == 1 and rest[0] not in [h["id"] for h in first["hits"]]
    # Query syntax of the engines is not syntax here.
    for hostile in (
        '"unbalanced',
        "title:x OR",
        "NEAR(a b)",
        "a & | ! b",
        "*",
        "'; DROP TABLE submissions; --",
    ):
        assert client.get(search, params={"q": hostile}).status_code in (200, 422)
    assert client.get(search, params={"q": "!!!"}).status_code == 422
    assert client.get(search, params={"q": "x", "status": "held"}).status_code == 422
    # A withdrawn item leaves search.
    move(runtime, ids["attention"], Status.WITHDRAWN)
    assert _ids(client.get(search, params={"q": "pruning heads"})) == []


def test_feeds_parse_escape_and_cache(client: Any, runtime: Any) -> None:
    ids = _corpus(client, runtime)
    for fmt in ("rss", "atom"):
        response = client.get(f"/feeds/latest.{fmt}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(f"application/{fmt}+xml")
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.bozo_exception
        titles = [e.title for e in parsed.entries]
        assert len(titles) == 5  # the item under review is listed too
        # The injected markup is text: the raw document holds it escaped, never as elements.
        root = ET.fromstring(response.content)
        assert not any(el.tag.endswith(("script", "style", "img")) for el in root.iter())
        assert b"<script>" not in response.content and b"&lt;script&gt;" in response.content
        injected = next(e for e in parsed.entries if e.link.endswith(ids["injected"]))
        assert "onerror" not in injected.get("summary_detail", {}).get(
            "value", ""
        ) or injected.summary.startswith("Abstract")

    accepted = feedparser.parse(client.get("/feeds/accepted.atom").content)
    assert {e.link.rsplit("/", 1)[1] for e in accepted.entries} == {
        ids["warmup"],
        ids["attention"],
        ids["proposal"],
        ids["injected"],
    }
    in_lg = feedparser.parse(
        client.get("/feeds/latest.rss", params={"category": "cs.LG", "kind": "paper"}).content
    )
    assert {e.link.rsplit("/", 1)[1] for e in in_lg.entries} == {ids["warmup"], ids["review"]}
    assert client.get("/feeds/popular.rss").status_code == 404
    assert client.get("/feeds/latest.rss", params={"kind": "poem"}).status_code == 422

    # Conditional requests: the same feed answers 304 until something changes.
    first = client.get("/feeds/accepted.rss")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/feeds/accepted.rss", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feeds/accepted.rss", headers={"If-Modified-Since": modified}).status_code == 304
    move(runtime, ids["warmup"], Status.ACCEPTED)
    changed = client.get("/feeds/accepted.rss", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_new_versions_and_screening_keep_the_index_in_step(client: Any, runtime: Any) -> None:
    token = author_token(client)
    identifier = post_item(client, token, title="Original wording about gradient noise", categories=["cs.LG"])
    assert _ids(client.get("/api/v1/search", params={"q": "gradient noise"})) == [identifier]
    move(runtime, identifier, Status.REVISION_REQUESTED)
    revised = client.post(
        f"/api/v1/submissions/{identifier}/versions",
        headers=auth(token),
        json={
            "title": "Revised wording about optimiser momentum",
            "abstract": "Momentum, revised.",
            "authors": [{"kind": "human", "name": "Ada Example"}],
            "categories": ["cs.LG"],
            "keywords": ["momentum"],
            "licence": "CC-BY-4.0",
            "ai_involvement": "None.",
            "ip_attribution": {"model_developer": "none", "initiating_human": "Ada Example"},
            "source": _source("Momentum, revised."),
            "response_letter": "We rewrote it.",
        },
    )
    assert revised.status_code == 201, revised.text
    assert _ids(client.get("/api/v1/search", params={"q": "optimiser momentum"})) == [identifier]
    assert _ids(client.get("/api/v1/search", params={"q": "gradient noise"})) == []


def test_relevance_ranks_the_newest_matches_when_too_many_match(client: Any, runtime: Any) -> None:
    token = author_token(client)
    best = publish(client, runtime, token, title="Transformers transformers", source=_source("Transformers."))
    newer = [
        publish(
            client, runtime, token, title=f"Item {n}", abstract="About transformers.", source=_source("Text.")
        )
        for n in range(2)
    ]
    filters = EntryFilter(statuses=["provisionally_accepted"])
    with runtime.read_sessions() as session:
        everything = search.search(session, "transformers", filters, window=3)
        assert everything.hits[0].entry.identifier == best
        windowed = search.search(session, "transformers", filters, window=2)
        assert {h.entry.identifier for h in windowed.hits} == set(newer)


def test_items_hidden_by_moderators_leave_feeds_search_and_harvests(client: Any, runtime: Any) -> None:
    token = author_token(client)
    item = publish(client, runtime, token, title="Contested claims about scaling", source=_source("Scaling."))
    moderator_id = register(client, email="moderator@example.org")["account"]["id"]
    with transaction(runtime.write_sessions) as session:
        account = accounts.get_account(session, moderator_id)
        accounts.set_roles(session, account, ["author", "moderator"])
        moderator = accounts.issue_key(session, account, scopes=["read", "moderate"]).token

    def visible() -> dict[str, bool]:
        feed = feedparser.parse(client.get("/feeds/accepted.atom").content)
        with runtime.read_sessions() as session:
            site = service.Site(
                base_url="http://127.0.0.1:8000", name="OpenXiv", settings=DiscoverySettings()
            )
            harvest = service.oai_response(
                session, site, {"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"]}
            )
        return {
            "search": _ids(client.get("/api/v1/search", params={"q": "contested scaling"})) == [item],
            "feed": any(e.link.endswith(item) for e in feed.entries),
            "paper": client.get(f"/api/papers/{item}").status_code == 200,
            "daily": any(p["paper"]["id"] == item for p in client.get("/api/daily_papers").json()),
            "oai record": b'status="deleted"' not in harvest and b"Contested claims" in harvest,
        }

    assert all(visible().values())
    for action, expected in (("hide", False), ("restore", True)):
        acted = client.post(
            "/api/v1/moderation/actions",
            headers=auth(moderator),
            json={"submission": item, "action": action, "reason": "checked by a moderator"},
        )
        assert acted.status_code == 201, acted.text
        assert visible() == dict.fromkeys(visible(), expected)


def test_a_category_search_finds_the_same_items_whichever_way_it_reads_them(
    client: Any, runtime: Any, monkeypatch: Any
) -> None:
    """PostgreSQL reads a category's matches by walking the category's rows or through the GIN
    bitmaps, chosen by the planner's estimates: both ways (forced here) give the same hits, also
    when the ranking window cuts the matches; other categories and kinds stay out."""
    token = author_token(client)
    in_category = [
        publish(
            client,
            runtime,
            token,
            title=f"Kernel methods {'kernel ' * n}study {n}",
            abstract="Kernels for graphs.",
            categories=["cs.LG", "stat.ML"] if n % 2 else ["stat.ML"],
            source=_source("Kernels."),
        )
        for n in range(4)
    ]
    publish(
        client, runtime, token, title="Kernel methods elsewhere", categories=["cs.CV"], source=_source("K.")
    )
    publish(client, runtime, token, kind="proposal", title="Kernel methods proposed", categories=["stat.ML"])
    filters = EntryFilter(statuses=["provisionally_accepted"], kind="paper", category="stat.ML")

    def hits(window: int, sort: Any = "relevance") -> list[str]:
        with runtime.read_sessions() as session:
            page = search.search(session, "kernel methods", filters, sort=sort, window=window)
            return [h.entry.identifier for h in page.hits]

    expected = {
        "ranked": in_category[::-1],  # the title's repeated word ranks higher
        "window": in_category[:1:-1],  # the two newest matches, ranked
        "newest": in_category[::-1],
    }
    ways = {"walk": (1e6, 1e6, 1.0), "bitmap": (1.0, 1.0, 1e6), "estimated": None}
    for way, estimates in ways.items():
        if estimates is not None:
            monkeypatch.setattr(search, "_estimated_rows", lambda *_args, e=estimates: e)
        else:
            monkeypatch.undo()
        assert hits(10) == expected["ranked"], way
        assert hits(2) == expected["window"], way
        assert hits(10, "newest") == expected["newest"], way
