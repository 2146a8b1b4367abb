"""Fuzz: real PDFs (and one from our own writer), broken in the ways real uploads break -- cut short,
bytes flipped, streams garbled, cross-reference table and trailer lost, objects duplicated, filters
and lengths that lie, absurd nesting. The scanner must return a report or raise DocumentError, never
anything else; the CLI must exit 0, 2 or 3 without a traceback.

Mutations are seeded from the file and mutation names (crc32, not `hash`, which is salted per run),
so every run builds the same mutants and a failure names the one that broke."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from openxiv.integrity.errors import DocumentError
from openxiv.integrity.scanner import scan_document
from openxiv.integrity.schemas import IntegrityReport
from openxiv.integrity.settings import IntegritySettings
from tests.integrity.helpers import attacked_pdf
from tests.integrity.real_data import REAL_PDFS, require_real_pdfs

# Small files covering the layouts that matter to a parser: classic xref table with Flate streams,
# xref stream with object streams, uncompressed multi-page, a scanned page with an image and an
# invisible OCR layer; plus a PDF from the project's own writer.
REAL_SOURCES = (
    "attacked/RoblabWh_test_case4_reviewer.pdf",
    "attacked/hoganngu756_sample_white_text.pdf",
    "attacked/minoru-s_unicode-cases.pdf",
    "clean/Unstructured-IO_a1977-backus-p21.pdf",
)
WRITER_SOURCE = "writer/white.pdf"
# Generous: the scanner's own budget must never be what decides a fuzz case.
SETTINGS = IntegritySettings(time_budget_s=60)
CLI_TIMEOUT_S = 120

STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
OBJECT = re.compile(rb"\d+ 0 obj\b.*?endobj", re.DOTALL)

Mutator = Callable[[bytes, random.Random], bytes]


def _truncate(fraction: float) -> Mutator:
    return lambda data, _rng: data[: int(len(data) * fraction)]


def _flip(count: int) -> Mutator:
    def mutate(data: bytes, rng: random.Random) -> bytes:
        out = bytearray(data)
        for _ in range(count):
            # Past the header line: a file that no longer says %PDF is a different (easy) case.
            position = rng.randrange(16, len(out))
            out[position] ^= rng.randrange(1, 256)
        return bytes(out)

    return mutate


def _garble_stream(data: bytes, rng: random.Random) -> bytes:
    """One stream's bytes replaced by noise of the same length (its /Length stays right)."""
    streams = [m for m in STREAM.finditer(data) if m.end(1) > m.start(1)]
    chosen = rng.choice(streams)
    noise = bytes(rng.randrange(256) for _ in range(chosen.end(1) - chosen.start(1)))
    return data[: chosen.start(1)] + noise + data[chosen.end(1) :]


