"""Stage 2, layout rules: decide for each text object whether a reader can see it, and why not.

Hidden means not visible on the rendered page. Cheap rules over the drawing state (render mode,
alpha, colour against what was painted behind, size, geometry, later painting, layers) pick the
candidates; then the page is rendered twice, as it is and with the candidates switched off, and
a candidate that leaves ink on the page is visible whatever the rules guessed: white labels on
dark boxes and heat-maps, light watermarks, figure text in form XObjects. Each check adds its own
reason, so one object can be both white and tiny.
"""

from __future__ import annotations

import ctypes
from collections import Counter

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from openxiv.integrity.pdf_extract import RGBA, Box, Graphic, PageContent, TextObject, render_grey, switch_off
from openxiv.integrity.schemas import Category
from openxiv.integrity.settings import IntegritySettings

WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)
# Reasons the rendered page can overrule: if the object leaves ink, a reader sees it. Size and
# switched-off layers are not about ink (tiny text renders a smudge nobody can read).
RENDER_CHECKED = frozenset({Category.WHITE_TEXT, Category.OFF_PAGE, Category.INVISIBLE_RENDER})
# Colour contrast under which an object becomes a candidate; the rendered page then decides
# against `settings.min_contrast`. Generous on purpose: the rule only has to avoid misses.
CANDIDATE_CONTRAST = 0.3
# A figure cut out of another PDF page keeps that page's text, clipped away: real, invisible, and
# nobody's attempt to hide anything. Its content is judged like visible text.
FIGURE_RESIDUE = "text of an included figure, clipped away by the figure's clipping path"
RENDER_SCALE = 1.0  # 72 dpi: enough to see a glyph's ink, cheap enough to render twice


def luminance(rgb: tuple[float, ...]) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _overlap(a: Box, b: Box) -> float:
    """Fraction of `a` covered by `b`."""
    inter = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    area = _area(a)
    return (
        _area(inter) / area if area > 0 else (1.0 if inter[0] <= inter[2] and inter[1] <= inter[3] else 0.0)
    )


def effective_size(t: TextObject) -> float:
    """The larger of the font size and the glyphs' drawn height (see `TextObject.glyph_height`)."""
    return max(t.size, t.glyph_height)


def body_size(pages: list[PageContent]) -> float:
    """The most common effective font size, weighted by characters (the body text)."""
    counts: Counter[float] = Counter()
    for page in pages:
        for t in page.texts:
            size = effective_size(t)
            if t.render_mode not in (3, 7) and size > 0:
                counts[round(size * 2) / 2] += len(t.text)
    return counts.most_common(1)[0][0] if counts else 10.0


def _hex(rgb: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(v * 255):02x}" for v in rgb[:3])


class PageRenderer:
    """Renders one page in greyscale and measures what a set of text objects adds to it."""

    def __init__(self, page: pdfium.PdfPage, scale: float = RENDER_SCALE) -> None:
        self.page = page
        self.scale = scale
        self._with_text: np.ndarray | None = None

    @property
    def with_text(self) -> np.ndarray:
        if self._with_text is None:
            self._with_text = render_grey(self.page, self.scale).astype(np.int16)
        return self._with_text

    def region(self, image: np.ndarray, box: Box) -> np.ndarray:
        """Pixels of `box` (page space) in a render of this page; empty when it lies off the render."""
        h, w = image.shape
        corners = [self._to_device(x, y, w, h) for x, y in ((box[0], box[1]), (box[2], box[3]))]
        xs, ys = sorted(c[0] for c in corners), sorted(c[1] for c in corners)
        x0, x1 = max(0, xs[0]), min(w, xs[1] + 1)
        y0, y1 = max(0, ys[0]), min(h, ys[1] + 1)
        return image[y0:y1, x0:x1]

    def _to_device(self, x: float, y: float, w: int, h: int) -> tuple[int, int]:
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(self.page.raw, 0, 0, w, h, 0, x, y, dx, dy)
        return dx.value, dy.value

    def ink(self, texts: list[TextObject]) -> list[float]:
        """Per object, the contrast (0-1) its glyphs add to the rendered page: the page is rendered
        again with all of `texts` switched off and the two renders compared inside each box."""
        before = self.with_text
        switch_off(texts)
        after = render_grey(self.page, self.scale).astype(np.int16)
        out = []
        for t in texts:
            diff = np.abs(self.region(before, t.box) - self.region(after, t.box))
            out.append(float(np.percentile(diff, 99)) / 255.0 if diff.size else 0.0)
        return out

    def dark_share(self, box: Box) -> float:
        """Share of clearly dark pixels inside `box` on the page as rendered."""
        pixels = self.region(self.with_text, box)
        return float((pixels < 128).mean()) if pixels.size else 0.0

    def median(self, box: Box) -> float:
        pixels = self.region(self.with_text, box)
        return float(np.median(pixels)) / 255.0 if pixels.size else 1.0


