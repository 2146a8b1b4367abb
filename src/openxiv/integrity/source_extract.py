"""Stage 1 for Markdown and LaTeX sources: find the parts a reader of the rendered document never
sees (comments, white or tiny text, phantoms, hidden HTML, metadata) and the visible remainder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from openxiv.integrity.schemas import Category


@dataclass
class HiddenRegion:
    start: int
    end: int  # the slice removed from the visible view
    text: str  # the hidden content a model would still read
    category: Category
    evidence: str
    line: int = 0


def _structure(src: str, pos: int) -> Iterator[tuple[int, str, int]]:
    """The characters that shape TeX groups and paragraphs from `pos` on ('{', '}', newline),
    with their index and the brace depth before them; escaped characters (`\\{`) are skipped."""
    i, depth = pos, 0
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "{}\n":
            yield i, ch, depth
            depth += {"{": 1, "}": -1}.get(ch, 0)
        i += 1


def _balanced(src: str, pos: int) -> int:
    """Index just past the brace group starting at `pos` (which must be '{'); -1 if unbalanced."""
    for i, ch, depth in _structure(src, pos):
        if ch == "}" and depth == 1:
            return i + 1
    return -1


def _args(src: str, pos: int, count: int) -> tuple[list[str], int]:
    """`count` brace arguments (optional [..] arguments skipped) starting near `pos`."""
    args: list[str] = []
    i = pos
    while len(args) < count:
        while i < len(src) and src[i] in " \t\n":
            i += 1
        if i < len(src) and src[i] == "[":
            close = src.find("]", i)
            if close < 0:
                break
            i = close + 1
            continue
        if i >= len(src) or src[i] != "{":
            break
        end = _balanced(src, i)
        if end < 0:
            break
        args.append(src[i + 1 : end - 1])
        i = end
    return args, i


_LIGHT_NAMES = {"white", "snow", "ivory", "ghostwhite", "whitesmoke", "floralwhite", "mintcream", "azure"}


def light_colour(spec: str, model: str = "") -> bool:
    """True for colour specs that are (near) white: names, xcolor mixes, rgb/RGB/gray/HTML forms."""
    spec = spec.strip().lower().replace(" ", "")
    model = model.strip().lower()
    if spec in _LIGHT_NAMES:
        return True
    mix = re.fullmatch(r"white(?:!(\d+))?(?:!\w+)?", spec)
    if mix:
        return mix.group(1) is None or int(mix.group(1)) >= 90
    mix = re.fullmatch(r"(?:black|gray|grey)!(\d+)", spec)
    if mix:
        return int(mix.group(1)) <= 5
    hexm = re.fullmatch(r"#?([0-9a-f]{6}|[0-9a-f]{3})", spec)
    if hexm and model in ("html", ""):
        h = hexm.group(1)
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return min(int(h[i : i + 2], 16) for i in (0, 2, 4)) >= 230
    nums = [float(x) for x in re.findall(r"\d*\.?\d+", spec)]
    if model == "rgb" and len(nums) == 3:
        return min(nums) >= (230 if max(nums) > 1 else 0.9)
    if model == "gray" and len(nums) == 1:
        return nums[0] >= 0.9
    if spec.startswith("rgb") and len(nums) >= 3:
        return min(nums[:3]) >= 230 and (len(nums) < 4 or nums[3] > 0)
    return False


def latex_hidden(src: str) -> list[HiddenRegion]:
    regions: list[HiddenRegion] = []

    def add(start: int, end: int, text: str, category: Category, evidence: str) -> None:
        regions.append(HiddenRegion(start, end, text, category, evidence, src.count("\n", 0, start) + 1))

    def add_rest_of_group(m: re.Match[str], category: Category, evidence: str) -> None:
        # A switch (\color, \fontsize) hides what follows it, to the end of the enclosing group.
        end = _group_end(src, m.end())
        add(m.start(), end, src[m.end() : end], category, evidence)

    def add_argument(
        m: re.Match[str], at: int, count: int, hidden: int, category: Category, evidence: str
    ) -> None:
        # A command hides one of its `count` brace arguments read from `at`: the `hidden`-th.
        args, end = _args(src, at, count)
        if args:
            add(m.start(), end, args[hidden], category, evidence)

    for m in re.finditer(r"(?<!\\)%[^\n]*", src):
        add(m.start(), m.end(), m.group(0)[1:], Category.INVISIBLE_RENDER, "LaTeX comment (never typeset)")
    for m in re.finditer(r"\\iffalse\b(.*?)\\fi\b", src, re.S):
        add(m.start(), m.end(), m.group(1), Category.INVISIBLE_RENDER, "\\iffalse block (never typeset)")
    for m in re.finditer(r"\\begin\{comment\}(.*?)\\end\{comment\}", src, re.S):
        add(m.start(), m.end(), m.group(1), Category.INVISIBLE_RENDER, "comment environment (never typeset)")
    for m in re.finditer(r"\\(textcolor|colorbox)\s*(\[[^\]]*\])?\s*\{", src):
        model = (m.group(2) or "").strip("[]")
        args, end = _args(src, m.end() - 1, 2)
        if len(args) == 2 and light_colour(args[0], model):
            add(m.start(), end, args[1], Category.WHITE_TEXT, f"\\{m.group(1)}{{{args[0]}}} text is white")
    for m in re.finditer(r"\\color\s*(\[[^\]]*\])?\s*\{([^}]*)\}", src):
        if light_colour(m.group(2), (m.group(1) or "").strip("[]")):
            add_rest_of_group(m, Category.WHITE_TEXT, f"\\color{{{m.group(2)}}} turns the text white")
    for m in re.finditer(r"\\fontsize\s*\{\s*([\d.]+)\s*(pt|bp|px)?\s*\}\s*\{[^}]*\}\s*\\selectfont", src):
        if float(m.group(1)) < 3:
            add_rest_of_group(m, Category.SMALL_TEXT, f"\\fontsize{{{m.group(1)}pt}} is unreadably small")
    for m in re.finditer(r"\\scalebox\s*\{\s*([\d.]+)\s*\}", src):
        if float(m.group(1)) < 0.3:
            evidence = f"\\scalebox{{{m.group(1)}}} shrinks the text away"
            add_argument(m, m.end(), 1, 0, Category.SMALL_TEXT, evidence)
    for m in re.finditer(r"\\resizebox\s*\{\s*([\d.]+)\s*(pt|bp|mm|px)\s*\}", src):
        if float(m.group(1)) < 5:
            evidence = f"\\resizebox{{{m.group(1)}{m.group(2)}}} shrinks the text away"
            add_argument(m, m.end(), 2, -1, Category.SMALL_TEXT, evidence)
    for m in re.finditer(r"\\(phantom|hphantom|vphantom)\s*\{", src):
        evidence = f"\\{m.group(1)} takes space but prints nothing"
        add_argument(m, m.end() - 1, 1, 0, Category.INVISIBLE_RENDER, evidence)
    for m in re.finditer(
        r"\\(pdfliteral|special)\s*\{[^}]*\b3\s+Tr\b[^}]*\}|\\pdfrender\s*\{[^}]*TextRenderingMode\s*=\s*(?:3|invisible)[^}]*\}",
        src,
    ):
        end = _group_end(src, m.end())
        add(
            m.start(),
            end,
            src[m.end() : end],
            Category.INVISIBLE_RENDER,
            "PDF render mode 3 (invisible text)",
        )
    for m in re.finditer(
        r"\\(hspace\*?|vspace\*?|raisebox|kern)\s*\{?\s*(-\s*\d{3,}(?:\.\d+)?)\s*(pt|cm|mm|in|em)", src
    ):
        end = _group_end(src, m.end()) if src[m.end() : m.end() + 1] != "}" else _group_end(src, m.end() + 1)
        add(
            m.start(),
            end,
            src[m.end() : end].lstrip("}{"),
            Category.OFF_PAGE,
            f"\\{m.group(1)}{{{m.group(2)}{m.group(3)}}} moves text off the page",
        )
    for m in re.finditer(r"\\begin\{ocg\}\s*\{[^}]*\}\s*\{[^}]*\}\s*\{\s*0\s*\}(.*?)\\end\{ocg\}", src, re.S):
        add(m.start(), m.end(), m.group(1), Category.HIDDEN_LAYER, "ocg layer switched off")
    for m in re.finditer(r"\\(pdfinfo|hypersetup)\s*\{", src):
        args, end = _args(src, m.end() - 1, 1)
        if args:
            add(m.start(), end, args[0], Category.METADATA, f"\\{m.group(1)} writes PDF metadata")
    for m in re.finditer(r"\\(pdfcomment|pdfannot|pdfmarkupcomment)\s*(\[[^\]]*\])?\s*\{", src):
        args, end = _args(src, m.end() - 1, 1)
        if args:
            add(m.start(), end, args[0], Category.ANNOTATION, f"\\{m.group(1)} creates a PDF annotation")
    return regions


def _group_end(src: str, pos: int) -> int:
    """End of the TeX group that contains `pos` (or of the paragraph when there is none)."""
    for i, ch, depth in _structure(src, pos):
        if depth == 0 and (ch == "}" or src.startswith("\n\n", i)):
            return i
    return len(src)


_STYLE_HIDE = [
    (
        re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0+)?\b(?!\.)"),
        Category.INVISIBLE_RENDER,
        "CSS hides the element",
    ),
    (
        re.compile(
            r"font-size\s*:\s*(?:0(?:\.\d+)?|[12](?:\.\d+)?)(?:px|pt)|font-size\s*:\s*0(?:\.0\d+)?(?:em|rem|%)"
        ),
        Category.SMALL_TEXT,
        "CSS font size is unreadably small",
    ),
    (
        re.compile(r"(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}"),
        Category.OFF_PAGE,
        "CSS moves the element off the page",
    ),
]


def _html_style_hides(attrs: str) -> tuple[Category, str] | None:
    attrs_l = attrs.lower()
    for pattern, category, evidence in _STYLE_HIDE:
        if pattern.search(attrs_l):
            return category, evidence
    if re.search(r"\bhidden\b(?!\s*[:-])", attrs_l) and "style" not in attrs_l.split("hidden")[0][-8:]:
        return Category.INVISIBLE_RENDER, "hidden attribute"
    colour = re.search(r"(?<![-\w])color\s*[:=]\s*[\"']?\s*(#[0-9a-f]{3,6}|rgb\([^)]*\)|[a-z]+)", attrs_l)
    if colour and light_colour(colour.group(1)):
        return Category.WHITE_TEXT, f"text colour {colour.group(1)} is white"
    return None


def markdown_hidden(src: str) -> list[HiddenRegion]:
    regions: list[HiddenRegion] = []

    def add(start: int, end: int, text: str, category: Category, evidence: str) -> None:
        regions.append(HiddenRegion(start, end, text, category, evidence, src.count("\n", 0, start) + 1))

    for m in re.finditer(r"<!--(.*?)(?:-->|$)", src, re.S):
        add(m.start(), m.end(), m.group(1), Category.INVISIBLE_RENDER, "HTML comment (never rendered)")
    for m in re.finditer(r"^\s{0,3}\[(?://|comment|_|#)\]:\s*(?:#|<>)?\s*\(?(.*?)\)?\s*$", src, re.M):
        add(
            m.start(),
            m.end(),
            m.group(1),
            Category.INVISIBLE_RENDER,
            "link-reference comment (never rendered)",
        )
    for m in re.finditer(r"<(span|div|p|font|section|small|mark)\b([^>]*)>(.*?)</\1\s*>", src, re.S | re.I):
        hides = _html_style_hides(m.group(2))
        if hides:
            add(m.start(), m.end(), re.sub(r"<[^>]+>", " ", m.group(3)), hides[0], hides[1])
    front = re.match(r"\A---\s*\n(.*?)\n---\s*\n", src, re.S)
    if front:
        add(
            front.start(),
            front.end(),
            front.group(1),
            Category.METADATA,
            "front matter (metadata, not shown)",
        )
    return regions


def visible_and_hidden(src: str, kind: str) -> tuple[str, list[HiddenRegion]]:
    regions = latex_hidden(src) if kind == "latex" else markdown_hidden(src)
    regions.sort(key=lambda r: (r.start, -r.end))
    merged: list[HiddenRegion] = []
    for region in regions:
        if merged and region.start < merged[-1].end:
            if region.end > merged[-1].end and region.category == merged[-1].category:
                merged[-1].end = region.end
            continue  # nested in a region already removed
        merged.append(region)
    parts = []
    last = 0
    for region in merged:
        parts.append(src[last : region.start])
        last = region.end
    parts.append(src[last:])
    return "".join(parts), regions
