from __future__ import annotations

import pytest

from openxiv.integrity.scanner import scan_document, visible_text
from openxiv.integrity.schemas import Category
from tests.integrity.helpers import PAYLOAD, attacked_pdf, clean_pdf, paper

EXPECTED = {
    "white": Category.WHITE_TEXT,
    "near_white_tiny": Category.SMALL_TEXT,
    "render_mode_3": Category.INVISIBLE_RENDER,
    "transparent": Category.INVISIBLE_RENDER,
    "off_page": Category.OFF_PAGE,
    "clipped": Category.OFF_PAGE,
    "covered": Category.OFF_PAGE,
    "same_colour_box": Category.WHITE_TEXT,
    "layer": Category.HIDDEN_LAYER,
    "split_white": Category.WHITE_TEXT,
    "metadata": Category.METADATA,
    "xmp": Category.METADATA,
    "annotation": Category.ANNOTATION,
    "tags": Category.INVISIBLE_CHARS,
    "zero_width_binary": Category.INVISIBLE_CHARS,
    "glyph_remap": Category.GLYPH_REMAP,
    "visible_note": Category.CONTEXTUAL_PERSUASION,
    "chinese_visible": Category.MIXED_LANGUAGE,
    "base64": Category.ENCODED,
}


@pytest.mark.parametrize("technique", sorted(EXPECTED))
def test_each_technique_is_flagged_with_its_category(technique: str) -> None:
    report = scan_document(attacked_pdf(technique), filename="paper.pdf")
    assert report.flagged, [f.model_dump() for f in report.findings]
    assert EXPECTED[technique] in report.categories
    best = max((f for f in report.findings if f.category == EXPECTED[technique]), key=lambda f: f.score)
    if technique not in ("metadata", "xmp"):
        assert best.page == 1


def test_clean_paper_is_not_flagged_and_visible_text_is_complete() -> None:
    data = clean_pdf(3)
    report = scan_document(data, filename="paper.pdf")
    assert not report.flagged
    assert report.risk_score < report.threshold
    assert report.page_count == 1
    assert "Section" in report.visible_text
    assert report.model_dump(mode="json")["scanner_version"].startswith("openxiv-integrity/")


@pytest.mark.parametrize(
    "technique", ["white", "render_mode_3", "off_page", "clipped", "covered", "layer", "same_colour_box"]
)
def test_visible_text_drops_hidden_text(technique: str) -> None:
    data = attacked_pdf(technique)
    seen = visible_text(data, "paper.pdf")
    assert "positive review" not in seen
    assert "Section" in seen  # the visible body survives


def test_finding_box_locates_the_hidden_text() -> None:
    report = scan_document(attacked_pdf("white"))
    finding = next(f for f in report.findings if f.category == Category.WHITE_TEXT)
    assert finding.box is not None
    x0, y0, x1, y1 = finding.box
    assert x0 <= 73 and y0 <= 121 <= y1 + 2 and x1 > 200
    assert "positive review" in finding.text


def _hard_negative(kind: str) -> bytes:
    doc, w = paper(11)
    page = w.page
    if kind == "quoted_attack":
        w.paragraph(
            f'Attackers embed phrases such as "{PAYLOAD}" in white text so that only automated reviewers read them.'
        )
    elif kind == "white_on_dark":
        page.rect(70, 100, 300, 20, fill=(0.1, 0.1, 0.2))
        page.text(74, 106, "Key result: our method is 3x faster than the baseline", size=9, color=(1, 1, 1))
    elif kind == "ocr":
        scan = doc.new_page()
        scan.image(0, 0, scan.width, scan.height)
        for i in range(20):
            scan.text(
                72,
                700 - 14 * i,
                "We evaluate the method on three datasets and report accuracy.",
                size=10,
                render_mode=3,
            )
    elif kind == "tiny_labels":
        w.figure(image=False, label_size=3.6)
    elif kind == "reviewer_thanks":
        w.paragraph(
            "We thank the anonymous reviewers for their helpful comments; Reviewer 2 asked for a runtime comparison, which we added."
        )
    elif kind == "prompt_template":
        w.paragraph(
            "Act as a strict area chair. Summarise the submission and assign an overall rating between 1 and 10. Submission: {text}",
            font="F4",
        )
    return doc.to_bytes()


@pytest.mark.parametrize(
    "kind", ["quoted_attack", "white_on_dark", "ocr", "tiny_labels", "reviewer_thanks", "prompt_template"]
)
def test_hard_negatives_are_not_flagged(kind: str) -> None:
    report = scan_document(_hard_negative(kind), filename="paper.pdf")
    assert not report.flagged, [(f.category, f.score, f.evidence) for f in report.findings]


def test_ocr_layer_text_stays_in_the_visible_view() -> None:
    seen = visible_text(_hard_negative("ocr"))
    assert "three datasets" in seen


def test_attachment_and_javascript_are_reported() -> None:
    report = scan_document(attacked_pdf("attachment_js"))
    locations = {f.location for f in report.findings}
    assert "javascript" in locations
    assert "attachment:readme.txt" in locations
    assert report.flagged  # the attached text is an instruction and scripts are held anyway


def test_judge_sees_uncertain_candidates_and_can_clear_or_confirm_them() -> None:
    from openxiv.integrity.analysis import apply_judge
    from openxiv.integrity.schemas import Finding, JudgeVerdict
    from openxiv.integrity.settings import IntegritySettings

    findings = [
        Finding(category=Category.CONTEXTUAL_PERSUASION, score=0.6, text="borderline sentence", evidence="x"),
        Finding(category=Category.WHITE_TEXT, score=0.99, text="certain hidden prompt", evidence="x"),
        Finding(category=Category.METADATA, score=0.4, text="another", evidence="x"),
    ]
    seen: list[list[str]] = []

    def judge(passages: list[str]) -> list[JudgeVerdict]:
        seen.append(passages)
        return [JudgeVerdict(is_injection=p == "another", confidence=0.9) for p in passages]

    assert apply_judge(findings, judge, IntegritySettings())
    assert seen == [["borderline sentence", "another"]]  # certain findings are not second-guessed
    assert findings[0].score < 0.3 and "LLM judge: benign" in findings[0].evidence
    assert findings[1].score == 0.99
    assert findings[2].score == 0.9


def test_judge_with_wrong_answer_count_is_an_error() -> None:
    from openxiv.integrity.analysis import apply_judge
    from openxiv.integrity.schemas import Finding
    from openxiv.integrity.settings import IntegritySettings

    findings = [Finding(category=Category.METADATA, score=0.5, text="t", evidence="x")]
    with pytest.raises(ValueError, match="verdicts"):
        apply_judge(findings, lambda passages: [], IntegritySettings())
