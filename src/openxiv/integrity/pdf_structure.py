"""Stage 1, document structure (pikepdf): guards against hostile files, then metadata, XMP,
annotations, attachments, JavaScript, optional-content layers and fonts whose Unicode map lies."""

from __future__ import annotations

import base64
import io
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import pikepdf

from openxiv.integrity.errors import CheckFailures, UnreadableDocument
from openxiv.integrity.textscan import is_invisible_char

# Glyph names of the letters and digits, enough to compare a font's encoding with its ToUnicode.
_DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
GLYPH_TO_CHAR = {c: c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}
GLYPH_TO_CHAR.update({name: str(i) for i, name in enumerate(_DIGIT_NAMES)})


@dataclass
class Annotation:
    page: int
    subtype: str
    rect: list[float]
    text: str
    hidden: bool


@dataclass
class FontIssue:
    page: int
    font: str  # resource name
    kind: str  # glyph_remap | invisible_map
    evidence: str
    text: str = ""


@dataclass
class PdfStructure:
    page_count: int
    info: dict[str, str] = field(default_factory=dict)
    xmp_text: str = ""
    annotations: list[Annotation] = field(default_factory=list)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    javascript: list[str] = field(default_factory=list)
    hidden_layers: set[str] = field(default_factory=set)
    font_issues: list[FontIssue] = field(default_factory=list)
    image_texts: list[str] = field(default_factory=list)  # comments and Exif/XMP text inside JPEGs
    encrypted: bool = False


def open_pdf(data: bytes) -> pikepdf.Pdf:
    try:
        return pikepdf.Pdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise UnreadableDocument("the PDF is encrypted with a password; upload an unencrypted file") from None
    except (pikepdf.PdfError, ValueError, OSError) as error:
        raise UnreadableDocument(f"the PDF is damaged and cannot be parsed ({_one_line(error)})") from None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:160] or error.__class__.__name__


def _filters(stream: pikepdf.Stream) -> list[str]:
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array):
        return [str(f) for f in filters]
    return [str(filters)] if filters is not None else []


def _ascii_decoded(raw: bytes, name: str) -> bytes:
    if name in ("/ASCII85Decode", "/A85"):
        body = raw.strip()
        body = body[2:] if body.startswith(b"<~") else body
        return base64.a85decode(body.split(b"~>")[0], ignorechars=b" \t\r\n\x0b\x0c")
    return bytes.fromhex(re.sub(rb"[^0-9A-Fa-f]", b"", raw.split(b">")[0]).decode("ascii"))


def check_inflation(pdf: pikepdf.Pdf, limit: int) -> int:
    """Inflated size of the Flate streams the checks read (content, fonts, metadata, attachments);
    raises before inflating more than `limit` bytes. Image data is left out: the checks never
    inflate it, and a paper full of figures is not a decompression bomb. A stream that does not
    decode as it claims is left to the PDF reader, which skips or repairs it."""
    total = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") == pikepdf.Name.Image:
            continue
        names = _filters(obj)
        if "/FlateDecode" not in names and "/Fl" not in names:
            continue
        try:
            raw = obj.read_raw_bytes()
            for name in names[: names.index("/FlateDecode" if "/FlateDecode" in names else "/Fl")]:
                if name not in ("/ASCII85Decode", "/A85", "/ASCIIHexDecode", "/AHx"):
                    raw = b""  # an unusual chain: nothing the checks would inflate themselves
                    break
                raw = _ascii_decoded(raw, name)
            total += _inflated_size(raw, limit - total)
        except (pikepdf.PdfError, zlib.error, ValueError):
            continue
        if total > limit:
            raise UnreadableDocument(
                f"the PDF inflates to more than {limit // (1024 * 1024)} MiB (decompression bomb?)"
            )
    return total


def _inflated_size(raw: bytes, budget: int) -> int:
    """Bytes `raw` inflates to, counting in chunks and stopping once past `budget`."""
    inflater = zlib.decompressobj()
    size, chunk = 0, raw
    while chunk and size <= budget:
        piece = inflater.decompress(chunk, 1 << 20)
        size += len(piece)
        chunk = inflater.unconsumed_tail
        if not piece:
            break
    return size


