"""The designer: new designs from old ones (no torch).

Three ways, sampled by a mix: mutation of one parent, crossover of two, or a design from
scratch (which is all there is during warm-up). The deterministic program mutator edits the
tree: it changes an argument (heads, expansion, kernel, gating, ...), swaps a child for another
unit of the same role, wraps a mixer (token shift, a chain of two) or unwraps one, or grafts a
subtree from another design. `coder.py` adds custom unit code written by a language model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from openxiv.genesys.design import CATALOGUE, UNITS_BY_ROLE, Design, Node, role_of, validate

MODES = ("mutation", "crossover", "scratch")
DEFAULT_MIX = {"mutation": 0.65, "crossover": 0.25, "scratch": 0.10}


@dataclass
class Candidate:
    design: Design
    mode: str
    parents: list[int]
    operation: str
    coder: str = "mutator"
    literature: list[str] = field(default_factory=list)


def random_node(role: str, rng: random.Random, depth: int = 0) -> Node:
    """A library unit of the role with random arguments; containers get random children, and
    deep trees are cut off by preferring plain units below depth 1."""
    names = list(UNITS_BY_ROLE[role])
    if depth >= 1:
        names = [n for n in names if not CATALOGUE[n].children] or names
    spec = CATALOGUE[rng.choice(names)]
    args = {name: rng.choice(values) for name, values in spec.choices.items()}
    children = {slot: random_node(child_role, rng, depth + 1) for slot, child_role in spec.children.items()}
    return Node(spec.name, args, children)


def scratch(rng: random.Random) -> tuple[Design, str]:
    root = random_node("block", rng)
    return Design("scratch", root), f"a new {root.unit} sampled from the unit library"


def _slots(design: Design) -> list[tuple[tuple[str, ...], str]]:
    """Every child position in the tree with the role it expects."""
    found = []
    for path, node in design.root.walk():
        spec = CATALOGUE.get(node.unit)
        if spec is not None:
            found += [((*path, slot), role) for slot, role in spec.children.items()]
    return found


def _change_argument(design: Design, rng: random.Random) -> str | None:
    options = [
        (path, node, arg)
        for path, node in design.root.walk()
        if node.unit in CATALOGUE
        for arg, values in CATALOGUE[node.unit].choices.items()
        if len(values) > 1
    ]
    if not options:
        return None
    path, node, arg = rng.choice(options)
    current = node.args.get(arg, CATALOGUE[node.unit].default_args()[arg])
    value = rng.choice([v for v in CATALOGUE[node.unit].choices[arg] if v != current])
    node.args[arg] = value
    return f"set {arg} of {node.unit} at {'/'.join(path) or 'root'} from {current} to {value}"


def _swap_child(design: Design, rng: random.Random) -> str | None:
    slots = _slots(design)
    if not slots:
        return None
    path, role = rng.choice(slots)
    parent = design.node_at(path[:-1])
    old = parent.children.get(path[-1])
    new = random_node(role, rng, depth=len(path))
    if old is not None and new.unit == old.unit:
        return None
    parent.children[path[-1]] = new
    before = old.unit if old else "identity"
    return f"replaced the {role} at {'/'.join(path)} ({before}) by {new.unit}"


def _wrap_mixer(design: Design, rng: random.Random) -> str | None:
    mixers = [(p, role) for p, role in _slots(design) if role == "mixer" and len(p) <= 2]
    if not mixers:
        return None
    path, _ = rng.choice(mixers)
    parent = design.node_at(path[:-1])
    old = parent.children.get(path[-1])
    if old is None:
        return None
    if rng.random() < 0.5:
        parent.children[path[-1]] = Node("TokenShift", children={"inner": old})
        return f"put a token shift in front of the {old.unit} at {'/'.join(path)}"
    extra = random_node("mixer", rng, depth=2)
    first, second = (extra, old) if rng.random() < 0.5 else (old, extra)
    parent.children[path[-1]] = Node("MixerChain", children={"first": first, "second": second})
    return f"chained the {old.unit} at {'/'.join(path)} with a {extra.unit} ({first.unit} first)"


def _unwrap(design: Design, rng: random.Random) -> str | None:
    wrapped = [
        (p, n) for p, n in design.root.walk() if p and n.unit in ("TokenShift", "MixerChain") and n.children
    ]
    if not wrapped:
        return None
    path, node = rng.choice(wrapped)
    slot, keep = rng.choice(sorted(node.children.items()))
    design.replace(path, keep)
    return f"removed the {node.unit} at {'/'.join(path)}, keeping its {slot} ({keep.unit})"


def _graft(design: Design, donor: Design, rng: random.Random) -> str | None:
    """Replace a slot's subtree by a subtree of the same role from the donor."""
    pieces = [(p, n) for p, n in donor.root.walk() if p and role_of(donor, n.unit) not in (None, "block")]
    slots = _slots(design)
    rng.shuffle(pieces)
    for source_path, piece in pieces:
        role = role_of(donor, piece.unit)
        targets = [path for path, wanted in slots if wanted == role]
        if not targets:
            continue
        target = rng.choice(targets)
        design.replace(target, piece.copy())
        for name in design.units():
            if name in donor.code:
                design.code[name] = donor.code[name]
        return f"grafted the {piece.unit} subtree from {donor.name}/{'/'.join(source_path)} onto {'/'.join(target)}"
    return None


