"""The checker: everything a design must pass before any training, each failure a readable report.

In order: the tree is well formed; custom unit source parses and uses only what is allowed; the
width is tuned so the parameter count is within ±20 % of the rung's reference (the GPT seed at
the rung's width); a forward and backward pass run with finite values; the causality test
(perturbing positions after t never changes outputs at or before t, for every t, on one block
and on the whole model); training step time and activation memory within 4× of the GPT seed.
The report is what the coder gets back when a design fails.
"""

from __future__ import annotations

import ast
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from openxiv.genesys.torchcheck import require_torch

require_torch()

import torch  # noqa: E402

from openxiv.genesys.design import CATALOGUE, Design, UnitSpec, gpt_seed, validate  # noqa: E402
from openxiv.genesys.ladder import Rung  # noqa: E402
from openxiv.genesys.units import (  # noqa: E402
    ALLOWED_IMPORTS,
    LIBRARY,
    LanguageModel,
    build_unit,
    load_custom_units,
    parameter_count,
)

PARAM_TOLERANCE = 0.20
_NO_SPEC = UnitSpec("", "")
EFFICIENCY_FACTOR = 4.0
_FORBIDDEN_NAMES = frozenset(
    {"exec", "eval", "compile", "open", "__import__", "globals", "locals", "vars", "input", "breakpoint",
     "getattr", "setattr", "delattr"}
)  # fmt: skip