def _text(value: Any) -> str:
    try:
        return str(value)
    except (UnicodeDecodeError, ValueError):
        return ""


def _xmp_text(pdf: pikepdf.Pdf) -> str:
    meta = pdf.Root.get("/Metadata")
    if not isinstance(meta, pikepdf.Stream):
        return ""
    try:
        xml = meta.read_bytes()[: 4 << 20].decode("utf-8", "replace")
    except pikepdf.PdfError:
        return ""
    parts = [p.strip() for p in re.findall(r">([^<>]+)<", xml)]
    return "\n".join(p for p in parts if p and not p.startswith("?xpacket") and len(p) > 1)


def _name_tree(node: Any, depth: int = 0) -> list[tuple[str, Any]]:
    if depth > 20 or not isinstance(node, pikepdf.Dictionary):
        return []
    out = []
    names = node.get("/Names")
    if isinstance(names, pikepdf.Array):
        for i in range(0, len(names) - 1, 2):
            out.append((_text(names[i]), names[i + 1]))
    kids = node.get("/Kids")
    if isinstance(kids, pikepdf.Array):
        for kid in kids:
            out += _name_tree(kid, depth + 1)
    return out


def _embedded_bytes(spec: Any, limit: int) -> bytes:
    ef = spec.get("/EF") if isinstance(spec, pikepdf.Dictionary) else None
    stream = ef.get("/F") if isinstance(ef, pikepdf.Dictionary) else None
    if not isinstance(stream, pikepdf.Stream):
        return b""
    try:
        return stream.read_bytes()[:limit]
    except pikepdf.PdfError:
        return b""


def _javascript_of(action: Any, depth: int = 0) -> list[str]:
    if depth > 5 or not isinstance(action, pikepdf.Dictionary):
        return []
    out = []
    if action.get("/S") == pikepdf.Name.JavaScript:
        js = action.get("/JS")
        if isinstance(js, pikepdf.Stream):
            out.append(js.read_bytes()[:65536].decode("latin-1"))
        elif js is not None:
            out.append(_text(js))
    nxt = action.get("/Next")
    if isinstance(nxt, pikepdf.Array):
        for a in nxt:
            out += _javascript_of(a, depth + 1)
    elif nxt is not None:
        out += _javascript_of(nxt, depth + 1)
    return out


MAX_RANGE_ENTRIES = 1024  # enough to see what a font maps; a hostile range cannot blow up memory


def _utf16(hexstr: str) -> str:
    """A CMap destination (UTF-16BE hex) as text; '' for a malformed one."""
    if len(hexstr) % 4:
        return ""
    return bytes.fromhex(hexstr).decode("utf-16-be", "replace")


def _range_targets(dst: str, count: int) -> list[str]:
    """The destinations of a bfrange: the last UTF-16 code unit counts up from `dst`."""
    if not dst or len(dst) % 4:
        return []
    prefix, last = bytes.fromhex(dst[:-4]), int(dst[-4:], 16)
    out = []
    for offset in range(count):
        unit = last + offset
        if unit > 0xFFFF:
            break
        out.append((prefix + unit.to_bytes(2, "big")).decode("utf-16-be", "replace"))
    return out


def _parse_tounicode(stream: pikepdf.Stream) -> dict[int, str]:
    """Code -> text of a ToUnicode CMap, tolerant of malformed and absurd entries."""
    try:
        text = stream.read_bytes()[: 1 << 20].decode("latin-1")
    except pikepdf.PdfError:
        return {}
    mapping: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[int(src, 16)] = _utf16(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start, end = int(lo, 16), int(hi, 16)
            count = min(end - start + 1, MAX_RANGE_ENTRIES)
            for offset, target in enumerate(_range_targets(dst, max(count, 0))):
                mapping[start + offset] = target
        for lo, _hi, targets in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\[([^\]]*)\]", block):
            start = int(lo, 16)
            for offset, dst in enumerate(re.findall(r"<([0-9A-Fa-f]*)>", targets)[:MAX_RANGE_ENTRIES]):
                mapping[start + offset] = _utf16(dst)
    return mapping