def classify_page(
    page: PageContent,
    *,
    settings: IntegritySettings,
    hidden_layers: set[str],
    body: float,
    renderer: PageRenderer | None,
) -> None:
    """Fill `hidden` on every text object of the page."""
    painted = _Painted(page.texts, page.graphics)
    for position, t in enumerate(page.texts):
        if not t.text.strip():
            continue
        _render_rules(t)
        _size_rules(t, settings, body)
        if t.layer is not None and t.layer in hidden_layers:
            t.hidden.append(
                (Category.HIDDEN_LAYER, f"text in the optional-content layer {t.layer!r}, which is off")
            )
        _geometry_rules(t, position, page, painted)
        if not any(c == Category.INVISIBLE_RENDER for c, _ in t.hidden):
            _contrast_rule(t, position, painted, renderer)
    candidates = [t for t in page.texts if any(c in RENDER_CHECKED for c, _ in t.hidden)]
    if candidates and renderer is not None:
        _check_rendered(candidates, page, settings, renderer)


def _check_rendered(
    candidates: list[TextObject], page: PageContent, settings: IntegritySettings, renderer: PageRenderer
) -> None:
    images = [g for g in page.graphics if g.kind == "image"]
    for t, ink in zip(candidates, renderer.ink(candidates), strict=True):
        if ink >= settings.min_contrast:
            t.hidden = [(c, e) for c, e in t.hidden if c not in RENDER_CHECKED]
        elif _is_ocr_layer(t, images, renderer):
            # A scanned page's text layer is invisible by design and says what the image shows.
            t.hidden = [(c, e) for c, e in t.hidden if c not in RENDER_CHECKED]
        else:
            t.hidden = [
                (c, f"{e}; none of it shows on the rendered page") if c in RENDER_CHECKED else (c, e)
                for c, e in t.hidden
            ]


def _is_ocr_layer(t: TextObject, images: list[Graphic], renderer: PageRenderer) -> bool:
    """Invisible or image-covered text lying on a scanned image that shows ink where the text is."""
    covered_by_image = any(c == Category.OFF_PAGE and "image" in e for c, e in t.hidden) or t.render_mode in (
        3,
        7,
    )
    if not covered_by_image or not any(_overlap(t.box, g.box) > 0.8 for g in images):
        return False
    return renderer.dark_share(t.box) >= 0.02


def _render_rules(t: TextObject) -> None:
    if t.render_mode in (3, 7):
        t.hidden.append((Category.INVISIBLE_RENDER, f"text render mode {t.render_mode} draws nothing"))
        return
    strokes_only = t.render_mode in (1, 5)
    alpha = t.stroke[3] if strokes_only else t.fill[3]
    if alpha <= 0.25:
        t.hidden.append((Category.INVISIBLE_RENDER, f"text is {round((1 - alpha) * 100)}% transparent"))


def _size_rules(t: TextObject, settings: IntegritySettings, body: float) -> None:
    size = effective_size(t)
    if size < settings.small_text_pt:
        t.hidden.append((Category.SMALL_TEXT, f"text is {size:.2f} pt (body text is {body:g} pt)"))
    elif size < settings.relative_small_text * body:
        t.hidden.append(
            (
                Category.SMALL_TEXT,
                f"text is {size:.2f} pt, under {settings.relative_small_text:.0%} of the {body:g} pt body",
            )
        )
    elif len(t.text.strip()) >= 8 and t.advance < 0.12 * size:
        t.hidden.append(
            (Category.SMALL_TEXT, f"text is squeezed to {t.advance:.2f} pt per character at {size:.1f} pt")
        )


