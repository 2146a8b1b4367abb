"""The scanner on real PDFs nobody here wrote (../shared/data/real-pdfs, see its NOTICE.md): no clean
paper is held, no file crashes the scanner or is refused, and at most one attacked file gets through.

Each file is scanned in a child process (the benchmark's harness), so a native crash or a hang in
one file fails that file's test instead of taking the test worker down with it."""

from __future__ import annotations

import pytest

from openxiv.integrity.settings import IntegritySettings
from openxiv.tooling.integrity.bench_real import Outcome, RealDocument, discover, scan_all
from tests.integrity.real_data import REAL_PDFS, require_real_pdfs

# Spread over xdist workers (`--dist loadgroup`): files in descending size dealt round-robin into
# this many groups, so every group gets a similar share of pages.
GROUPS = 4
SETTINGS = IntegritySettings()
TIMEOUT_S = SETTINGS.time_budget_s + 60


def _params() -> list[object]:
    if not (REAL_PDFS / "clean").is_dir():
        return [pytest.param(None, id="real-pdfs-missing")]
    documents = sorted(discover(REAL_PDFS), key=lambda d: -d.path.stat().st_size)
    return [
        pytest.param(
            document,
            id=f"{document.label}/{document.path.name}",
            marks=pytest.mark.xdist_group(f"real-pdfs-{index % GROUPS}"),
        )
        for index, document in enumerate(documents)
    ]


def _describe(outcome: Outcome) -> str:
    if outcome.reason:
        return f"{outcome.file}: {outcome.verdict}: {outcome.reason}"
    return (
        f"{outcome.file}: {outcome.verdict}, risk {outcome.risk}, categories {outcome.categories}, "
        f"strongest finding {outcome.top_finding or 'none'}"
    )


@pytest.mark.parametrize("document", _params())
def test_real_pdf_is_scanned_and_clean_papers_are_not_held(document: RealDocument | None) -> None:
    if document is None:
        require_real_pdfs()
        return
    [outcome] = scan_all([document], SETTINGS, timeout_s=TIMEOUT_S)
    assert outcome.verdict not in ("crash", "unreadable"), _describe(outcome)
    if document.label == "clean":
        assert outcome.verdict != "hold", _describe(outcome)


@pytest.mark.xdist_group("real-pdfs-attacked")
def test_at_most_one_real_attack_gets_through() -> None:
    attacked = [d for d in discover(require_real_pdfs()) if d.label == "attacked"]
    outcomes = scan_all(attacked, SETTINGS, timeout_s=TIMEOUT_S)
    missed = [o for o in outcomes if o.verdict != "hold"]
    assert len(missed) <= 1, f"{len(missed)} of {len(outcomes)} attacked files not held:\n" + "\n".join(
        _describe(o) for o in missed
    )
