"""Stage 2, layout rules: decide for each text object whether a reader can see it, and why not.

Every check runs independently and adds its own reason, so one object can be both white and tiny.
Background colours come from the filled shapes painted before the text; only where an image lies
behind the text is the page rendered (greyscale) to read the pixels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from openxiv.integrity.pdf_extract import RGBA, Box, Graphic, PageContent, TextObject
from openxiv.integrity.schemas import Category
from openxiv.integrity.settings import IntegritySettings

WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)


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


def body_size(pages: list[PageContent]) -> float:
    """The most common effective font size, weighted by characters (the body text)."""
    counts: Counter[float] = Counter()
    for page in pages:
        for t in page.texts:
            if t.render_mode not in (3, 7) and t.size > 0:
                counts[round(t.size * 2) / 2] += len(t.text)
    return counts.most_common(1)[0][0] if counts else 10.0


def _hex(rgb: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(v * 255):02x}" for v in rgb[:3])


def classify_page(
    page: PageContent,
    *,
    settings: IntegritySettings,
    hidden_layers: set[str],
    body: float,
    pixels: Callable[[], np.ndarray | None],
    page_height: float,
) -> None:
    """Fill `hidden` on every text object of the page."""
    images = [g for g in page.graphics if g.kind == "image"]
    for t in page.texts:
        if not t.text.strip():
            continue
        if _is_ocr_layer(t, images):
            continue  # invisible text over a scanned image is what the image shows
        _render_rules(t)
        _size_rules(t, settings, body)
        if t.layer is not None and t.layer in hidden_layers:
            t.hidden.append(
                (Category.HIDDEN_LAYER, f"text in the optional-content layer {t.layer!r}, which is off")
            )
        _geometry_rules(t, page)
        if not any(c == Category.INVISIBLE_RENDER for c, _ in t.hidden):
            _contrast_rule(t, page, settings, pixels, page_height)


def _is_ocr_layer(t: TextObject, images: list[Graphic]) -> bool:
    if t.render_mode != 3:
        return False
    return any(g.index < t.index and _overlap(t.box, g.box) > 0.8 for g in images)


def _render_rules(t: TextObject) -> None:
    if t.render_mode in (3, 7):
        t.hidden.append((Category.INVISIBLE_RENDER, f"text render mode {t.render_mode} draws nothing"))
        return
    strokes_only = t.render_mode in (1, 5)
    alpha = t.stroke[3] if strokes_only else t.fill[3]
    if alpha <= 0.02:
        t.hidden.append((Category.INVISIBLE_RENDER, f"text is {round((1 - alpha) * 100)}% transparent"))


def _size_rules(t: TextObject, settings: IntegritySettings, body: float) -> None:
    if t.size < settings.small_text_pt:
        t.hidden.append((Category.SMALL_TEXT, f"text is {t.size:.2f} pt (body text is {body:g} pt)"))
    elif t.size < settings.relative_small_text * body:
        t.hidden.append(
            (
                Category.SMALL_TEXT,
                f"text is {t.size:.2f} pt, under {settings.relative_small_text:.0%} of the {body:g} pt body",
            )
        )


def _geometry_rules(t: TextObject, page: PageContent) -> None:
    crop = page.crop
    inside = _overlap(t.box, crop)
    if inside < 0.5:
        t.hidden.append(
            (Category.OFF_PAGE, f"text lies {round((1 - inside) * 100)}% outside the visible page")
        )
        return
    if t.clip is not None and _overlap(t.box, t.clip) < 0.2:
        t.hidden.append((Category.OFF_PAGE, "text is clipped away by a clipping path"))
        return
    for g in page.graphics:
        if g.index > t.index and _overlap(t.box, g.box) > 0.9 and (g.fill is None or g.fill[3] > 0.95):
            what = "an image" if g.kind == "image" else f"a {_hex(g.fill or WHITE)} shape"
            t.hidden.append((Category.OFF_PAGE, f"text is covered by {what} painted over it"))
            return


def _background(t: TextObject, page: PageContent) -> Graphic | None:
    best = None
    for g in page.graphics:
        if g.index < t.index and _overlap(t.box, g.box) > 0.6:
            best = g  # the last one painted is on top
    return best


def _contrast_rule(
    t: TextObject,
    page: PageContent,
    settings: IntegritySettings,
    pixels: Callable[[], np.ndarray | None],
    page_height: float,
) -> None:
    colour = t.stroke if t.render_mode in (1, 5) else t.fill
    bg_graphic = _background(t, page)
    if bg_graphic is None:
        bg = 1.0
    elif bg_graphic.fill is not None:
        bg = luminance(bg_graphic.fill) * bg_graphic.fill[3] + (1 - bg_graphic.fill[3])
    else:
        image = pixels()
        bg = _median_under(image, t.box, page.crop, page_height) if image is not None else 0.5
    alpha = colour[3]
    fg = luminance(colour) * alpha + bg * (1 - alpha)
    contrast = abs(fg - bg)
    if contrast < settings.min_contrast:
        t.hidden.append(
            (
                Category.WHITE_TEXT,
                f"text colour {_hex(colour)} has contrast {contrast:.2f} against its background",
            )
        )


def _median_under(image: np.ndarray, box: Box, crop: Box, page_height: float) -> float:
    h, w = image.shape
    sx = w / max(crop[2] - crop[0], 1.0)
    sy = h / max(crop[3] - crop[1], 1.0)
    x0 = int(max(0, (box[0] - crop[0]) * sx))
    x1 = int(min(w, (box[2] - crop[0]) * sx + 1))
    y0 = int(max(0, (crop[3] - box[3]) * sy))
    y1 = int(min(h, (crop[3] - box[1]) * sy + 1))
    if x1 <= x0 or y1 <= y0:
        return 1.0
    return float(np.median(image[y0:y1, x0:x1])) / 255.0
