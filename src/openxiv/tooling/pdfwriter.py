"""The one PDF writer of the project: real PDF files without a typesetting system.

`text_pdf` makes a plain paper (a title and word-wrapped paragraphs) for the demo and for tests;
`PdfDocument` builds the integrity benchmark corpus and the scanner's test fixtures. It writes exactly the constructs the scanner must understand -- standard-14 fonts, predefined
CJK CID fonts (no font files needed), Type 3 fonts with blank glyphs, fonts whose ToUnicode map
disagrees with their glyphs, colours with alpha, render modes, clipping, optional-content layers,
annotations, Info/XMP metadata, attachments and JavaScript -- and nothing else.
"""

from __future__ import annotations

import textwrap
import zlib
from dataclasses import dataclass, field

Color = tuple[float, float, float]

# Resource names of the fonts every page carries. The simple fonts use WinAnsiEncoding.
SIMPLE_FONTS = {
    "F1": "Helvetica",
    "F2": "Helvetica-Bold",
    "F3": "Times-Roman",
    "F4": "Courier",
    "F5": "Times-Italic",
}
CJK_FONT = "FC"  # STSong-Light, UniGB-UCS2-H: Chinese, kana, Cyrillic, Greek
KOREAN_FONT = "FK"  # HYSMyeongJo-Medium, UniKS-UCS2-H
BLANK_FONT = "FB"  # Type 3 font whose glyphs draw nothing; ToUnicode maps codes to `BLANK_MAP`
REMAP_FONT = "FR"  # Helvetica glyphs with a ToUnicode map that says something else (`REMAP_TABLE`)

# Codes of the blank Type 3 font: 0x01-0x07 are zero-width / bidi characters, 0x20-0x7E are
# Unicode tag characters (U+E0020-U+E007E), the "ASCII smuggling" alphabet.
BLANK_MAP: dict[int, int] = {
    0x01: 0x200B,
    0x02: 0x200C,
    0x03: 0x200D,
    0x04: 0x2060,
    0x05: 0xFEFF,
    0x06: 0x202E,
    0x07: 0x202C,
}
BLANK_MAP.update({c: 0xE0000 + c for c in range(0x20, 0x7F)})
# pdfium drops characters of zero advance width from its text layer; a sliver keeps them.
BLANK_WIDTH = 10
BLANK_CODE_FOR = {chr(u): c for c, u in BLANK_MAP.items()}

# Glyph-remap font: the glyph drawn for a letter is the one of `REMAP_TABLE[letter]`'s code, so
# the page shows one text while extraction reads another.
_ALPHA = "abcdefghijklmnopqrstuvwxyz"
_SHIFTED = _ALPHA[7:] + _ALPHA[:7]
REMAP_TABLE = dict(zip(_ALPHA, _SHIFTED, strict=True))  # shown glyph -> extracted letter


def _pdf_string(data: bytes) -> bytes:
    out = bytearray(b"(")
    for b in data:
        if b in (0x28, 0x29, 0x5C):
            out += b"\\" + bytes([b])
        elif b < 0x20 or b > 0x7E:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b")"
    return bytes(out)


def _pdf_text_string(text: str) -> bytes:
    """A text string for dictionaries (Info, annotation contents): PDFDoc if ASCII, else UTF-16."""
    try:
        return _pdf_string(text.encode("ascii"))
    except UnicodeEncodeError:
        return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def encode_for_font(text: str, font: str) -> bytes:
    """The content-stream operand that shows `text` in `font` (raises if it cannot)."""
    if font in (CJK_FONT, KOREAN_FONT):
        return b"<" + text.encode("utf-16-be").hex().encode() + b">"
    if font == BLANK_FONT:
        return _pdf_string(bytes(BLANK_CODE_FOR[ch] for ch in text))
    if font == REMAP_FONT:
        inverse = {v: k for k, v in REMAP_TABLE.items()}
        shown = "".join(inverse.get(ch, ch) for ch in text)
        return _pdf_string(shown.encode("cp1252"))
    return _pdf_string(text.encode("cp1252"))


def pick_font(text: str, preferred: str = "F1") -> str:
    try:
        text.encode("cp1252")
        return preferred
    except UnicodeEncodeError:
        pass
    if any("\uac00" <= ch <= "\ud7af" for ch in text):
        return KOREAN_FONT
    return CJK_FONT


