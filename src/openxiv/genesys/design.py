"""Designs as data: a tree of units with their arguments, plus the source of any custom unit.

Nothing here needs torch, so the designer, the store, the publisher and the report can read and
edit designs without it. `CATALOGUE` describes the seed library of `units.py` (the slots each unit
declares and the values its arguments may take); `units.py` checks that the two agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# What a slot expects, so that a mutation swaps a child only for one that can play the same part.
ROLES = ("block", "norm", "mixer", "mlp")


@dataclass(frozen=True)
class UnitSpec:
    name: str
    role: str
    children: dict[str, str] = field(default_factory=dict)  # slot name -> role
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # argument -> allowed values
    summary: str = ""

    def default_args(self) -> dict[str, Any]:
        return {name: values[0] for name, values in self.choices.items()}


CATALOGUE: dict[str, UnitSpec] = {
    spec.name: spec
    for spec in (
        UnitSpec(
            "ResidualBlock",
            "block",
            {"norm1": "norm", "mixer": "mixer", "norm2": "norm", "mlp": "mlp"},
            summary="pre-norm residual block: x + mixer(norm1(x)), then + mlp(norm2(.))",
        ),
        UnitSpec(
            "ParallelBlock",
            "block",
            {"norm": "norm", "mixer": "mixer", "mlp": "mlp"},
            summary="parallel residual block: x + mixer(norm(x)) + mlp(norm(x))",
        ),
        UnitSpec("RMSNorm", "norm", choices={"eps": (1e-5, 1e-6)}, summary="root-mean-square norm"),
        UnitSpec("LayerNorm", "norm", choices={"eps": (1e-5, 1e-6)}, summary="layer norm"),
        UnitSpec(
            "CausalSelfAttention",
            "mixer",
            choices={"heads": (4, 2, 1, 8)},
            summary="multi-head softmax attention with a causal mask",
        ),
        UnitSpec(
            "Retention",
            "mixer",
            choices={"heads": (4, 2, 1, 8), "gated": (True, False)},
            summary="multi-scale retention: decayed linear attention, one decay per head",
        ),
        UnitSpec(
            "LinearAttention",
            "mixer",
            choices={"heads": (4, 2, 1, 8)},
            summary="kernelised (elu+1) causal linear attention with running normalisation",
        ),
        UnitSpec(
            "CausalConv",
            "mixer",
            choices={"kernel": (4, 3, 5, 7), "gated": (False, True)},
            summary="depthwise causal convolution over time",
        ),
        UnitSpec(
            "EMAMixer",
            "mixer",
            choices={"gated": (True, False)},
            summary="per-channel exponential moving average (a diagonal state-space mixer)",
        ),
        UnitSpec(
            "TokenShift",
            "mixer",
            {"inner": "mixer"},
            summary="mixes each position with the previous one, then runs the inner mixer",
        ),
        UnitSpec(
            "MixerChain",
            "mixer",
            {"first": "mixer", "second": "mixer"},
            summary="two mixers applied one after the other",
        ),
        UnitSpec(
            "GatedMLP",
            "mlp",
            choices={
                "expansion": (2, 3, 4, 1),
                "activation": ("silu", "gelu", "relu"),
                "gated": (True, False),
            },
            summary="feed-forward layer with an optional multiplicative gate",
        ),
    )
}

UNITS_BY_ROLE: dict[str, tuple[str, ...]] = {
    role: tuple(name for name, spec in CATALOGUE.items() if spec.role == role) for role in ROLES
}


class DesignError(ValueError):
    """A design that does not describe a well-formed tree."""


@dataclass
class Node:
    unit: str
    args: dict[str, Any] = field(default_factory=dict)
    children: dict[str, Node] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit": self.unit}
        if self.args:
            out["args"] = dict(sorted(self.args.items()))
        if self.children:
            out["children"] = {name: child.to_json() for name, child in sorted(self.children.items())}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Node:
        if not isinstance(data, dict) or not isinstance(data.get("unit"), str):
            raise DesignError(f"a node needs a `unit` name: {data!r}")
        args = data.get("args") or {}
        children = data.get("children") or {}
        if not isinstance(args, dict) or not isinstance(children, dict):
            raise DesignError(f"`args` and `children` of {data['unit']} must be objects")
        return cls(data["unit"], dict(args), {k: cls.from_json(v) for k, v in children.items()})

    def walk(self, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Node]]:
        """Every node with its path of slot names from the root, parents before children."""
        yield path, self
        for name, child in sorted(self.children.items()):
            yield from child.walk((*path, name))

    def copy(self) -> Node:
        return Node.from_json(self.to_json())


@dataclass
class Design:
    """A block design: the unit tree, the source of custom units, and where it came from."""

    name: str
    root: Node
    code: dict[str, str] = field(default_factory=dict)  # custom unit name -> Python source
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "root": self.root.to_json()}
        if self.code:
            out["code"] = dict(sorted(self.code.items()))
        if self.notes:
            out["notes"] = self.notes
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> Design:
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, dict) or "root" not in data:
            raise DesignError("a design is an object with `name` and `root`")
        code = data.get("code") or {}
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in code.items()):
            raise DesignError("`code` maps unit names to Python source")
        return cls(
            str(data.get("name") or "unnamed"),
            Node.from_json(data["root"]),
            dict(code),
            data.get("notes", ""),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    def fingerprint(self) -> str:
        """Identity of the architecture (the tree and code, not the name): equal designs are one."""
        body = {"root": self.root.to_json(), "code": dict(sorted(self.code.items()))}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def copy(self, name: str | None = None) -> Design:
        clone = Design.from_json(self.to_json())
        if name is not None:
            clone.name = name
        return clone

    def node_at(self, path: tuple[str, ...]) -> Node:
        node = self.root
        for name in path:
            node = node.children[name]
        return node

    def replace(self, path: tuple[str, ...], new: Node) -> None:
        if not path:
            self.root = new
            return
        self.node_at(path[:-1]).children[path[-1]] = new

    def units(self) -> set[str]:
        return {node.unit for _, node in self.root.walk()}

    def outline(self) -> str:
        """The tree as indented text, one unit per line (for proposals and papers)."""
        lines = []
        for path, node in self.root.walk():
            args = ", ".join(f"{k}={v}" for k, v in sorted(node.args.items()))
            slot = f"{path[-1]}: " if path else ""
            lines.append(f"{'  ' * len(path)}{slot}{node.unit}({args})")
        return "\n".join(lines)


def role_of(design: Design, unit: str) -> str | None:
    """The role of a library unit, or of a custom unit as its source declares it (`ROLE = ...`)."""
    if unit in CATALOGUE:
        return CATALOGUE[unit].role
    source = design.code.get(unit, "")
    for line in source.splitlines():
        stripped = line.strip().replace(" ", "")
        for role in ROLES:
            if stripped in (f'ROLE="{role}"', f"ROLE='{role}'"):
                return role
    return "mixer" if unit in design.code else None


def validate(design: Design) -> list[str]:
    """Structural problems of a design, as sentences (empty when it is well formed)."""
    problems = []
    if role_of(design, design.root.unit) != "block":
        problems.append(f"the root unit must be a block, not {design.root.unit}")
    for path, node in design.root.walk():
        where = "/".join(path) or "root"
        spec = CATALOGUE.get(node.unit)
        if spec is None:
            if node.unit not in design.code:
                problems.append(f"{where}: unknown unit {node.unit!r} (neither in the library nor in `code`)")
            continue
        for slot in node.children:
            if slot not in spec.children:
                problems.append(
                    f"{where}: {node.unit} declares no child {slot!r} (it has {sorted(spec.children)})"
                )
        for slot, child in node.children.items():
            wanted = spec.children.get(slot)
            got = role_of(design, child.unit)
            if wanted and got and got != wanted:
                problems.append(f"{where}/{slot}: expects a {wanted}, got {child.unit} (a {got})")
        for name, value in node.args.items():
            if name not in spec.choices:
                problems.append(f"{where}: {node.unit} takes no argument {name!r}")
            elif value not in spec.choices[name]:
                problems.append(
                    f"{where}: {node.unit}.{name}={value!r} is not one of {list(spec.choices[name])}"
                )
    return problems


def gpt_seed() -> Design:
    """The reference: layer norms, softmax attention and a plain (ungated) GELU feed-forward."""
    return Design(
        "gpt",
        Node(
            "ResidualBlock",
            children={
                "norm1": Node("LayerNorm", {"eps": 1e-5}),
                "mixer": Node("CausalSelfAttention", {"heads": 4}),
                "norm2": Node("LayerNorm", {"eps": 1e-5}),
                "mlp": Node("GatedMLP", {"expansion": 4, "activation": "gelu", "gated": False}),
            },
        ),
        notes="GPT-like seed",
    )


def retention_seed() -> Design:
    """A RetNet-like block: RMS norms, gated multi-scale retention and a gated SiLU feed-forward."""
    return Design(
        "retnet",
        Node(
            "ResidualBlock",
            children={
                "norm1": Node("RMSNorm", {"eps": 1e-5}),
                "mixer": Node("Retention", {"heads": 4, "gated": True}),
                "norm2": Node("RMSNorm", {"eps": 1e-5}),
                "mlp": Node("GatedMLP", {"expansion": 2, "activation": "silu", "gated": True}),
            },
        ),
        notes="retention-like seed",
    )


SEEDS = {"gpt": gpt_seed, "retnet": retention_seed}
