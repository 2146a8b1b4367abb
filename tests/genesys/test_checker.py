"""The checker: each failure is caught at its step and explained; the width is tuned to the budget."""

from __future__ import annotations

import pytest
import torch

from openxiv.genesys import checker
from openxiv.genesys.checker import (
    CheckReport,
    causality_violations,
    check_design,
    check_source,
    step_time_ratio,
    tune_width,
)
from openxiv.genesys.design import Design, Node, gpt_seed, retention_seed
from openxiv.genesys.ladder import Rung, ladder
from openxiv.genesys.units import LIBRARY, LanguageModel, build_unit

RUNG = ladder("smoke")[0]
LOOSE = 1e6  # timings on a shared CI machine are noisy; the cost step has its own test


def with_mixer(name: str, source: str) -> Design:
    design = gpt_seed().copy(name=f"with-{name}")
    design.code[name] = source
    design.root.children["mixer"] = Node(name)
    return design


LEAKY = """
class Leaky(Unit):
    ROLE = "mixer"
    def compute(self, X, Z):
        # the mean over the whole sequence: every position sees the future
        return X.mean(dim=1, keepdim=True).expand_as(X), Z
"""

LEAKS_ONE_STEP = """
class PeeksAhead(Unit):
    ROLE = "mixer"
    def compute(self, X, Z):
        ahead = torch.cat([X[:, 1:], X[:, -1:]], dim=1)
        return 0.5 * (X + ahead), Z
"""

NAN = """
class Explodes(Unit):
    ROLE = "mixer"
    def compute(self, X, Z):
        return X / (X - X), Z
"""

WRONG_SHAPE = """
class Halves(Unit):
    ROLE = "mixer"
    def compute(self, X, Z):
        return X[..., : X.shape[-1] // 2], Z
"""


def step(report: CheckReport, name: str) -> tuple[bool, str]:
    found = [s for s in report.steps if s.name.startswith(name)]
    assert found, f"no step {name!r} in {[s.name for s in report.steps]}"
    return found[-1].ok, found[-1].detail


def test_the_seeds_pass_every_step() -> None:
    for design in (gpt_seed(), retention_seed()):
        report = check_design(design, RUNG, efficiency_factor=LOOSE)
        assert report.passed, report.to_markdown()
        assert [s.name for s in report.steps] == [
            "format", "parameter budget", "forward and backward", "no NaN/Inf", "causality", "throughput", "memory",
        ]  # fmt: skip


def test_causality_test_catches_a_unit_that_reads_the_whole_sequence() -> None:
    report = check_design(with_mixer("Leaky", LEAKY), RUNG, efficiency_factor=LOOSE)
    assert not report.passed
    ok, detail = step(report, "causality")
    assert not ok
    assert "positions [0, 1, 2" in detail and "reads the future" in detail
    assert "FAIL — causality (one block)" in report.to_markdown()


def test_causality_test_catches_a_one_step_peek() -> None:
    report = check_design(with_mixer("PeeksAhead", LEAKS_ONE_STEP), RUNG, efficiency_factor=LOOSE)
    ok, detail = step(report, "causality")
    assert not ok and "positions [0, 1, 2" in detail


