"""The ladder of scales: rungs of growing width and training steps (no torch here).

Every design that is verified starts on the lowest rung; after every `PROMOTE_EVERY` designs
verified on a rung, the best of them not yet promoted climbs to the next, so the number of
designs verified shrinks about fourfold per rung.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PROMOTE_EVERY = 4
# The tasks every rung trains on (`tasks.py` generates them).
TASK_NAMES = ("byte_lm", "assoc_recall", "mod_add")


@dataclass(frozen=True)
class Rung:
    name: str
    dim: int  # width of the GPT seed on this rung; its parameter count is the rung's reference
    layers: int
    steps: int
    seq_len: int
    batch: int
    lr: float = 3e-3
    seeds: int = 1  # training seeds per design on this rung

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rung:
        return cls(**data)


LADDERS: dict[str, tuple[Rung, ...]] = {
    # CI and tests: a few thousand parameters, twenty steps; seconds per design.
    "smoke": (
        Rung("smoke-a", dim=16, layers=1, steps=20, seq_len=16, batch=8),
        Rung("smoke-b", dim=24, layers=1, steps=30, seq_len=16, batch=8),
    ),
    # The 30-minute run on two CPU cores (docs/genesys.md): ~35k, ~120k and ~0.4M parameters.
    "lite": (
        Rung("lite-35k", dim=32, layers=2, steps=150, seq_len=32, batch=16, lr=3e-3),
        Rung("lite-120k", dim=64, layers=2, steps=300, seq_len=48, batch=16, lr=2e-3),
        Rung("lite-400k", dim=96, layers=3, steps=500, seq_len=64, batch=16, lr=1.5e-3),
    ),
    # The scales named in the issue (0.15M/300 -> 0.5M/600 -> 1M/1000): hours on two cores.
    "full": (
        Rung("full-150k", dim=72, layers=2, steps=300, seq_len=64, batch=16, lr=2e-3),
        Rung("full-500k", dim=112, layers=3, steps=600, seq_len=64, batch=16, lr=1.5e-3),
        Rung("full-1m", dim=144, layers=4, steps=1000, seq_len=64, batch=16, lr=1e-3),
    ),
}


def ladder(name: str) -> tuple[Rung, ...]:
    try:
        return LADDERS[name]
    except KeyError:
        raise ValueError(f"unknown ladder {name!r}; choose one of {sorted(LADDERS)}") from None
