from __future__ import annotations

import io
import zlib

import pikepdf
import pytest

from openxiv.integrity.errors import UnreadableDocument, UnsupportedDocument
from openxiv.integrity.scanner import scan_document
from openxiv.integrity.settings import IntegritySettings
from tests.integrity.helpers import attacked_pdf, clean_pdf


def test_empty_file() -> None:
    with pytest.raises(UnreadableDocument, match="empty"):
        scan_document(b"", filename="x.pdf")


def test_truncated_pdf_gives_a_result_or_a_clear_error() -> None:
    data = clean_pdf()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        try:
            report = scan_document(data[:cut], filename="x.pdf")
        except UnreadableDocument as error:
            assert "\n" not in str(error) and "PDF" in str(error)
        else:  # recovered: a report of a document with no page would say nothing about it
            assert report.page_count >= 1


def test_corrupt_pdf() -> None:
    with pytest.raises(UnreadableDocument, match="PDF"):
        scan_document(b"%PDF-1.7\n" + bytes(range(256)) * 40, filename="x.pdf")


def test_pdf_extension_without_header() -> None:
    with pytest.raises(UnreadableDocument, match="no PDF header"):
        scan_document(b"\x00\x01garbage", filename="x.pdf")


@pytest.mark.parametrize(
    "data,match",
    [(b"\x89PNG\r\n\x1a\n....", "PNG"), (b"PK\x03\x04zip", "ZIP"), (b"\xff\xfe\x00\x01\x80\x81", "neither")],
)
def test_unsupported_types(data: bytes, match: str) -> None:
    with pytest.raises(UnsupportedDocument, match=match):
        scan_document(data, filename="upload.bin")


def test_encrypted_pdf() -> None:
    pdf = pikepdf.open(io.BytesIO(clean_pdf()))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    with pytest.raises(UnreadableDocument, match="encrypted"):
        scan_document(out.getvalue(), filename="x.pdf")


def test_owner_only_encryption_is_scanned() -> None:
    pdf = pikepdf.open(io.BytesIO(attacked_pdf("white")))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(user="", owner="owner"))
    assert scan_document(out.getvalue(), filename="x.pdf").flagged


def test_page_limit_refuses_a_5000_page_pdf() -> None:
    pdf = pikepdf.new()
    for _ in range(5000):
        pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    with pytest.raises(UnreadableDocument, match="5000 pages; the limit is 500"):
        scan_document(out.getvalue(), settings=IntegritySettings(max_pages=500))


def test_decompression_bomb_is_refused_before_inflating() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    bomb = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)
    stream = pikepdf.Stream(pdf, bomb)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(stream)
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    with pytest.raises(UnreadableDocument, match="decompression bomb"):
        scan_document(out.getvalue(), settings=IntegritySettings(max_decompressed_bytes=16 * 1024 * 1024))


def test_time_budget_stops_a_long_scan() -> None:
    with pytest.raises(UnreadableDocument, match="budget"):
        scan_document(clean_pdf(), settings=IntegritySettings(time_budget_s=1e-9))


def test_oversized_file() -> None:
    with pytest.raises(UnreadableDocument, match="limit"):
        scan_document(b"%PDF-1.7\n" + b"0" * 2048, settings=IntegritySettings(max_bytes=1024))
