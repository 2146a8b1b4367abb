"""Where the shared set of real PDFs lives: ../shared/data/real-pdfs next to the repository (CI has
it there too). Tests that need it skip when it is missing, or fail under OPENXIV_REQUIRE_SERVICES=1."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import service_unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_PDFS = (REPO_ROOT / ".." / "shared" / "data" / "real-pdfs").resolve()


def require_real_pdfs() -> Path:
    """The real-PDF set's folder; skips (or fails under OPENXIV_REQUIRE_SERVICES=1) without it."""
    if not (REAL_PDFS / "clean").is_dir():
        service_unavailable("the real-PDF set", FileNotFoundError(f"{REAL_PDFS}/clean is missing"))
    return REAL_PDFS
