"""Stage 1, document structure (pikepdf): guards against hostile files, then metadata, XMP,
annotations, attachments, JavaScript, optional-content layers and fonts whose Unicode map lies."""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import pikepdf

from openxiv.integrity.errors import UnreadableDocument
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


def check_inflation(pdf: pikepdf.Pdf, limit: int) -> int:
    """Total inflated size of the Flate streams; raises before inflating more than `limit` bytes."""
    total = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream):
            continue
        filters = obj.get("/Filter")
        names = (
            [str(f) for f in filters]
            if isinstance(filters, pikepdf.Array)
            else [str(filters)]
            if filters
            else []
        )
        if "/FlateDecode" not in names:
            continue
        try:
            raw = obj.read_raw_bytes()
        except pikepdf.PdfError:
            continue
        inflater = zlib.decompressobj()
        chunk = raw
        while chunk:
            piece = inflater.decompress(chunk, 1 << 20)
            total += len(piece)
            if total > limit:
                raise UnreadableDocument(
                    f"the PDF inflates to more than {limit // (1024 * 1024)} MiB (decompression bomb?)"
                )
            chunk = inflater.unconsumed_tail
            if not piece and not chunk:
                break
    return total


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


def _parse_tounicode(stream: pikepdf.Stream) -> dict[int, str]:
    try:
        text = stream.read_bytes()[: 1 << 20].decode("latin-1")
    except pikepdf.PdfError:
        return {}
    mapping: dict[int, str] = {}

    def uni(hexstr: str) -> str:
        try:
            return bytes.fromhex(hexstr).decode("utf-16-be", "replace")
        except ValueError:
            return ""

    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[int(src, 16)] = uni(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start, end, base = int(lo, 16), int(hi, 16), int(dst, 16)
            for offset in range(min(end - start + 1, 256)):
                try:
                    mapping[start + offset] = chr(base + offset)
                except ValueError:
                    break
    return mapping


_WINANSI = {c: chr(c) for c in range(0x20, 0x7F)}


def _glyph_names(font: pikepdf.Dictionary) -> dict[int, str]:
    """Code -> glyph name for a simple font with a standard-like base encoding."""
    names = {c: ch for c, ch in _WINANSI.items() if ch in GLYPH_TO_CHAR}
    if font.get("/Subtype") == pikepdf.Name.Type3:
        names = {}
    enc = font.get("/Encoding")
    if isinstance(enc, pikepdf.Dictionary):
        diffs = enc.get("/Differences")
        if isinstance(diffs, pikepdf.Array):
            code = 0
            for item in diffs:
                if isinstance(item, int) or (hasattr(item, "__int__") and not isinstance(item, pikepdf.Name)):
                    code = int(item)
                else:
                    names[code] = str(item).lstrip("/")
                    code += 1
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
        if font.get("/Subtype") in (pikepdf.Name.Type0,):
            continue
        glyphs = _glyph_names(font)
        wrong = {}
        for code, glyph in glyphs.items():
            expected = GLYPH_TO_CHAR.get(glyph)
            actual = mapping.get(code)
            if expected and actual and len(actual) == 1 and actual.isalnum() and actual != expected:
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


def read_structure(pdf: pikepdf.Pdf, *, max_attachment_bytes: int = 1 << 20) -> PdfStructure:
    structure = PdfStructure(page_count=len(pdf.pages), encrypted=pdf.is_encrypted)
    try:
        for key, value in pdf.docinfo.items():
            text = _text(value)
            if text:
                structure.info[str(key).lstrip("/")] = text[:20000]
    except (pikepdf.PdfError, ValueError):
        pass
    structure.xmp_text = _xmp_text(pdf)
    root = pdf.Root
    oc = root.get("/OCProperties")
    if isinstance(oc, pikepdf.Dictionary):
        default = oc.get("/D")
        off = default.get("/OFF") if isinstance(default, pikepdf.Dictionary) else None
        if isinstance(off, pikepdf.Array):
            for group in off:
                if isinstance(group, pikepdf.Dictionary):
                    structure.hidden_layers.add(_text(group.get("/Name", "")))
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for name, spec in _name_tree(names.get("/EmbeddedFiles")):
            structure.attachments.append((name, _embedded_bytes(spec, max_attachment_bytes)))
        for _name, action in _name_tree(names.get("/JavaScript")):
            structure.javascript += _javascript_of(action)
    structure.javascript += _javascript_of(root.get("/OpenAction"))
    for page_no, page in enumerate(pdf.pages, start=1):
        obj = page.obj
        for action in (
            (obj.get("/AA") or {}).values() if isinstance(obj.get("/AA"), pikepdf.Dictionary) else []
        ):
            structure.javascript += _javascript_of(action)
        annots = obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            for annot in annots[:500]:
                if not isinstance(annot, pikepdf.Dictionary):
                    continue
                subtype = _text(annot.get("/Subtype", "")).lstrip("/")
                if subtype in ("Link", "Popup"):
                    structure.javascript += _javascript_of(annot.get("/A"))
                    continue
                if subtype == "FileAttachment":
                    spec = annot.get("/FS")
                    structure.attachments.append(
                        (
                            _text(spec.get("/F", "attachment"))
                            if isinstance(spec, pikepdf.Dictionary)
                            else "attachment",
                            _embedded_bytes(spec, max_attachment_bytes),
                        )
                    )
                text = " ".join(
                    _text(annot.get(k, ""))
                    for k in ("/Contents", "/T", "/Subj", "/V", "/TU")
                    if annot.get(k) is not None
                ).strip()
                flags = (
                    int(annot.get("/F", 0))
                    if isinstance(annot.get("/F", 0), int) or hasattr(annot.get("/F", 0), "__int__")
                    else 0
                )
                rect = (
                    [float(x) for x in annot.get("/Rect", [])][:4]
                    if isinstance(annot.get("/Rect"), pikepdf.Array)
                    else []
                )
                if text:
                    structure.annotations.append(
                        Annotation(page_no, subtype, rect, text[:20000], bool(flags & 0x22))
                    )
                structure.javascript += _javascript_of(annot.get("/A"))
        resources = obj.get("/Resources")
        if isinstance(resources, pikepdf.Dictionary):
            structure.font_issues += _font_issues(page_no, resources.get("/Font"), obj)
    return structure


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
