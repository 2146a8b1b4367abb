"""Comment HTML is inert: an injection corpus through the renderer (both image policies) and
through the API, each result parsed with lxml and searched for anything that could run."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from openxiv.community.markup import LINK_REL, render
from tests.community.conftest import People, comment

CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](javascript:alert(1))",
    "![x](http://evil.example/track.png)",
    '![x](http://evil.example/a.png "title" onerror=alert(1))',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<svg><a xlink:href=javascript:alert(1)><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=javascript:alert(1)></object>",
    '<embed src="data:text/html,<script>alert(1)</script>">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<details open ontoggle=alert(1)>",
    '<a href="http://ok.example" onclick="alert(1)">ok</a>',
    '[ok](http://ok.example "t" onmouseover=alert(1))',
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base href=javascript:/>",
    "<!-- <script>alert(1)</script> -->",
    "`<script>alert(1)</script>` and ```\n<script>alert(1)</script>\n```",
    "$<script>alert(1)</script>$ and $$<img src=x onerror=alert(1)>$$",
    "<<script>script>alert(1)<</script>/script>",
    '"><script>alert(1)</script>',
    '[x](http://ok.example/"onmouseover="alert(1))',
    "<a href='&#x6A;avascript:alert(1)'>x</a>",
    "[x](<javascript:alert(1)>)",
]
BAD_ELEMENTS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "meta",
    "base",
    "link",
    "details",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def assert_inert(html: str, *, images: bool = False) -> None:
    if not html.strip():
        return
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions are not rendered
        tag = element.tag.lower()
        assert tag not in BAD_ELEMENTS, f"<{tag}> survived in {html!r}"
        if tag == "img":
            assert images, f"an image survived with remote images off: {html!r}"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"event handler {name} in {html!r}"
            assert name.lower() != "style", f"style attribute in {html!r}"
            if name.lower() in {"href", "src", "action", "formaction", "xlink:href"}:
                squashed = "".join(value.split()).lower()
                assert not squashed.startswith(BAD_SCHEMES), f"{name}={value!r} in {html!r}"
                assert (
                    squashed.startswith(("http://", "https://", "mailto:", "/", "#")) or ":" not in squashed
                )
        if tag == "a" and element.get("href"):
            assert set((element.get("rel") or "").split()) == set(LINK_REL.split())


@pytest.mark.parametrize("source", CORPUS)
def test_the_renderer_leaves_nothing_that_runs(source: str) -> None:
    assert_inert(render(source))
    assert_inert(render(source, remote_images=True), images=True)


def test_remote_images_become_links_unless_allowed() -> None:
    off = lxml.html.fragment_fromstring(render("![chart](https://img.example/c.png)"), create_parent="div")
    assert not off.findall(".//img")
    link = off.find(".//a")
    assert link is not None and link.get("href") == "https://img.example/c.png" and link.text == "chart"
    on = lxml.html.fragment_fromstring(
        render("![chart](https://img.example/c.png)", remote_images=True), create_parent="div"
    )
    image = on.find(".//img")
    assert image is not None and image.get("src") == "https://img.example/c.png"
    data = lxml.html.fragment_fromstring(
        render("![x](data:image/png;base64,AAAA)", remote_images=True), create_parent="div"
    )
    assert all(not (i.get("src") or "").startswith("data:") for i in data.iter("img"))


def test_links_are_marked_user_generated() -> None:
    tree = lxml.html.fragment_fromstring(
        render("[paper](https://arxiv.org/abs/1706.03762)"), create_parent="div"
    )
    link = tree.find(".//a")
    assert link is not None and link.get("rel") == LINK_REL


def test_the_api_stores_and_serves_inert_html(client: Any, people: People) -> None:
    hostile = "\n\n".join(CORPUS[:20])
    created = comment(client, people, "stranger", hostile)
    assert created.status_code == 201, created.text
    assert_inert(created.json()["html"])
    assert created.json()["body"] == hostile  # the source is kept as written, as text
    listed = client.get(f"/api/v1/submissions/{people.item}/comments").json()["items"][0]
    assert_inert(listed["html"])
    edited = client.patch(
        f"/api/v1/comments/{created.json()['id']}",
        headers=people.h("stranger"),
        json={"body": "\n".join(CORPUS[20:])},
    )
    assert_inert(edited.json()["html"])