def mutate(parent: Design, rng: random.Random, donors: list[Design] | None = None) -> tuple[Design, str]:
    """One edit of the parent's program that keeps the design well formed."""
    operators = ["argument", "argument", "swap", "swap", "wrap", "unwrap", "graft"]
    for _ in range(40):
        child = parent.copy()
        operator = rng.choice(operators)
        if operator == "argument":
            what = _change_argument(child, rng)
        elif operator == "swap":
            what = _swap_child(child, rng)
        elif operator == "wrap":
            what = _wrap_mixer(child, rng)
        elif operator == "unwrap":
            what = _unwrap(child, rng)
        else:
            donor = rng.choice(donors) if donors else None
            what = _graft(child, donor, rng) if donor is not None else None
        if what and not validate(child) and child.fingerprint() != parent.fingerprint():
            return child, what
    return scratch(rng)[0], "no mutation kept the design well formed; sampled a new block instead"


def crossover(first: Design, second: Design, rng: random.Random) -> tuple[Design, str]:
    """The first parent's block with some of its slots taken from the second, where the roles
    agree; at least one slot comes from each parent when both have any to give."""
    child = first.copy()
    common = [slot for slot in child.root.children if slot in second.root.children]
    if child.root.unit != second.root.unit or not common:
        # Different block types: keep the second's block and take the first's mixer into it.
        child = second.copy()
        what = _graft(child, first, rng)
        return child, f"{second.name}'s block with a part of {first.name}: {what or 'nothing grafted'}"
    rng.shuffle(common)
    taken = common[: max(1, min(len(common) - 1, rng.randint(1, len(common))))]
    for slot in taken:
        child.root.children[slot] = second.root.children[slot].copy()
    for name in child.units():
        if name in second.code:
            child.code[name] = second.code[name]
    return child, f"{first.name}'s {child.root.unit} with {', '.join(sorted(taken))} from {second.name}"


def choose_mode(rng: random.Random, mix: dict[str, float], *, warming_up: bool, verified: int) -> str:
    if warming_up or verified == 0:
        return "scratch"
    modes = [m for m in MODES if m != "crossover" or verified >= 2]
    return rng.choices(modes, weights=[mix.get(m, 0.0) for m in modes])[0]


def name_for(design: Design, generation: int) -> str:
    mixers = [n.unit for _, n in design.root.walk() if role_of(design, n.unit) == "mixer" and not n.children]
    stem = "".join(m[:3] for m in dict.fromkeys(mixers)) or design.root.unit[:3]
    return f"g{generation}-{stem.lower()}-{design.fingerprint()[:5]}"