def test_causality_violations_finds_exactly_the_leaking_positions() -> None:
    # Output t reads input t+1 only for t = 3: only position 3 may be reported.
    def run(x: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        out[:, 3] += x[:, 4]
        return out

    def perturb(x: torch.Tensor, t: int) -> torch.Tensor:
        out = x.clone()
        out[:, t + 1 :] += 1.0
        return out

    x = torch.randn(1, 8, 2, dtype=torch.float64)
    assert causality_violations(torch.nn.Identity(), x, perturb, run) == [3]


def test_every_library_mixer_is_causal() -> None:
    for name in (
        "CausalSelfAttention",
        "Retention",
        "LinearAttention",
        "CausalConv",
        "EMAMixer",
        "TokenShift",
    ):
        design = gpt_seed()
        design.root.children["mixer"] = Node(name)
        report = check_design(design, RUNG, efficiency_factor=LOOSE)
        ok, detail = step(report, "causality")
        assert ok, f"{name}: {detail}"


def test_nan_and_shape_failures_are_reported_at_their_step() -> None:
    report = check_design(with_mixer("Explodes", NAN), RUNG, efficiency_factor=LOOSE)
    ok, detail = step(report, "no NaN/Inf")
    assert not ok and "NaN/Inf" in detail
    report = check_design(with_mixer("Halves", WRONG_SHAPE), RUNG, efficiency_factor=LOOSE)
    assert not report.passed
    ok, detail = (
        step(report, "build") if any(s.name == "build" for s in report.steps) else step(report, "forward")
    )
    assert not ok and ("Halves returned" in detail or "no width" in detail)


def test_source_rules_are_checked_before_running_anything() -> None:
    problems = check_source(
        "Sneaky",
        "import os\nclass Sneaky(Unit):\n    def compute(self, X, Z):\n        return eval('X'), Z\n",
    )
    assert any("import of 'os' is not allowed" in p for p in problems)
    assert any("uses eval" in p for p in problems)
    assert check_source("Broken", "class Broken(Unit:\n")[0].startswith("Broken: syntax error on line 1")
    assert any("must define `class Missing(Unit)`" in p for p in check_source("Missing", "x = 1\n"))
    dunder = check_source(
        "Escapes", "class Escapes(Unit):\n    def compute(self, X, Z):\n        return X.__class__, Z\n"
    )
    assert any("__class__" in p for p in dunder)
    report = check_design(with_mixer("Sneaky", "import os\nclass Sneaky(Unit):\n    pass\n"), RUNG)
    ok, detail = step(report, "format")
    assert not ok and "import of 'os'" in detail and len(report.steps) == 1


def test_width_is_tuned_into_the_parameter_budget() -> None:
    rung = Rung("tune", dim=32, layers=2, steps=1, seq_len=8, batch=2)
    light = gpt_seed()
    light.root.children["mlp"].args.update({"expansion": 1})  # far fewer parameters at the same width
    report = check_design(light, rung, efficiency_factor=LOOSE)
    assert report.passed, report.to_markdown()
    assert report.dim is not None and report.dim > 32
    assert report.params is not None and report.reference_params is not None
    assert abs(report.params - report.reference_params) / report.reference_params <= 0.2
    heavy = gpt_seed()
    heavy.root.children["mixer"] = Node(
        "MixerChain", children={"first": Node("CausalSelfAttention"), "second": Node("Retention")}
    )
    dim, count = tune_width(heavy, rung, report.reference_params)
    assert dim is not None and dim < 32 and count is not None


def test_a_budget_that_no_width_meets_fails_with_the_numbers() -> None:
    report = check_design(retention_seed(), RUNG, tolerance=0.0001, efficiency_factor=LOOSE)
    ok, detail = step(report, "parameter budget")
    assert not ok and "parameters vs reference" in detail and "tolerance ±0%" in detail


def test_cost_limit_relative_to_the_gpt_seed() -> None:
    slow = gpt_seed()
    slow.root.children["mixer"] = Node(
        "MixerChain",
        children={
            "first": Node("MixerChain", children={"first": Node("EMAMixer"), "second": Node("EMAMixer")}),
            "second": Node("MixerChain", children={"first": Node("EMAMixer"), "second": Node("EMAMixer")}),
        },
    )
    report = check_design(slow, RUNG, tolerance=10.0, efficiency_factor=1.01)
    ok, detail = step(report, "memory")
    assert not ok and "the GPT seed's (limit 1.01×)" in detail
    assert report.memory_ratio is not None and report.memory_ratio > 1.01


def test_step_cost_is_this_threads_cpu_time_next_to_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ratio comes from the CPU-time clock of this thread, read around interleaved steps of
    both models with torch on one thread, so other busy processes cannot inflate it. A fake clock
    that the candidate's forward pass advances by 3 and the reference's by 1 must give 3."""
    clock = [0.0]
    threads_seen: list[int] = []

    def advancing(by: float) -> object:
        def hook(*_: object) -> None:
            clock[0] += by
            threads_seen.append(torch.get_num_threads())

        return hook

    candidate = LanguageModel(gpt_seed(), dim=RUNG.dim, layers=RUNG.layers, max_len=RUNG.seq_len)
    reference = LanguageModel(gpt_seed(), dim=RUNG.dim, layers=RUNG.layers, max_len=RUNG.seq_len)
    candidate.register_forward_hook(advancing(3.0))
    reference.register_forward_hook(advancing(1.0))
    monkeypatch.setattr(checker.time, "thread_time", lambda: clock[0])
    before = torch.get_num_threads()

    assert step_time_ratio(candidate, reference, RUNG, pairs=4) == pytest.approx(3.0)
    assert set(threads_seen) == {1} and len(threads_seen) == 2 * (4 + 1)
    assert torch.get_num_threads() == before


def test_report_round_trips_through_json() -> None:
    report = check_design(with_mixer("Leaky", LEAKY), RUNG, efficiency_factor=LOOSE)
    again = CheckReport.from_json(report.to_json())
    assert again.to_markdown() == report.to_markdown() and again.passed is False


def test_block_builds_from_library() -> None:
    assert build_unit(gpt_seed().root, 8, LIBRARY).dim == 8