_WINANSI = {c: chr(c) for c in range(0x20, 0x7F)}
# Fonts whose glyph names say nothing about letters: TeX math and symbol fonts reuse letter codes
# for symbols, and their maps legitimately disagree with any Latin reading.
_SYMBOL_FONT = re.compile(
    r"(?:^|\+)(?:CM(?:MI|SY|EX|BSY)|MSAM|MSBM|EUFM|EUSM|RSFS|STIX|Symbol|ZapfDingbats|Dingbat|Wingding|Math|LMMath|rsfs|wasy|stmary)",
    re.I,
)
_SYMBOLIC_FLAG = 1 << 2


def _is_symbol_font(font: pikepdf.Dictionary) -> bool:
    base = _text(font.get("/BaseFont", "")).lstrip("/")
    if _SYMBOL_FONT.search(base):
        return True
    descriptor = font.get("/FontDescriptor")
    flags = descriptor.get("/Flags", 0) if isinstance(descriptor, pikepdf.Dictionary) else 0
    try:
        return bool(int(flags) & _SYMBOLIC_FLAG)
    except (TypeError, ValueError):
        return False


_STANDARD_ENCODINGS = ("/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding")


def _glyph_names(font: pikepdf.Dictionary) -> dict[int, str]:
    """Code -> glyph name, only where the font says which glyph a code draws: a standard base
    encoding it names, and its /Differences. A built-in encoding (no /Encoding, as in TeX's
    math fonts) is unknown without reading the font program, so it is never assumed."""
    enc = font.get("/Encoding")
    base = enc.get("/BaseEncoding") if isinstance(enc, pikepdf.Dictionary) else enc
    names: dict[int, str] = {}
    if isinstance(base, pikepdf.Name) and str(base) in _STANDARD_ENCODINGS:
        names = {c: ch for c, ch in _WINANSI.items() if ch in GLYPH_TO_CHAR}
    diffs = enc.get("/Differences") if isinstance(enc, pikepdf.Dictionary) else None
    if not isinstance(diffs, pikepdf.Array):
        return names
    code = 0
    for item in diffs:
        if isinstance(item, pikepdf.Name):
            names[code] = str(item).lstrip("/")
            code += 1
        else:
            try:
                code = int(item)
            except (TypeError, ValueError):
                return {}
    return names


def _fonts_used(page: Any) -> set[str]:
    """Font resource names selected by the page's content stream (a font only listed is harmless)."""
    try:
        contents = page.Contents
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        data = b"\n".join(s.read_bytes() for s in streams if isinstance(s, pikepdf.Stream))
    except (pikepdf.PdfError, AttributeError):
        return set()
    return {"/" + m.decode("latin-1") for m in re.findall(rb"/([^\s/\[\]()<>{}%]+)\s+[-\d.]+\s+Tf", data)}