@dataclass
class Page:
    width: float = 612.0
    height: float = 792.0
    ops: list[str] = field(default_factory=list)
    annotations: list[tuple[tuple[float, float, float, float], str, bool]] = field(default_factory=list)
    uses_image: bool = False
    ext_states: dict[str, float] = field(default_factory=dict)
    layers_used: set[str] = field(default_factory=set)

    def _alpha_state(self, alpha: float) -> str:
        name = f"GA{round(alpha * 1000)}"
        self.ext_states[name] = alpha
        return name

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 10.0,
        font: str | None = None,
        color: Color = (0.0, 0.0, 0.0),
        render_mode: int = 0,
        alpha: float | None = None,
        angle: float = 0.0,
        layer: str | None = None,
    ) -> None:
        if font is None or font in SIMPLE_FONTS:
            font = pick_font(text, font or "F1")
        operand = encode_for_font(text, font).decode("latin-1")
        parts = ["q"]
        if layer:
            self.layers_used.add(layer)
            parts.insert(0, f"/OC /{layer} BDC")
        if alpha is not None:
            parts.append(f"/{self._alpha_state(alpha)} gs")
        r, g, b = color
        parts.append(f"{_num(r)} {_num(g)} {_num(b)} rg {_num(r)} {_num(g)} {_num(b)} RG")
        if angle:
            import math

            c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            matrix = f"{_num(c)} {_num(s)} {_num(-s)} {_num(c)} {_num(x)} {_num(y)}"
        else:
            matrix = f"1 0 0 1 {_num(x)} {_num(y)}"
        parts.append(f"BT /{font} {_num(size)} Tf {render_mode} Tr {matrix} Tm {operand} Tj ET Q")
        if layer:
            parts.append("EMC")
        self.ops.append(" ".join(parts))

    def rect(
        self, x: float, y: float, w: float, h: float, *, fill: Color, alpha: float | None = None
    ) -> None:
        r, g, b = fill
        gs = f"/{self._alpha_state(alpha)} gs " if alpha is not None else ""
        self.ops.append(
            f"q {gs}{_num(r)} {_num(g)} {_num(b)} rg {_num(x)} {_num(y)} {_num(w)} {_num(h)} re f Q"
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.5) -> None:
        self.ops.append(f"q 0 0 0 RG {_num(width)} w {_num(x1)} {_num(y1)} m {_num(x2)} {_num(y2)} l S Q")

    def image(self, x: float, y: float, w: float, h: float) -> None:
        """Draw the document's shared grey noise image (stands in for a scan or a figure)."""
        self.uses_image = True
        self.ops.append(f"q {_num(w)} 0 0 {_num(h)} {_num(x)} {_num(y)} cm /Im1 Do Q")

    def begin_clip(self, x: float, y: float, w: float, h: float) -> None:
        self.ops.append(f"q {_num(x)} {_num(y)} {_num(w)} {_num(h)} re W n")

    def end_clip(self) -> None:
        self.ops.append("Q")

    def annotation(
        self, rect: tuple[float, float, float, float], contents: str, *, hidden: bool = False
    ) -> None:
        self.annotations.append((rect, contents, hidden))


@dataclass
class PdfDocument:
    pages: list[Page] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    xmp_description: str | None = None
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    javascript: str | None = None
    hidden_layers: set[str] = field(default_factory=set)
    compress: bool = True

    def new_page(self, width: float = 612.0, height: float = 792.0) -> Page:
        page = Page(width=width, height=height)
        self.pages.append(page)
        return page

    def to_bytes(self) -> bytes:
        return _Serializer(self).run()


