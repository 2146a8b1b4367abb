"""Hidden means not visible on the rendered page; a failing sub-check is reported, not fatal."""

from __future__ import annotations

import io
import zlib

import pikepdf
import pytest

from openxiv.integrity import pdf_structure
from openxiv.integrity.pdf_structure import _parse_tounicode, check_inflation
from openxiv.integrity.scanner import scan_document
from openxiv.integrity.schemas import Action, Category
from openxiv.integrity.settings import IntegritySettings
from tests.integrity.helpers import PAYLOAD, paper

HIDING = {Category.WHITE_TEXT, Category.OFF_PAGE, Category.INVISIBLE_RENDER, Category.SMALL_TEXT}


def hiding_findings(data: bytes) -> list[tuple[Category, str]]:
    report = scan_document(data, filename="paper.pdf")
    return [(f.category, f.text) for f in report.findings if f.category in HIDING and f.text]


def test_white_label_on_a_dark_box_is_visible() -> None:
    doc, w = paper(3)
    w.page.rect(70, 100, 300, 20, fill=(0.1, 0.1, 0.3))
    w.page.text(72, 106, "Ours (best) reaches 91.2 accuracy on every split", size=9, color=(1, 1, 1))
    assert not [t for _, t in hiding_findings(doc.to_bytes()) if "Ours" in t]


def test_the_same_white_text_on_white_paper_is_hidden() -> None:
    doc, w = paper(3)
    w.page.text(72, 106, "Ours (best) reaches 91.2 accuracy on every split", size=9, color=(1, 1, 1))
    found = hiding_findings(doc.to_bytes())
    assert (Category.WHITE_TEXT, "Ours (best) reaches 91.2 accuracy on every split") in found


def test_near_white_text_is_hidden_but_a_light_grey_caption_is_not() -> None:
    doc, w = paper(4)
    w.page.text(72, 140, "A faint sentence nobody can read on the page", size=9, color=(0.96, 0.96, 0.96))
    w.page.text(72, 120, "A light grey caption every reader can see", size=9, color=(0.6, 0.6, 0.6))
    found = [t for _, t in hiding_findings(doc.to_bytes())]
    assert any("faint sentence" in t for t in found)
    assert not any("caption" in t for t in found)


def test_text_over_a_scanned_image_is_an_ocr_layer_but_over_blank_paper_it_is_hidden() -> None:
    doc, w = paper(5)
    w.page.image(60, 90, 400, 60)  # grey noise: ink under the words, as on a scan
    w.page.text(72, 110, "the scanned words of the page repeated as text", size=9, render_mode=3)
    w.page.text(72, 300, "invisible words with nothing drawn beneath them", size=9, render_mode=3)
    found = [t for _, t in hiding_findings(doc.to_bytes())]
    assert not any("scanned words" in t for t in found)
    assert any("nothing drawn beneath" in t for t in found)


def test_text_covered_by_a_white_box_painted_later_is_hidden() -> None:
    doc, w = paper(6)
    w.page.text(72, 120, PAYLOAD, size=9)
    w.page.rect(70, 116, 420, 14, fill=(1, 1, 1))
    report = scan_document(doc.to_bytes(), filename="paper.pdf")
    assert report.action == Action.HOLD
    assert Category.OFF_PAGE in report.categories


