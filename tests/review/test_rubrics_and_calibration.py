from __future__ import annotations

from pathlib import Path

import pytest

from openxiv.review.calibration import calibrate_threshold
from openxiv.review.outputs import review_report_schema, synthesis_schema, vote_schema
from openxiv.review.rubrics import RubricError, load_rubric, load_rubric_file


def test_packaged_rubrics_follow_the_spec() -> None:
    proposal, paper = load_rubric("proposal"), load_rubric("paper")
    assert proposal.keys == [
        "methodological_quality",
        "novelty_significance",
        "clarity_organization",
        "feasibility_planning",
    ]
    assert paper.keys == ["clarity", "originality_novelty", "quality_soundness", "significance_impact"]
    assert proposal.bar == "strict" and paper.bar == "workshop"
    weights = {c.key: c.weight for c in proposal.criteria}
    # Strict: originality and feasibility weigh most.
    assert weights["novelty_significance"] == max(weights.values()) == weights["feasibility_planning"]
    assert proposal.reviewers.min == 3 and proposal.reviewers.max == 5
    assert proposal.version and paper.version


def test_schemas_require_every_criterion() -> None:
    paper = load_rubric("paper")
    for schema in (review_report_schema(paper), synthesis_schema(paper), vote_schema(paper)):
        text = str(schema.model_json_schema())
        assert all(key in text for key in paper.keys)
    synthesis = synthesis_schema(paper).model_json_schema()
    assert synthesis["properties"]["rating"] == {
        "maximum": 10,
        "minimum": 1,
        "title": "Rating",
        "type": "integer",
    }


def test_weighted_mean_is_scaled_to_one() -> None:
    paper = load_rubric("paper")
    assert paper.weighted_mean({k: 10 for k in paper.keys}, top=10) == 1.0
    assert paper.weighted_mean({k: 0 for k in paper.keys}, top=10) == 0.0
    clarity_only = paper.weighted_mean({"clarity": 10}, top=10)
    assert clarity_only == pytest.approx(1.25 / 4.0)


def test_broken_rubric_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "paper.yaml"
    bad.write_text("id: x\nversion: 1\nkind: paper\ncriteria: []\n")
    with pytest.raises(RubricError, match="invalid rubric"):
        load_rubric_file(bad)
    bad.write_text("a: [unclosed")
    with pytest.raises(RubricError, match="cannot read"):
        load_rubric_file(bad)
    with pytest.raises(RubricError, match="no rubric for submission type"):
        load_rubric("poem")


def test_calibration_finds_the_separating_threshold() -> None:
    scores = [0.2, 0.3, 0.45, 0.55, 0.7, 0.9]
    labels = [False, False, False, True, True, True]
    result = calibrate_threshold(scores, labels)
    assert 0.45 < result.threshold <= 0.55 and result.accuracy == 1.0 and result.positives == 3


def test_calibration_with_noisy_labels_maximises_accuracy() -> None:
    scores = [0.1, 0.2, 0.6, 0.3, 0.8, 0.9]
    labels = [False, False, False, True, True, True]
    result = calibrate_threshold(scores, labels)
    assert result.accuracy == pytest.approx(5 / 6, abs=1e-4)
    assert result.threshold in (0.25, 0.7)
    with pytest.raises(ValueError):
        calibrate_threshold([0.1], [True, False])