def _garble_every_stream(data: bytes, rng: random.Random) -> bytes:
    """The middle half of every stream garbled: fonts, images, content and xref streams at once."""
    out = bytearray(data)
    for match in STREAM.finditer(data):
        start, end = match.start(1), match.end(1)
        for position in range(start + (end - start) // 4, end - (end - start) // 4):
            out[position] = rng.randrange(256)
    return bytes(out)


def _drop_xref_and_trailer(data: bytes, _rng: random.Random) -> bytes:
    """Everything from the last cross-reference section (table, or xref stream object) on is gone."""
    cut = data.rfind(b"\nxref")
    if cut == -1:
        # An xref stream: cut after the object that precedes it.
        cut = data.rfind(b"endobj", 0, data.rfind(b"/XRef")) + len(b"endobj")
    return data[:cut] + b"\n%%EOF\n"


def _corrupt_startxref(data: bytes, rng: random.Random) -> bytes:
    """startxref points into the middle of some other object."""
    at = data.rfind(b"startxref")
    tail = re.sub(rb"\d+", str(rng.randrange(len(data))).encode(), data[at:], count=1)
    return data[:at] + tail


def _corrupt_trailer(data: bytes, _rng: random.Random) -> bytes:
    """No /Root, /Size lying: the reader has to find the catalogue by itself or give up."""
    return data.replace(b"/Root", b"/Rxxx").replace(b"/Size", b"/Size 999999999 /Old")


def _duplicate_objects(data: bytes, rng: random.Random) -> bytes:
    """Copies of objects (one with a garbled body) appended after the last one: same numbers, new
    offsets, conflicting contents."""
    objects = list(OBJECT.finditer(data))
    copies = [m.group(0) for m in rng.sample(objects, min(3, len(objects)))]
    copies[0] = copies[0].replace(b"<<", b"<< /Garbage [1 2 (3", 1)
    end = objects[-1].end()
    return data[:end] + b"\n" + b"\n".join(copies) + data[end:]


def _filter(name: bytes) -> Mutator:
    return lambda data, _rng: data.replace(b"/FlateDecode", name)


def _huge_length(data: bytes, _rng: random.Random) -> bytes:
    return re.sub(rb"/Length \d+", b"/Length 99999999999999", data)


def _deep_nesting(data: bytes, _rng: random.Random) -> bytes:
    """A first dictionary that nests 20,000 arrays deep (recursion in a hand-written parser)."""
    at = data.index(b"<<") + 2
    return data[:at] + b" /Deep " + b"[" * 20000 + b"]" * 20000 + data[at:]


MUTATORS: dict[str, Mutator] = {
    "truncate-10%": _truncate(0.1),
    "truncate-50%": _truncate(0.5),
    "truncate-97%": _truncate(0.97),
    "flip-8-bytes": _flip(8),
    "flip-200-bytes": _flip(200),
    "garble-one-stream": _garble_stream,
    "garble-every-stream": _garble_every_stream,
    "drop-xref-and-trailer": _drop_xref_and_trailer,
    "corrupt-startxref": _corrupt_startxref,
    "corrupt-trailer": _corrupt_trailer,
    "duplicate-objects": _duplicate_objects,
    "huge-length": _huge_length,
    "deep-nesting": _deep_nesting,
    "flate-called-dct": _filter(b"/DCTDecode"),
    "flate-called-unknown": _filter(b"/NoSuchDecode"),
}
FLATE_ONLY = {"flate-called-dct", "flate-called-unknown"}
# The CLI cases: one per kind of damage, on different files, each a subprocess of its own.
CLI_CASES = (
    ("attacked/RoblabWh_test_case4_reviewer.pdf", "truncate-50%"),
    ("attacked/hoganngu756_sample_white_text.pdf", "drop-xref-and-trailer"),
    ("clean/Unstructured-IO_a1977-backus-p21.pdf", "garble-every-stream"),
    (WRITER_SOURCE, "flate-called-unknown"),
)


def _source(name: str) -> bytes:
    if name == WRITER_SOURCE:
        return attacked_pdf("white")
    return (require_real_pdfs() / name).read_bytes()


def _applies(name: str, mutation: str) -> bool:
    if mutation not in FLATE_ONLY:
        return True
    if name == WRITER_SOURCE:
        return True
    path = REAL_PDFS / name
    # Without the data set the case is still collected; it skips (or fails) when it runs.
    return not path.exists() or b"/FlateDecode" in path.read_bytes()


def mutant(name: str, mutation: str) -> bytes:
    data = _source(name)
    rng = random.Random(zlib.crc32(f"{name}|{mutation}".encode()))
    mutated = MUTATORS[mutation](data, rng)
    assert mutated != data, f"{mutation} left {name} unchanged: pick another file for it"
    return mutated


CASES = [
    pytest.param(name, mutation, id=f"{Path(name).name}-{mutation}")
    for name in (*REAL_SOURCES, WRITER_SOURCE)
    for mutation in MUTATORS
    if _applies(name, mutation)
]


@pytest.mark.parametrize(("name", "mutation"), CASES)
def test_a_broken_pdf_gives_a_report_or_a_document_error(name: str, mutation: str) -> None:
    data = mutant(name, mutation)
    try:
        report = scan_document(data, filename=Path(name).name, settings=SETTINGS)
    except DocumentError as error:
        assert str(error) and "\n" not in str(error), "a DocumentError's message is one line for the author"
        return
    except Exception as error:
        pytest.fail(f"{mutation} on {name}: {type(error).__name__}: {error}")
    assert isinstance(report, IntegrityReport) and report.document_type == "pdf"


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("openxiv")
    assert script.exists(), f"no openxiv entry point next to {sys.executable}: install the project"
    return [str(script)]


@pytest.mark.parametrize(
    ("name", "mutation"), [pytest.param(*c, id=f"{Path(c[0]).name}-{c[1]}") for c in CLI_CASES]
)
def test_the_cli_exits_0_2_or_3_on_a_broken_pdf(name: str, mutation: str, tmp_path: Path) -> None:
    path = tmp_path / "mutant.pdf"
    path.write_bytes(mutant(name, mutation))
    env = {**os.environ, "OPENXIV_INTEGRITY__TIME_BUDGET_S": str(SETTINGS.time_budget_s)}
    result = subprocess.run(
        [*_cli(), "scan", str(path)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        env=env,
        check=False,
    )
    assert result.returncode in (0, 2, 3), f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1, f"not one line: {result.stderr}"