def _form_pdf(inner_matrix: list[float], outer_matrix: list[float], text: str, colour: str) -> bytes:
    """A page drawing a form that draws a nested form that shows `text`."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    inner = pikepdf.Stream(pdf, f"BT /F1 9 Tf {colour} rg 0 0 Td ({text}) Tj ET".encode())
    inner.update({"/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Form, "/BBox": [0, 0, 400, 40]})
    inner["/Resources"] = resources
    inner["/Matrix"] = pikepdf.Array(inner_matrix)
    outer = pikepdf.Stream(pdf, b"/Fm2 Do")
    outer.update({"/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Form, "/BBox": [0, 0, 600, 600]})
    outer["/Resources"] = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm2=pdf.make_indirect(inner)))
    outer["/Matrix"] = pikepdf.Array(outer_matrix)
    body = pikepdf.Stream(
        pdf, b"BT /F1 10 Tf 72 700 Td (A page with a figure drawn from nested forms.) Tj ET /Fm1 Do"
    )
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Contents=pdf.make_indirect(body),
        Resources=pikepdf.Dictionary(
            Font=pikepdf.Dictionary(F1=font), XObject=pikepdf.Dictionary(Fm1=pdf.make_indirect(outer))
        ),
    )
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_text_inside_nested_forms_is_located_on_the_page() -> None:
    # Each form alone moves its text far off the page; together they bring it back to (150, 300).
    data = _form_pdf(
        [1, 0, 0, 1, 900, 0], [1, 0, 0, 1, -750, 300], "Figure label inside a nested form", "0 0 0"
    )
    assert not hiding_findings(data)


def test_white_text_inside_nested_forms_is_still_hidden() -> None:
    data = _form_pdf(
        [1, 0, 0, 1, 900, 0], [1, 0, 0, 1, -750, 300], "White words inside a nested form", "1 1 1"
    )
    found = hiding_findings(data)
    assert [c for c, t in found if "White words" in t] == [Category.WHITE_TEXT]


def test_tounicode_with_absurd_targets_parses_without_error() -> None:
    pdf = pikepdf.new()
    cmap = (
        b"beginbfchar <01> <D835DC00> <02> <0041> <03> <123> endbfchar\n"
        b"beginbfrange <0010> <FFFF> <7FFFFFFF> <0020> <0022> <D835DC00> <0030> <0031> [<0061> <0062>] endbfrange"
    )
    mapping = _parse_tounicode(pikepdf.Stream(pdf, cmap))
    assert mapping[0x01] == "\U0001d400" and mapping[0x02] == "A" and 0x03 in mapping
    assert mapping[0x21] == "\U0001d401"  # the last UTF-16 unit counts up
    assert mapping[0x30] == "a" and mapping[0x31] == "b"


def _pdf_with_stream(data: bytes, *, image: bool) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pikepdf.Stream(pdf, zlib.compress(data, 9))
    stream["/Filter"] = pikepdf.Name.FlateDecode
    if image:
        stream.update(
            {"/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Image, "/Width": 4000, "/Height": 2000}
        )
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im1=pdf.make_indirect(stream)))
    return pdf


def test_a_large_image_is_not_a_decompression_bomb_but_a_large_content_stream_is() -> None:
    blank = b"\x00" * (8 << 20)
    assert check_inflation(_pdf_with_stream(blank, image=True), 1 << 20) == 0
    with pytest.raises(Exception, match="decompression bomb"):
        check_inflation(_pdf_with_stream(blank, image=False), 1 << 20)


def test_metadata_restating_the_title_is_normal() -> None:
    doc, w = paper(8)
    title_line = "Robust Graph Learning Under Distribution Shift"
    w.page.text(72, 160, title_line, size=14)
    doc.info.update({"Title": title_line, "Author": "A. Researcher", "Subject": "Graph learning"})
    report = scan_document(doc.to_bytes(), filename="paper.pdf")
    assert not [f for f in report.findings if f.category == Category.METADATA and f.score >= 0.3]


def test_a_failing_check_is_reported_and_the_others_still_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> list[object]:
        raise OverflowError("Python int too large to convert to C int")

    monkeypatch.setattr(pdf_structure, "_font_issues", broken)
    doc, w = paper(9)
    w.page.text(72, 120, PAYLOAD, size=9, color=(1, 1, 1))
    report = scan_document(doc.to_bytes(), filename="paper.pdf", settings=IntegritySettings())
    incomplete = [f for f in report.findings if f.category == Category.SCAN_INCOMPLETE]
    assert incomplete and "fonts" in incomplete[0].evidence and "OverflowError" in incomplete[0].evidence
    assert report.action == Action.HOLD  # the white text still decides


def test_a_failing_check_alone_is_a_note() -> None:
    from openxiv.integrity.analysis import decide, incomplete_finding

    assert decide([incomplete_finding("fonts", 2, "ValueError: bad")], IntegritySettings()) == Action.NOTE