def _geometry_rules(t: TextObject, position: int, page: PageContent, painted: _Painted) -> None:
    inside = _overlap(t.box, page.crop)
    if inside < 0.5:
        t.hidden.append(
            (Category.OFF_PAGE, f"text lies {round((1 - inside) * 100)}% outside the visible page")
        )
        return
    if t.clip is not None and _overlap(t.box, t.clip) < 0.2:
        t.hidden.append(
            (Category.OFF_PAGE, FIGURE_RESIDUE if t.in_form else "text is clipped away by a clipping path")
        )
        return
    cover = painted.cover.get(position)
    if cover is not None:
        what = "an image" if cover.kind == "image" else f"a {_hex(cover.fill or WHITE)} shape"
        t.hidden.append((Category.OFF_PAGE, f"text is covered by {what} painted over it"))


class _Painted:
    """For every text object of a page, the opaque graphic painted over it (if any) and the last
    graphic painted under it (its background), computed as arrays in blocks: a table page has
    thousands of text objects and cell shapes, too many to compare pair by pair in Python."""

    BLOCK = 256

    def __init__(self, texts: list[TextObject], graphics: list[Graphic]) -> None:
        self.cover: dict[int, Graphic] = {}
        self.under: dict[int, Graphic] = {}
        if not texts or not graphics:
            return
        g = np.array([x.box for x in graphics], dtype=np.float64)
        g_order = np.array([x.index for x in graphics], dtype=np.int64)
        opaque = np.array([x.fill is None or x.fill[3] > 0.95 for x in graphics], dtype=bool)
        t_all = np.array([x.box for x in texts], dtype=np.float64)
        t_order_all = np.array([x.index for x in texts], dtype=np.int64)
        for start in range(0, len(texts), self.BLOCK):
            t = t_all[start : start + self.BLOCK]
            t_order = t_order_all[start : start + self.BLOCK]
            w = np.minimum(g[None, :, 2], t[:, 2:3]) - np.maximum(g[None, :, 0], t[:, 0:1])
            h = np.minimum(g[None, :, 3], t[:, 3:4]) - np.maximum(g[None, :, 1], t[:, 1:2])
            area = ((t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1]))[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                coverage = np.where(
                    area > 0, np.clip(w, 0, None) * np.clip(h, 0, None) / area, ((w >= 0) & (h >= 0)) * 1.0
                )
            after = g_order[None, :] > t_order[:, None]
            covering = after & opaque[None, :] & (coverage > 0.9)
            behind = ~after & (coverage > 0.6)
            for row in np.flatnonzero(covering.any(axis=1)):
                self.cover[start + int(row)] = graphics[int(np.argmax(covering[row]))]
            for row in np.flatnonzero(behind.any(axis=1)):
                self.under[start + int(row)] = graphics[int(np.flatnonzero(behind[row])[-1])]


def _contrast_rule(t: TextObject, position: int, painted: _Painted, renderer: PageRenderer | None) -> None:
    colour = t.stroke if t.render_mode in (1, 5) else t.fill
    bg_graphic = painted.under.get(position)
    if bg_graphic is None:
        bg = 1.0
    elif bg_graphic.fill is not None:
        bg = luminance(bg_graphic.fill) * bg_graphic.fill[3] + (1 - bg_graphic.fill[3])
    else:
        bg = renderer.median(t.box) if renderer is not None else 0.5
    alpha = colour[3]
    fg = luminance(colour) * alpha + bg * (1 - alpha)
    contrast = abs(fg - bg)
    if contrast < CANDIDATE_CONTRAST:
        t.hidden.append(
            (
                Category.WHITE_TEXT,
                f"text colour {_hex(colour)} has contrast {contrast:.2f} against its background",
            )
        )