def _font_issues(page_no: int, fonts: Any, page: Any) -> list[FontIssue]:
    issues: list[FontIssue] = []
    if not isinstance(fonts, pikepdf.Dictionary):
        return issues
    used: set[str] | None = None
    for res_name, font in fonts.items():
        if not isinstance(font, pikepdf.Dictionary):
            continue
        if not isinstance(font.get("/ToUnicode"), pikepdf.Stream):
            continue
        if used is None:
            used = _fonts_used(page)
        if res_name not in used:
            continue
        tu = font.get("/ToUnicode")
        if not isinstance(tu, pikepdf.Stream):
            continue
        mapping = _parse_tounicode(tu)
        invisible = [u for u in mapping.values() if u and all(is_invisible_char(ch) for ch in u)]
        if len(invisible) >= 3:
            issues.append(
                FontIssue(
                    page_no,
                    res_name,
                    "invisible_map",
                    f"font {res_name} maps {len(invisible)} codes to invisible characters",
                )
            )
        if font.get("/Subtype") in (pikepdf.Name.Type0, pikepdf.Name.Type3) or _is_symbol_font(font):
            continue
        glyphs = _glyph_names(font)
        wrong = {}
        # A lie needs letters on both sides: the glyph drawn is named as one Latin letter and the
        # map says another. Ligatures (fi -> "fi"), accents and symbols never count.
        for code, glyph in glyphs.items():
            expected = GLYPH_TO_CHAR.get(glyph)
            actual = mapping.get(code)
            if (
                expected
                and expected.isalpha()
                and actual
                and len(actual) == 1
                and actual.isascii()
                and actual.isalpha()
                and actual.lower() != expected.lower()
            ):
                wrong[expected] = actual
        if len(wrong) >= 3:
            sample = ", ".join(f"{k}->{v}" for k, v in list(wrong.items())[:4])
            issues.append(
                FontIssue(
                    page_no,
                    res_name,
                    "glyph_remap",
                    f"font {res_name} draws one letter but its Unicode map says another ({sample}, ...)",
                )
            )
    return issues


def read_structure(
    pdf: pikepdf.Pdf, checks: CheckFailures, *, max_attachment_bytes: int = 1 << 20
) -> PdfStructure:
    """Everything outside the page content, each part read under its own guard."""
    structure = PdfStructure(page_count=len(pdf.pages), encrypted=pdf.is_encrypted)
    with checks.guard("metadata"):
        for key, value in pdf.docinfo.items():
            text = _text(value)
            if text:
                structure.info[str(key).lstrip("/")] = text[:20000]
    with checks.guard("XMP metadata"):
        structure.xmp_text = _xmp_text(pdf)
    root = pdf.Root
    with checks.guard("optional-content layers"):
        structure.hidden_layers = _layers_off(root)
    with checks.guard("attachments and scripts"):
        names = root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            for name, spec in _name_tree(names.get("/EmbeddedFiles")):
                structure.attachments.append((name, _embedded_bytes(spec, max_attachment_bytes)))
            for _name, action in _name_tree(names.get("/JavaScript")):
                structure.javascript += _javascript_of(action)
        structure.javascript += _javascript_of(root.get("/OpenAction"))
    with checks.guard("image metadata"):
        structure.image_texts = _jpeg_texts(pdf)
    for page_no, page in enumerate(pdf.pages, start=1):
        obj = page.obj
        with checks.guard("page actions", page_no):
            actions = obj.get("/AA")
            for action in actions.values() if isinstance(actions, pikepdf.Dictionary) else []:
                structure.javascript += _javascript_of(action)
        with checks.guard("annotations", page_no):
            _read_annotations(obj, page_no, structure, max_attachment_bytes)
        with checks.guard("fonts", page_no):
            resources = obj.get("/Resources")
            if isinstance(resources, pikepdf.Dictionary):
                structure.font_issues += _font_issues(page_no, resources.get("/Font"), obj)
    return structure


MAX_IMAGES_READ = 300
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{12,}")
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e]\x00){12,}")


def _jpeg_texts(pdf: pikepdf.Pdf) -> list[str]:
    """Readable text in the comment and metadata segments (COM, APP1 Exif/XMP, APP13) of the JPEG
    images: a reader never sees it, an extraction pipeline may pass it to a model."""
    out: list[str] = []
    seen = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != pikepdf.Name.Image:
            continue
        names = _filters(obj)
        if not names or names[-1] not in ("/DCTDecode", "/DCT"):
            continue
        seen += 1
        if seen > MAX_IMAGES_READ:
            break
        try:
            raw = obj.read_raw_bytes()[: 1 << 20]
            for name in names[:-1]:
                raw = _ascii_decoded(raw, name)
        except (pikepdf.PdfError, ValueError):
            continue
        for segment in _jpeg_segments(raw):
            runs = [m.group().decode("ascii") for m in _PRINTABLE_RUN.finditer(segment)]
            runs += [m.group().decode("utf-16-le") for m in _UTF16_RUN.finditer(segment)]
            text = " ".join(r.strip() for r in runs if not r.startswith(("http://", "Exif", "<?xpacket")))
            if text.strip():
                out.append(text[:5000])
    return out