@dataclass
class Step:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class CheckReport:
    design: str
    rung: str
    steps: list[Step] = field(default_factory=list)
    dim: int | None = None
    params: int | None = None
    reference_params: int | None = None
    time_ratio: float | None = None
    memory_ratio: float | None = None

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok

    def failures(self) -> list[Step]:
        return [step for step in self.steps if not step.ok]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckReport:
        data = {k: v for k, v in data.items() if k != "passed"}
        steps = [Step(**s) for s in data.pop("steps", [])]
        return cls(**data, steps=steps)

    def to_markdown(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [f"Checker report for `{self.design}` on rung `{self.rung}`: **{verdict}**", ""]
        lines += [
            f"- {'ok' if s.ok else 'FAIL'} — {s.name}" + (f": {s.detail}" if s.detail else "")
            for s in self.steps
        ]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- source


def check_source(name: str, source: str) -> list[str]:
    """Problems with a custom unit's source, found without running it."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"{name}: syntax error on line {error.lineno}: {error.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            problems += [
                f"{name}: import of {m!r} is not allowed (only {sorted(ALLOWED_IMPORTS)})"
                for m in modules
                if m not in ALLOWED_IMPORTS
            ]
        elif isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
            problems.append(f"{name}: line {node.lineno} uses {node.id}, which unit code may not")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__") and node.attr != "__init__":
            problems.append(f"{name}: line {node.lineno} reaches for {node.attr}, which unit code may not")
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    if not classes:
        problems.append(f"{name}: the source must define `class {name}(Unit)` at the top level")
    elif not any(isinstance(m, ast.FunctionDef) and m.name == "compute" for m in classes[0].body):
        problems.append(f"{name}: the class must define `compute(self, X, Z)` returning (Y, Z)")
    return problems


# ----------------------------------------------------------------------------- width


def reference_params(rung: Rung) -> int:
    return _reference(rung)[0]


_REFERENCES: dict[Rung, tuple[int, int, torch.nn.Module]] = {}


def _reference(rung: Rung) -> tuple[int, int, torch.nn.Module]:
    """The GPT seed's parameter count, activation bytes and model on this rung (cached). Its step
    time is not cached: it is measured next to each candidate's (`step_time_ratio`)."""
    if rung not in _REFERENCES:
        model = LanguageModel(gpt_seed(), dim=rung.dim, layers=rung.layers, max_len=rung.seq_len)
        _REFERENCES[rung] = (parameter_count(model), activation_bytes(model, rung), model)
    return _REFERENCES[rung]


def _params_at(design: Design, dim: int, rung: Rung) -> int | None:
    try:
        return parameter_count(LanguageModel(design, dim=dim, layers=rung.layers, max_len=rung.seq_len))
    except Exception:
        return None


def width_step(design: Design) -> int:
    """Widths are tried in steps that every head count in the design divides (at least 4)."""
    heads = [
        int(n.args.get("heads", 4))
        for _, n in design.root.walk()
        if "heads" in CATALOGUE.get(n.unit, _NO_SPEC).choices
    ]
    return max([4, *heads])


def tune_width(design: Design, rung: Rung, target: int) -> tuple[int | None, int | None]:
    """The width (a multiple of `width_step`) whose parameter count is nearest `target`, by
    bisection since the count grows with the width; (None, None) when it builds at no width."""
    step = width_step(design)
    low, high = 1, max(2, rung.dim // step)
    while (_params_at(design, high * step, rung) or 0) < target and high < 512 // step:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        count = _params_at(design, middle * step, rung)
        if count is None or count < target:
            low = middle
        else:
            high = middle
    best: tuple[int | None, int | None] = (None, None)
    for units in (low, high):
        count = _params_at(design, units * step, rung)
        if count is not None and (best[1] is None or abs(count - target) < abs(best[1] - target)):
            best = (units * step, count)
    return best


# ----------------------------------------------------------------------------- measurements


def _tokens(rung: Rung) -> torch.Tensor:
    return torch.randint(0, 256, (rung.batch, rung.seq_len), generator=torch.Generator().manual_seed(0))


def activation_bytes(model: torch.nn.Module, rung: Rung) -> int:
    """The bytes of tensors the forward pass saves for backward at the rung's batch shape."""
    saved = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal saved
        saved += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(_tokens(rung)).float().mean().backward()
    model.zero_grad(set_to_none=True)
    return saved


def _step_cpu_seconds(model: torch.nn.Module, tokens: torch.Tensor) -> float:
    model.zero_grad(set_to_none=True)
    started = time.thread_time()
    model(tokens).float().mean().backward()
    return time.thread_time() - started


def step_time_ratio(model: torch.nn.Module, reference: torch.nn.Module, rung: Rung, pairs: int = 5) -> float:
    """A training step (forward and backward) of `model` as a multiple of the reference's: the
    median over `pairs` interleaved steps of both. Measured in CPU time of this thread with
    torch on one thread, because on a shared machine the wall clock counts the time other
    processes hold the core (a reference timed once on a quiet machine made every later design
    look several times slower once the verification workers were busy)."""
    tokens = _tokens(rung)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for first_call in (model, reference):  # allocations and lazy set-up, not measured
            _step_cpu_seconds(first_call, tokens)
        ratios = []
        for _ in range(pairs):
            seconds = _step_cpu_seconds(model, tokens)
            ratios.append(seconds / max(_step_cpu_seconds(reference, tokens), 1e-9))
    finally:
        torch.set_num_threads(threads)
        model.zero_grad(set_to_none=True)
        reference.zero_grad(set_to_none=True)
    return statistics.median(ratios)


def causality_violations(module: torch.nn.Module, inputs: torch.Tensor, perturb: Any, run: Any) -> list[int]:
    """Positions t whose outputs at or before t changed when positions after t were perturbed.
    All T perturbed copies go through in one batch; `perturb(x, t)` returns x with positions
    after t replaced, `run(batch)` returns outputs of shape B×T×..."""
    time_steps = inputs.shape[1]
    with torch.no_grad():
        reference = run(inputs)
        batch = torch.cat([perturb(inputs, t) for t in range(time_steps)], dim=0)
        perturbed = run(batch)
    broken = []
    for t in range(time_steps):
        before = reference[0, : t + 1]
        after = perturbed[t, : t + 1]
        if not torch.allclose(before, after, rtol=1e-6, atol=1e-7):
            broken.append(t)
    return broken


def _causality(design: Design, dim: int, rung: Rung, report: CheckReport) -> bool:
    classes = {**LIBRARY, **load_custom_units(design)}
    time_steps = min(rung.seq_len, 24)
    generator = torch.Generator().manual_seed(1)
    block = build_unit(design.root, dim, classes).double().eval()
    x = torch.randn(1, time_steps, dim, generator=generator, dtype=torch.float64)

    def perturb_hidden(v: torch.Tensor, t: int) -> torch.Tensor:
        out = v.clone()
        out[:, t + 1 :] = torch.randn(out[:, t + 1 :].shape, generator=generator, dtype=torch.float64) * 3
        return out

    leaks = causality_violations(block, x, perturb_hidden, lambda b: block(b)[0])
    if leaks:
        return report.add(
            "causality (one block)",
            False,
            f"outputs at positions {leaks[:8]} change when only later positions change: the block "
            "reads the future (look for a mixing step over the whole sequence without a causal mask)",
        )
    model = LanguageModel(design, dim=dim, layers=rung.layers, max_len=rung.seq_len).double().eval()
    tokens = torch.randint(0, 256, (1, time_steps), generator=generator)

    def perturb_tokens(v: torch.Tensor, t: int) -> torch.Tensor:
        out = v.clone()
        out[:, t + 1 :] = torch.randint(0, 256, out[:, t + 1 :].shape, generator=generator)
        return out

    leaks = causality_violations(model, tokens, perturb_tokens, model)
    if leaks:
        return report.add(
            "causality (whole model)",
            False,
            f"logits at positions {leaks[:8]} depend on later tokens (a leak through the side variables Z?)",
        )
    return report.add("causality", True, f"all {time_steps} positions, block and whole model")


# ----------------------------------------------------------------------------- the check


def check_design(
    design: Design,
    rung: Rung,
    *,
    tolerance: float = PARAM_TOLERANCE,
    efficiency_factor: float = EFFICIENCY_FACTOR,
) -> CheckReport:
    report = CheckReport(design.name, rung.name)
    problems = validate(design)
    for name, source in design.code.items():
        problems += check_source(name, source)
    if not report.add("format", not problems, "; ".join(problems) or "tree and unit code are well formed"):
        return report
    try:
        load_custom_units(design)
    except Exception as error:
        report.add("load", False, f"the unit code fails when loaded: {type(error).__name__}: {error}")
        return report

    target, reference_memory, reference_model = _reference(rung)
    report.reference_params = target
    dim, count = tune_width(design, rung, target)
    if dim is None or count is None:
        report.add("build", False, "the design builds at no width (every width raised an error)")
        return report
    report.dim, report.params = dim, count
    off = (count - target) / target
    if not report.add(
        "parameter budget",
        abs(off) <= tolerance,
        f"width {dim}: {count:,} parameters vs reference {target:,} ({off:+.0%} off, tolerance ±{tolerance:.0%})",
    ):
        return report

    try:
        torch.manual_seed(0)
        model = LanguageModel(design, dim=dim, layers=rung.layers, max_len=rung.seq_len)
        tokens = torch.randint(0, 256, (2, rung.seq_len))
        logits = model(tokens)
        logits.float().logsumexp(-1).mean().backward()
    except Exception as error:
        report.add("forward and backward", False, f"{type(error).__name__}: {error}")
        return report
    report.add("forward and backward", True, f"logits {tuple(logits.shape)}")
    bad_grads = [
        n for n, p in model.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()
    ]
    finite = bool(torch.isfinite(logits).all()) and not bad_grads
    detail = (
        "outputs and gradients are finite"
        if finite
        else f"NaN/Inf in outputs or gradients of {bad_grads[:5]}"
    )
    if not report.add("no NaN/Inf", finite, detail):
        return report

    try:
        if not _causality(design, dim, rung, report):
            return report
    except Exception as error:
        report.add("causality", False, f"the test could not run: {type(error).__name__}: {error}")
        return report

    report.time_ratio = round(step_time_ratio(model, reference_model, rung), 3)
    report.memory_ratio = round(activation_bytes(model, rung) / max(reference_memory, 1), 3)
    report.add(
        "throughput",
        report.time_ratio <= efficiency_factor,
        f"a training step takes {report.time_ratio:.2f}× the GPT seed's (limit {efficiency_factor:g}×)",
    )
    report.add(
        "memory",
        report.memory_ratio <= efficiency_factor,
        f"activations take {report.memory_ratio:.2f}× the GPT seed's (limit {efficiency_factor:g}×)",
    )
    return report
