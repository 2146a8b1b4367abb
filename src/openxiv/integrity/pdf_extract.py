"""Stage 1, page content (pypdfium2): every text object with its size, colours, alpha, render
mode, box, angle, layer and clip; the filled shapes and images that can sit behind or on top of it;
and the page's full text. Attributes are read per text object because PDF fixes them per object
(one text-showing operator); characters are visited only on pages that need a visible-text view.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

Box = tuple[float, float, float, float]
RGBA = tuple[float, float, float, float]


@dataclass
class TextObject:
    index: int  # paint order on the page
    handle: int  # address of the pdfium object, to match characters to objects
    text: str
    box: Box
    size: float  # effective size in points, text and page matrices applied
    fill: RGBA
    stroke: RGBA
    render_mode: int
    angle: float
    layer: str | None
    clip: Box | None
    obj: Any = None  # the pdfium object, to switch it off when the page is rendered without it
    in_form: bool = False  # drawn by a form XObject: an included figure or a reused page
    hidden: list[tuple[str, str]] = field(default_factory=list)  # (category, evidence)

    @property
    def glyph_height(self) -> float:
        """The box's extent across the baseline: what a reader sees of the glyphs' size. Type 3
        fonts scale glyphs in their own matrix, which the font size alone does not show."""
        w, h = self.box[2] - self.box[0], self.box[3] - self.box[1]
        turned = 45 < abs(self.angle) % 180 < 135
        return w if turned else h

    @property
    def advance(self) -> float:
        """Average width of one character along the baseline."""
        w, h = self.box[2] - self.box[0], self.box[3] - self.box[1]
        turned = 45 < abs(self.angle) % 180 < 135
        return (h if turned else w) / max(len(self.text.strip()), 1)


@dataclass
class Graphic:
    index: int
    kind: str  # path | image
    box: Box
    fill: RGBA | None  # None for images: colour only known from pixels


@dataclass
class PageContent:
    number: int
    crop: Box
    texts: list[TextObject]
    graphics: list[Graphic]
    full_text: str
    char_count: int


_U16P = ctypes.POINTER(ctypes.c_ushort)


def _utf16(buffer: ctypes.Array[ctypes.c_char], nbytes: int) -> str:
    # string_at copies only the bytes asked for; `buffer.raw` would copy the whole buffer.
    return ctypes.string_at(buffer, max(nbytes - 2, 0)).decode("utf-16-le", "replace")


class _Reader:
    """Reusable ctypes out-parameters: allocating them per call dominates the run time otherwise."""

    def __init__(self) -> None:
        self.l, self.b, self.r, self.t = (ctypes.c_float() for _ in range(4))
        self.c = [ctypes.c_uint() for _ in range(4)]
        self.size = ctypes.c_float()
        self.matrix = pdfium_c.FS_MATRIX()
        self.fill_mode = ctypes.c_int()
        self.stroke_flag = ctypes.c_int()
        self.ulong = ctypes.c_ulong()
        self._text_buffer = ctypes.create_string_buffer(8192)
        self._text_ptr = ctypes.cast(self._text_buffer, _U16P)

    def bounds(self, obj: pdfium_c.FPDF_PAGEOBJECT) -> Box:
        pdfium_c.FPDFPageObj_GetBounds(obj, self.l, self.b, self.r, self.t)
        return (self.l.value, self.b.value, self.r.value, self.t.value)

    def fill(self, obj: pdfium_c.FPDF_PAGEOBJECT) -> RGBA:
        if not pdfium_c.FPDFPageObj_GetFillColor(obj, *self.c):
            return (0.0, 0.0, 0.0, 1.0)
        return tuple(v.value / 255.0 for v in self.c)  # type: ignore[return-value]

    def stroke(self, obj: pdfium_c.FPDF_PAGEOBJECT) -> RGBA:
        if not pdfium_c.FPDFPageObj_GetStrokeColor(obj, *self.c):
            return (0.0, 0.0, 0.0, 1.0)
        return tuple(v.value / 255.0 for v in self.c)  # type: ignore[return-value]

    def layer(self, obj: pdfium_c.FPDF_PAGEOBJECT) -> str | None:
        for k in range(pdfium_c.FPDFPageObj_CountMarks(obj)):
            mark = pdfium_c.FPDFPageObj_GetMark(obj, k)
            if self._mark_name(mark) != "OC":
                continue
            pdfium_c.FPDFPageObjMark_GetParamStringValue(mark, b"Name", None, 0, self.ulong)
            size = self.ulong.value
            if size <= 2:
                return ""
            buffer = ctypes.create_string_buffer(size)
            pdfium_c.FPDFPageObjMark_GetParamStringValue(
                mark, b"Name", ctypes.cast(buffer, _U16P), size, self.ulong
            )
            return _utf16(buffer, size)
        return None

    def _mark_name(self, mark: pdfium_c.FPDF_PAGEOBJECTMARK) -> str:
        pdfium_c.FPDFPageObjMark_GetName(mark, None, 0, self.ulong)
        size = self.ulong.value
        buffer = ctypes.create_string_buffer(size)
        pdfium_c.FPDFPageObjMark_GetName(mark, ctypes.cast(buffer, _U16P), size, self.ulong)
        return _utf16(buffer, size)

    def clip(self, obj: pdfium_c.FPDF_PAGEOBJECT) -> Box | None:
        clip = pdfium_c.FPDFPageObj_GetClipPath(obj)
        if not clip:
            return None
        box: Box | None = None
        x, y = ctypes.c_float(), ctypes.c_float()
        for p in range(pdfium_c.FPDFClipPath_CountPaths(clip)):
            xs, ys = [], []
            for s in range(pdfium_c.FPDFClipPath_CountPathSegments(clip, p)):
                seg = pdfium_c.FPDFClipPath_GetPathSegment(clip, p, s)
                if pdfium_c.FPDFPathSegment_GetPoint(seg, x, y):
                    xs.append(x.value)
                    ys.append(y.value)
            if not xs:
                continue
            path_box = (min(xs), min(ys), max(xs), max(ys))
            box = path_box if box is None else _intersect(box, path_box)
        return box

    def text_of(self, obj: pdfium_c.FPDF_PAGEOBJECT, textpage: pdfium_c.FPDF_TEXTPAGE) -> str:
        # One call into a buffer kept between objects; a second only for the rare long object.
        size = pdfium_c.FPDFTextObj_GetText(obj, textpage, self._text_ptr, len(self._text_buffer))
        if size > len(self._text_buffer):
            self._text_buffer = ctypes.create_string_buffer(size * 2)
            self._text_ptr = ctypes.cast(self._text_buffer, _U16P)
            size = pdfium_c.FPDFTextObj_GetText(obj, textpage, self._text_ptr, len(self._text_buffer))
        return _utf16(self._text_buffer, size) if size > 2 else ""


def _intersect(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _address(obj: Any) -> int:
    return ctypes.cast(obj, ctypes.c_void_p).value or 0


def _compose(inner: tuple[float, ...], outer: tuple[float, ...] | None) -> tuple[float, ...]:
    """The matrix that applies `inner` first, then `outer` (PDF row-vector convention)."""
    if outer is None:
        return inner
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _transform_box(box: Box, m: tuple[float, ...]) -> Box:
    a, b, c, d, e, f = m
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[0], box[3]), (box[2], box[1]), (box[2], box[3])):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return (min(xs), min(ys), max(xs), max(ys))


def read_page(page: pdfium.PdfPage, number: int, reader: _Reader | None = None) -> PageContent:
    reader = reader or _Reader()
    raw = page.raw
    textpage = page.get_textpage()
    tp = textpage.raw
    char_count = pdfium_c.FPDFText_CountChars(tp)
    full_text = textpage.get_text_range() if char_count > 0 else ""
    crop = tuple(page.get_cropbox())
    texts: list[TextObject] = []
    graphics: list[Graphic] = []
    order = 0
    # Depth-first over page objects and form XObjects; nested boxes are mapped to page space.
    stack: list[tuple[object, int, int, tuple[float, ...] | None]] = [
        (raw, 0, pdfium_c.FPDFPage_CountObjects(raw), None)
    ]
    while stack:
        parent, i, count, matrix = stack.pop()
        if i >= count:
            continue
        stack.append((parent, i + 1, count, matrix))
        obj = (
            pdfium_c.FPDFPage_GetObject(parent, i)
            if parent is raw
            else pdfium_c.FPDFFormObj_GetObject(parent, i)
        )
        if not obj:
            continue
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        order += 1
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            text = reader.text_of(obj, tp)
            if not text:
                continue
            pdfium_c.FPDFTextObj_GetFontSize(obj, reader.size)
            pdfium_c.FPDFPageObj_GetMatrix(obj, reader.matrix)
            m = reader.matrix
            scale = math.sqrt(abs(m.a * m.d - m.b * m.c)) or 1.0
            box = reader.bounds(obj)
            clip = reader.clip(obj)
            if matrix is not None:
                box = _transform_box(box, matrix)
                clip = _transform_box(clip, matrix) if clip else None
                scale *= math.sqrt(abs(matrix[0] * matrix[3] - matrix[1] * matrix[2]))
            texts.append(
                TextObject(
                    index=order,
                    handle=_address(obj),
                    text=text,
                    box=box,
                    size=reader.size.value * scale,
                    fill=reader.fill(obj),
                    stroke=reader.stroke(obj),
                    render_mode=pdfium_c.FPDFTextObj_GetTextRenderMode(obj),
                    angle=math.degrees(math.atan2(m.b, m.a)),
                    layer=reader.layer(obj),
                    clip=clip,
                    obj=obj,
                    in_form=matrix is not None,
                )
            )
        elif kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            pdfium_c.FPDFPath_GetDrawMode(obj, reader.fill_mode, reader.stroke_flag)
            if reader.fill_mode.value:
                box = reader.bounds(obj)
                graphics.append(
                    Graphic(order, "path", _transform_box(box, matrix) if matrix else box, reader.fill(obj))
                )
        elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            box = reader.bounds(obj)
            graphics.append(Graphic(order, "image", _transform_box(box, matrix) if matrix else box, None))
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and len(stack) < 8:
            pdfium_c.FPDFPageObj_GetMatrix(obj, reader.matrix)
            fm = reader.matrix
            # Objects inside a form report their geometry in the form's space; nested forms
            # multiply their matrices on the way out to the page.
            to_page = _compose((fm.a, fm.b, fm.c, fm.d, fm.e, fm.f), matrix)
            stack.append((obj, 0, pdfium_c.FPDFFormObj_CountObjects(obj), to_page))
    page_content = PageContent(number, crop, texts, graphics, full_text, char_count)
    page_content._textpage = textpage  # type: ignore[attr-defined]  # kept alive for visible_text_of
    return page_content


def visible_text_of(content: PageContent) -> str:
    """The page text without the characters of hidden text objects (reading order kept)."""
    hidden = {t.handle for t in content.texts if t.hidden}
    if not hidden:
        return content.full_text
    tp = content._textpage.raw  # type: ignore[attr-defined]
    text = content.full_text
    out = []
    # FPDFText_GetText yields one UTF-16 unit per character index, so indices line up.
    units = text.encode("utf-16-le")
    for i in range(min(content.char_count, len(units) // 2)):
        obj = pdfium_c.FPDFText_GetTextObject(tp, i)
        if obj and _address(obj) in hidden:
            continue
        out.append(units[2 * i : 2 * i + 2])
    return b"".join(out).decode("utf-16-le", "replace")


def close_page(content: PageContent) -> None:
    textpage = getattr(content, "_textpage", None)
    if textpage is not None:
        textpage.close()
        content._textpage = None  # type: ignore[attr-defined]


def render_grey(page: pdfium.PdfPage, scale: float = 1.0) -> Any:
    """The page in greyscale as a numpy array (rows from the top), for checks that need pixels."""
    bitmap = page.render(scale=scale, grayscale=True)
    return bitmap.to_numpy().reshape(bitmap.height, bitmap.width, -1)[:, :, 0].copy()


def switch_off(texts: list[TextObject]) -> None:
    """Make text objects draw nothing (render mode 3), so the page can be rendered without them."""
    for t in texts:
        if t.obj is not None:
            pdfium_c.FPDFTextObj_SetTextRenderMode(t.obj, pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE)
