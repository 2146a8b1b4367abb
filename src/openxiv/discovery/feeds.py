"""RSS 2.0 and Atom feeds: the newest listed items, or the newest published ones, optionally of one
category and kind. Text goes into the XML as escaped character data (never markup), so a title or
abstract holding `<script>` is shown as those characters by every reader."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal
from xml.etree import ElementTree as ET

from sqlalchemy.orm import Session

from openxiv.discovery import repository
from openxiv.discovery.entries import LISTED
from openxiv.discovery.repository import EntryFilter
from openxiv.discovery.xmltext import clean, utc_z
from openxiv.errors import InvalidInput
from openxiv.models.discovery import DiscoveryEntry
from openxiv.submissions.lifecycle import PUBLISHED

FeedName = Literal["latest", "accepted"]
FeedFormat = Literal["rss", "atom"]
MEDIA_TYPES: dict[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
_KINDS = frozenset({"paper", "proposal"})
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("dc", DC_NS)
DateOf = Callable[[DiscoveryEntry], datetime | None]


@dataclass(frozen=True)
class FeedSpec:
    name: FeedName
    category: str | None = None
    kind: str | None = None

    def describe(self) -> str:
        what = "Newest items" if self.name == "latest" else "Newly accepted items"
        parts = [what]
        if self.kind:
            parts.append(f"of kind {self.kind}")
        if self.category:
            parts.append(f"in {self.category}")
        return " ".join(parts)

    def query(self) -> str:
        pairs = [(k, v) for k, v in (("category", self.category), ("kind", self.kind)) if v]
        return ("?" + "&".join(f"{k}={v}" for k, v in pairs)) if pairs else ""


@dataclass(frozen=True)
class Feed:
    body: bytes
    media_type: str
    etag: str
    last_modified: datetime | None


def feed_spec(name: str, category: str | None, kind: str | None) -> FeedSpec:
    if name not in ("latest", "accepted"):
        raise InvalidInput("the feed is latest or accepted", field="feed")
    if kind and kind not in _KINDS:
        raise InvalidInput("kind is paper or proposal", field="kind")
    if category is not None and (not category.strip() or len(category) > 64):
        raise InvalidInput("category is a category name such as cs.LG", field="category")
    return FeedSpec(name=name, category=category or None, kind=kind or None)  # type: ignore[arg-type]


def build_feed(
    session: Session, spec: FeedSpec, fmt: FeedFormat, *, base_url: str, instance_name: str, size: int
) -> Feed:
    published = spec.name == "accepted"
    filters = EntryFilter(
        statuses=sorted(PUBLISHED if published else {s.value for s in LISTED}),
        kind=spec.kind,
        category=spec.category,
    )
    entries = repository.newest(session, filters, by="published_at" if published else "listed_at", limit=size)
    changed = repository.newest_change(session, filters)
    self_url = f"{base_url}/feeds/{spec.name}.{fmt}{spec.query()}"
    title = f"{instance_name}: {spec.describe()}"
    date_of: DateOf = (lambda e: e.published_at) if published else (lambda e: e.listed_at)
    if fmt == "rss":
        body = _rss(
            entries, title=title, self_url=self_url, base_url=base_url, changed=changed, date_of=date_of
        )
    else:
        body = _atom(
            entries, title=title, self_url=self_url, base_url=base_url, changed=changed, date_of=date_of
        )
    # The exact time of the last change joins the bytes: two changes within one second render the
    # same second-granularity dates, and a cache must still see the second one.
    stamp = changed.isoformat() if changed else ""
    etag = '"' + hashlib.sha256(body + stamp.encode()).hexdigest()[:32] + '"'
    return Feed(body=body, media_type=MEDIA_TYPES[fmt], etag=etag, last_modified=changed)


def _link(base_url: str, entry: DiscoveryEntry) -> str:
    return f"{base_url}/abs/{entry.identifier}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = clean(text)
    return element


def _rss(
    entries: list[DiscoveryEntry],
    *,
    title: str,
    self_url: str,
    base_url: str,
    changed: datetime | None,
    date_of: DateOf,
) -> bytes:
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", base_url + "/")
    _sub(channel, "description", title)
    _sub(channel, f"{{{ATOM_NS}}}link", href=self_url, rel="self", type="application/rss+xml")
    if changed:
        _sub(channel, "lastBuildDate", format_datetime(changed.astimezone(UTC), usegmt=True))
    for entry in entries:
        item = _sub(channel, "item")
        _sub(item, "title", entry.title)
        _sub(item, "link", _link(base_url, entry))
        _sub(item, "guid", f"{_link(base_url, entry)}v{entry.version_number}", isPermaLink="false")
        _sub(item, "description", entry.abstract)
        when = date_of(entry)
        if when:
            _sub(item, "pubDate", format_datetime(when.astimezone(UTC), usegmt=True))
        for author in entry.authors:
            # RSS wants an e-mail address in <author>; Dublin Core's creator is the common way
            # to give names, which feed readers show.
            _sub(item, f"{{{DC_NS}}}creator", str(author.get("name", "")))
        for category in entry.categories:
            _sub(item, "category", category)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def _atom(
    entries: list[DiscoveryEntry],
    *,
    title: str,
    self_url: str,
    base_url: str,
    changed: datetime | None,
    date_of: DateOf,
) -> bytes:
    # Plain tag names under an explicit default namespace: ElementTree would otherwise prefix
    # every Atom element (valid, but unusual), since its attributes carry no namespace.
    def tag(name: str) -> str:
        return name

    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, tag("id"), self_url)
    _sub(feed, tag("title"), title)
    _sub(feed, tag("updated"), utc_z(changed or datetime(1970, 1, 1, tzinfo=UTC)))
    _sub(feed, tag("link"), href=self_url, rel="self")
    _sub(feed, tag("link"), href=base_url + "/", rel="alternate")
    for entry in entries:
        item = _sub(feed, tag("entry"))
        _sub(item, tag("id"), f"{_link(base_url, entry)}v{entry.version_number}")
        _sub(item, tag("title"), entry.title, type="text")
        _sub(item, tag("link"), href=_link(base_url, entry), rel="alternate")
        when = date_of(entry) or entry.datestamp
        _sub(item, tag("published"), utc_z(when))
        _sub(item, tag("updated"), utc_z(entry.datestamp))
        _sub(item, tag("summary"), entry.abstract, type="text")
        for author in entry.authors:
            _sub(_sub(item, tag("author")), tag("name"), str(author.get("name", "")))
        for category in entry.categories:
            _sub(item, tag("category"), term=clean(category))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