def _jpeg_segments(data: bytes) -> list[bytes]:
    """Payloads of the COM, APP1 and APP13 segments before the image data starts."""
    if not data.startswith(b"\xff\xd8"):
        return []
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: pixels follow
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            break
        if marker in (0xFE, 0xE1, 0xED):
            out.append(data[pos + 4 : pos + 2 + length])
        pos += 2 + length
    return out


def _layers_off(root: Any) -> set[str]:
    oc = root.get("/OCProperties")
    default = oc.get("/D") if isinstance(oc, pikepdf.Dictionary) else None
    off = default.get("/OFF") if isinstance(default, pikepdf.Dictionary) else None
    if not isinstance(off, pikepdf.Array):
        return set()
    return {_text(group.get("/Name", "")) for group in off if isinstance(group, pikepdf.Dictionary)}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _read_annotations(obj: Any, page_no: int, structure: PdfStructure, max_attachment_bytes: int) -> None:
    annots = obj.get("/Annots")
    if not isinstance(annots, pikepdf.Array):
        return
    for annot in list(annots)[:500]:
        if not isinstance(annot, pikepdf.Dictionary):
            continue
        subtype = _text(annot.get("/Subtype", "")).lstrip("/")
        structure.javascript += _javascript_of(annot.get("/A"))
        if subtype in ("Link", "Popup"):
            continue
        if subtype == "FileAttachment":
            spec = annot.get("/FS")
            name = (
                _text(spec.get("/F", "attachment")) if isinstance(spec, pikepdf.Dictionary) else "attachment"
            )
            structure.attachments.append((name, _embedded_bytes(spec, max_attachment_bytes)))
        text = " ".join(
            _text(annot.get(k)) for k in ("/Contents", "/T", "/Subj", "/V", "/TU") if annot.get(k) is not None
        ).strip()
        rect_value = annot.get("/Rect")
        rect = [float(x) for x in rect_value][:4] if isinstance(rect_value, pikepdf.Array) else []
        if text:
            hidden = bool(_int(annot.get("/F", 0)) & 0x22)  # the Hidden and NoView flags
            structure.annotations.append(Annotation(page_no, subtype, rect, text[:20000], hidden))


def remapped_text(pdf: pikepdf.Pdf, issue: FontIssue) -> tuple[str, str]:
    """(shown, extracted) text drawn with a remapping font on one page, for the evidence."""
    page = pdf.pages[issue.page - 1]
    font = page.obj.Resources.Font[issue.font]
    if not isinstance(font, pikepdf.Dictionary) or not isinstance(font.get("/ToUnicode"), pikepdf.Stream):
        return "", ""
    mapping = _parse_tounicode(font.ToUnicode)  # type: ignore[arg-type]
    glyphs = _glyph_names(font)
    shown, extracted = [], []
    current = None
    try:
        instructions = pikepdf.parse_content_stream(page)
    except pikepdf.PdfError:
        return "", ""
    for instruction in instructions:
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            continue
        operands, operator = instruction.operands, instruction.operator
        op = str(operator)
        if op == "Tf" and operands:
            current = str(operands[0])
        elif op in ("Tj", "TJ", "'", '"') and current == issue.font:
            items = operands[-1] if op != "TJ" else [x for x in operands[0] if isinstance(x, pikepdf.String)]
            for item in items if op == "TJ" else [items]:
                for code in bytes(item):
                    shown.append(GLYPH_TO_CHAR.get(glyphs.get(code, ""), chr(code)))
                    extracted.append(mapping.get(code, chr(code)))
            shown.append(" ")
            extracted.append(" ")
    return "".join(shown).strip(), "".join(extracted).strip()
