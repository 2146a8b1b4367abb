"""Comment text: Markdown with LaTeX math, rendered to HTML that is inert wherever it is shown.

Two independent layers. markdown-it renders with raw HTML switched off (a `<script>` typed in a
comment comes out as text) and refuses `javascript:`-like link targets; nh3 then keeps only an
allow-list of tags, attributes, classes and URL schemes, so a mistake in the first layer cannot
produce markup the second one does not know. Math (`$...$`, `$$...$$`) is kept as text inside
`<span class="math inline|display">` for a renderer in the reader's browser; the server runs no
math engine and no script. Images that point elsewhere would tell a third party who reads the
comment, so by default an image becomes a link to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

LINK_REL = "nofollow ugc noopener"
_TAGS = frozenset(
    {
        "a", "p", "br", "hr", "em", "strong", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "span",
    }
)  # fmt: skip
_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "ol": {"start"}}
_IMAGE_ATTRIBUTES = {"src", "alt", "title"}
_CLASSES = {"span": {"math", "inline", "display"}}
_SCHEMES = {"http", "https", "mailto"}


def _math(state: StateInline, silent: bool) -> bool:
    """`$x$` inline and `$$x$$` display math, taken verbatim (no emphasis inside, no escapes).
    Like most Markdown math dialects, `$ 5 and $` is not math: the content of inline math must
    not start or end with a space, so prices in prose stay prose."""
    src, start = state.src, state.pos
    if src[start] != "$":
        return False
    delimiter = "$$" if src.startswith("$$", start) else "$"
    content_start = start + len(delimiter)
    end = src.find(delimiter, content_start)
    while end != -1 and src[end - 1] == "\\":
        end = src.find(delimiter, end + 1)
    if end == -1 or end == content_start:
        return False
    content = src[content_start:end]
    if delimiter == "$" and (content[0].isspace() or content[-1].isspace()):
        return False
    if not silent:
        token = state.push("math_display" if delimiter == "$$" else "math_inline", "span", 0)
        token.content = content
        token.markup = delimiter
    state.pos = end + len(delimiter)
    return True


def _render_math(kind: str) -> Any:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f'<span class="math {kind}">{escapeHtml(tokens[idx].content)}</span>'

    return render


def _image_as_link(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = escapeHtml(str(token.attrGet("src") or ""))
    label = escapeHtml(token.content or "image")
    return f'<a href="{src}">{label}</a>'


@lru_cache(maxsize=2)
def _parser(remote_images: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.inline.ruler.before("escape", "math", _math)
    md.add_render_rule("math_inline", _render_math("inline"))
    md.add_render_rule("math_display", _render_math("display"))
    if not remote_images:
        md.add_render_rule("image", _image_as_link)
    return md


def render(markdown: str, *, remote_images: bool = False) -> str:
    """Sanitised HTML of a comment's Markdown."""
    html = _parser(remote_images).render(markdown)
    tags = set(_TAGS) | ({"img"} if remote_images else set())
    attributes = {k: set(v) for k, v in _ATTRIBUTES.items()}
    if remote_images:
        attributes["img"] = set(_IMAGE_ATTRIBUTES)
    return nh3.clean(
        html,
        tags=tags,
        clean_content_tags={"script", "style"},
        attributes=attributes,
        link_rel=LINK_REL,
        url_schemes=set(_SCHEMES),
        allowed_classes={k: set(v) for k, v in _CLASSES.items()},
        strip_comments=True,
    )