class _Serializer:
    def __init__(self, doc: PdfDocument) -> None:
        self.doc = doc
        self.objects: list[bytes | None] = []

    def reserve(self) -> int:
        self.objects.append(None)
        return len(self.objects)

    def set(self, num: int, body: bytes) -> None:
        self.objects[num - 1] = body

    def add(self, body: bytes) -> int:
        num = self.reserve()
        self.set(num, body)
        return num

    def stream(self, data: bytes, extra: bytes = b"") -> int:
        if self.doc.compress:
            data = zlib.compress(data, 6)
            extra += b" /Filter /FlateDecode"
        return self.add(b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")

    def fonts(self) -> bytes:
        refs = []
        for name, base in SIMPLE_FONTS.items():
            num = self.add(
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % base.encode()
            )
            refs.append(b"/%s %d 0 R" % (name.encode(), num))
        for name, base, ordering, supplement, cmap in (
            (CJK_FONT, "STSong-Light", "GB1", 4, "UniGB-UCS2-H"),
            (KOREAN_FONT, "HYSMyeongJo-Medium", "Korea1", 2, "UniKS-UCS2-H"),
        ):
            desc = self.add(
                b"<< /Type /FontDescriptor /FontName /%s /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0"
                b" /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>" % base.encode()
            )
            cid = self.add(
                b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe)"
                b" /Ordering (%s) /Supplement %d >> /FontDescriptor %d 0 R /DW 1000 >>"
                % (base.encode(), ordering.encode(), supplement, desc)
            )
            num = self.add(
                b"<< /Type /Font /Subtype /Type0 /BaseFont /%s-%s /Encoding /%s /DescendantFonts [%d 0 R] >>"
                % (base.encode(), cmap.encode(), cmap.encode(), cid)
            )
            refs.append(b"/%s %d 0 R" % (name.encode(), num))
        refs.append(b"/%s %d 0 R" % (BLANK_FONT.encode(), self._blank_font()))
        refs.append(b"/%s %d 0 R" % (REMAP_FONT.encode(), self._remap_font()))
        return b"<< " + b" ".join(refs) + b" >>"

    def _to_unicode(self, mapping: dict[int, int]) -> int:
        lines = []
        for code, uni in sorted(mapping.items()):
            lines.append(b"<%02X> <%s>" % (code, chr(uni).encode("utf-16-be").hex().upper().encode()))
        body = b"".join(
            b"%d beginbfchar\n" % len(chunk) + b"\n".join(chunk) + b"\nendbfchar\n"
            for chunk in (lines[i : i + 100] for i in range(0, len(lines), 100))
        )
        cmap = (
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe)"
            b" /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            b"1 begincodespacerange <00> <FF> endcodespacerange\n" + body + b"endcmap CMapName currentdict"
            b" /CMap defineresource pop end end"
        )
        return self.stream(cmap)

    def _blank_font(self) -> int:
        blank = self.stream(b"%d 0 0 0 0 0 d1" % BLANK_WIDTH)
        codes = sorted(BLANK_MAP)
        first, last = codes[0], codes[-1]
        names = b" ".join(b"%d /g%d" % (c, c) for c in codes)
        procs = b" ".join(b"/g%d %d 0 R" % (c, blank) for c in codes)
        widths = b" ".join(b"%d" % BLANK_WIDTH for _ in range(first, last + 1))
        tounicode = self._to_unicode(BLANK_MAP)
        return self.add(
            b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 %d 700] /FontMatrix [0.001 0 0 0.001 0 0]"
            b" /CharProcs << %s >> /Encoding << /Type /Encoding /Differences [%s] >> /FirstChar %d"
            b" /LastChar %d /Widths [%s] /Resources << >> /ToUnicode %d 0 R >>"
            % (BLANK_WIDTH, procs, names, first, last, widths, tounicode)
        )

    def _remap_font(self) -> int:
        mapping = {c: c for c in range(0x20, 0x7F)}
        for shown, extracted in REMAP_TABLE.items():
            mapping[ord(shown)] = ord(extracted)
            mapping[ord(shown.upper())] = ord(extracted.upper())
        tounicode = self._to_unicode(mapping)
        return self.add(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode %d 0 R >>"
            % tounicode
        )

    def image(self) -> int:
        import random

        rng = random.Random(7)
        w = h = 64
        pixels = bytes(rng.randrange(90, 200) for _ in range(w * h))
        return self.stream(
            pixels,
            b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
            b" /BitsPerComponent 8" % (w, h),
        )

    def run(self) -> bytes:
        doc = self.doc
        catalog = self.reserve()
        pages_num = self.reserve()
        fonts = self.fonts()
        image = self.image() if any(p.uses_image for p in doc.pages) else None
        layer_names = (
            sorted(set().union(*(p.layers_used for p in doc.pages)) | doc.hidden_layers) if doc.pages else []
        )
        layer_refs = {
            name: self.add(b"<< /Type /OCG /Name %s >>" % _pdf_text_string(name)) for name in layer_names
        }
        page_refs = []
        for page in doc.pages:
            content = self.stream("\n".join(page.ops).encode("latin-1"))
            resources = [b"/Font " + fonts]
            if image:
                resources.append(b"/XObject << /Im1 %d 0 R >>" % image)
            if page.ext_states:
                states = b" ".join(
                    b"/%s << /ca %s /CA %s >>" % (n.encode(), _num(a).encode(), _num(a).encode())
                    for n, a in page.ext_states.items()
                )
                resources.append(b"/ExtGState << " + states + b" >>")
            if page.layers_used:
                props = b" ".join(
                    b"/%s %d 0 R" % (n.encode(), layer_refs[n]) for n in sorted(page.layers_used)
                )
                resources.append(b"/Properties << " + props + b" >>")
            annots = []
            for (x0, y0, x1, y1), contents, hidden in page.annotations:
                flags = 2 if hidden else 4
                annots.append(
                    self.add(
                        b"<< /Type /Annot /Subtype /Text /Rect [%s %s %s %s] /Contents %s /F %d >>"
                        % (
                            _num(x0).encode(),
                            _num(y0).encode(),
                            _num(x1).encode(),
                            _num(y1).encode(),
                            _pdf_text_string(contents),
                            flags,
                        )
                    )
                )
            annot_part = b" /Annots [" + b" ".join(b"%d 0 R" % a for a in annots) + b"]" if annots else b""
            page_refs.append(
                self.add(
                    b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Contents %d 0 R /Resources << %s >>%s >>"
                    % (
                        pages_num,
                        _num(page.width).encode(),
                        _num(page.height).encode(),
                        content,
                        b" ".join(resources),
                        annot_part,
                    )
                )
            )
        self.set(
            pages_num,
            b"<< /Type /Pages /Kids ["
            + b" ".join(b"%d 0 R" % p for p in page_refs)
            + b"] /Count %d >>" % len(page_refs),
        )
        extras = []
        if layer_refs:
            all_refs = b" ".join(b"%d 0 R" % layer_refs[n] for n in layer_names)
            off = b" ".join(b"%d 0 R" % layer_refs[n] for n in layer_names if n in doc.hidden_layers)
            extras.append(
                b"/OCProperties << /OCGs [%s] /D << /Order [%s] /OFF [%s] >> >>" % (all_refs, all_refs, off)
            )
        names = []
        if doc.attachments:
            entries = []
            for filename, data in doc.attachments:
                ef = self.stream(data, b" /Type /EmbeddedFile")
                spec = self.add(
                    b"<< /Type /Filespec /F %s /UF %s /EF << /F %d 0 R >> >>"
                    % (_pdf_text_string(filename), _pdf_text_string(filename), ef)
                )
                entries.append(_pdf_text_string(filename) + b" %d 0 R" % spec)
            names.append(b"/EmbeddedFiles << /Names [" + b" ".join(entries) + b"] >>")
        if doc.javascript is not None:
            js = self.add(b"<< /S /JavaScript /JS %s >>" % _pdf_text_string(doc.javascript))
            names.append(b"/JavaScript << /Names [(init) %d 0 R] >>" % js)
        if names:
            extras.append(b"/Names << " + b" ".join(names) + b" >>")
        if doc.xmp_description is not None:
            xmp = (
                '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""'
                ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
                + _xml_escape(doc.xmp_description)
                + "</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
                '<?xpacket end="w"?>'
            ).encode("utf-8")
            saved = doc.compress
            doc.compress = False  # XMP is conventionally left uncompressed
            meta = self.stream(xmp, b" /Type /Metadata /Subtype /XML")
            doc.compress = saved
            extras.append(b"/Metadata %d 0 R" % meta)
        self.set(catalog, b"<< /Type /Catalog /Pages %d 0 R %s >>" % (pages_num, b" ".join(extras)))
        info = None
        if doc.info:
            info = self.add(
                b"<< "
                + b" ".join(b"/%s %s" % (k.encode(), _pdf_text_string(v)) for k, v in doc.info.items())
                + b" >>"
            )
        return self._assemble(catalog, info)

    def _assemble(self, catalog: int, info: int | None) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for num, body in enumerate(self.objects, start=1):
            assert body is not None
            offsets.append(len(out))
            out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
        trailer = b"/Size %d /Root %d 0 R" % (len(self.objects) + 1, catalog)
        if info:
            trailer += b" /Info %d 0 R" % info
        out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Layout of `text_pdf`: US Letter, one-inch margins, a fixed line pitch and wrap width.
TEXT_MARGIN = 72.0
TEXT_LINE_HEIGHT = 14.0
TEXT_WRAP_CHARS = 90
TITLE_SIZE = 16.0
BODY_SIZE = 11.0


def text_pdf(title: str, paragraphs: list[str]) -> bytes:
    """A plain paper: the title, then each paragraph wrapped and followed by a blank line. The same
    input always gives the same bytes (and so the same sha256)."""
    lines: list[tuple[str, float]] = [(title, TITLE_SIZE), ("", BODY_SIZE)]
    for paragraph in paragraphs:
        lines += [(line, BODY_SIZE) for line in textwrap.wrap(paragraph, TEXT_WRAP_CHARS) or [""]]
        lines.append(("", BODY_SIZE))
    doc = PdfDocument()
    page_height = Page().height
    per_page = int((page_height - 2 * TEXT_MARGIN) // TEXT_LINE_HEIGHT)
    for start in range(0, len(lines), per_page):
        page = doc.new_page()
        baseline = page_height - TEXT_MARGIN
        for text, size in lines[start : start + per_page]:
            if text:
                page.text(TEXT_MARGIN, baseline, text, size=size)
            baseline -= TEXT_LINE_HEIGHT
    return doc.to_bytes()
