"""Training tasks generated in-process: byte-level language modelling, associative recall and
modular addition. Each gives batches of (tokens, targets, mask) — the loss and the score count
only masked positions — plus a held-out evaluation set and the accuracy of guessing at random.

The byte corpus is every `.txt` file under the configured folder (the shared seed documents when
present, `../shared/seeds`); without one, a synthetic corpus is generated from a fixed seed, so
CI needs no data files and ships no text written by others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from openxiv.genesys.torchcheck import require_torch

require_torch()

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from openxiv.genesys.ladder import TASK_NAMES  # noqa: E402

VOCAB = 256
DEFAULT_CORPUS = Path("../shared/seeds")

Batch = tuple[Tensor, Tensor, Tensor]


@dataclass(frozen=True)
class EvalSet:
    tokens: Tensor
    targets: Tensor
    mask: Tensor


class Task:
    name: str = ""
    baseline: float = 0.0

    def batch(self, size: int, seq_len: int, rng: torch.Generator) -> Batch:
        raise NotImplementedError

    def eval_set(self, seq_len: int) -> EvalSet:
        raise NotImplementedError


# ----------------------------------------------------------------------------- byte LM

_WORDS = tuple(
    [
        "model",
        "layer",
        "token",
        "state",
        "gate",
        "memory",
        "attention",
        "retention",
        "kernel",
        "decay",
        "mixer",
        "block",
        "width",
        "depth",
        "train",
        "loss",
        "step",
        "scale",
        "rung",
        "seed",
        "design",
        "proposal",
        "review",
        "verify",
        "parent",
        "child",
        "tree",
        "unit",
        "code",
    ]
)


def synthetic_corpus(size: int = 60_000, seed: int = 1234) -> bytes:
    """Sentences over a small vocabulary with a simple grammar: learnable structure, no real text."""
    rng = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < size:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 10))]
        if rng.random() < 0.3:
            words.insert(rng.randint(1, len(words) - 1), str(rng.randint(1, 99)))
        sentence = " ".join(words).capitalize() + rng.choice((". ", "; ", ", and "))
        out.append(sentence)
        total += len(sentence)
    return "".join(out).encode()[:size]


@lru_cache(maxsize=4)
def load_corpus(folder: str) -> bytes:
    path = Path(folder) if folder else DEFAULT_CORPUS
    files = sorted(path.glob("*.txt")) if path.is_dir() else []
    data = b"\n".join(f.read_bytes() for f in files)
    return data if len(data) >= 10_000 else synthetic_corpus()


class ByteLM(Task):
    name = "byte_lm"
    baseline = 1.0 / VOCAB

    def __init__(self, corpus: bytes, held_out: float = 0.1) -> None:
        data = torch.frombuffer(bytearray(corpus), dtype=torch.uint8).long()
        cut = int(len(data) * (1 - held_out))
        self.train, self.test = data[:cut], data[cut:]

    def _windows(self, data: Tensor, starts: Tensor, seq_len: int) -> Batch:
        offsets = torch.arange(seq_len + 1)
        chunks = data[starts[:, None] + offsets[None, :]]
        tokens, targets = chunks[:, :-1], chunks[:, 1:]
        return tokens, targets, torch.ones_like(tokens, dtype=torch.bool)

    def batch(self, size: int, seq_len: int, rng: torch.Generator) -> Batch:
        starts = torch.randint(0, len(self.train) - seq_len - 1, (size,), generator=rng)
        return self._windows(self.train, starts, seq_len)

    def eval_set(self, seq_len: int) -> EvalSet:
        count = min(64, max(1, (len(self.test) - 1) // (seq_len + 1)))
        starts = torch.arange(count) * ((len(self.test) - seq_len - 1) // count)
        return EvalSet(*self._windows(self.test, starts, seq_len))


# ----------------------------------------------------------------------------- recall


class AssociativeRecall(Task):
    """k1 v1 k2 v2 ... kn vn q: predict the value that followed q. Guessing among the values in
    the context is right one time in n, which is the baseline."""

    name = "assoc_recall"
    KEYS, VALUES = 32, 32
    KEY0, VALUE0 = 1, 40

    def pairs(self, seq_len: int) -> int:
        return max(2, min(8, (seq_len - 1) // 2))

    def __init__(self, seq_len: int = 16) -> None:
        self.baseline = 1.0 / self.pairs(seq_len)

    def _make(self, size: int, seq_len: int, rng: torch.Generator) -> Batch:
        n = self.pairs(seq_len)
        keys = torch.argsort(torch.rand(size, self.KEYS, generator=rng), dim=1)[:, :n] + self.KEY0
        values = torch.randint(0, self.VALUES, (size, n), generator=rng) + self.VALUE0
        pick = torch.randint(0, n, (size,), generator=rng)
        rows = torch.arange(size)
        tokens = torch.stack([keys, values], dim=2).reshape(size, 2 * n)
        tokens = torch.cat([tokens, keys[rows, pick][:, None]], dim=1)
        targets = torch.zeros_like(tokens)
        targets[:, -1] = values[rows, pick]
        mask = torch.zeros_like(tokens, dtype=torch.bool)
        mask[:, -1] = True
        return tokens, targets, mask

    def batch(self, size: int, seq_len: int, rng: torch.Generator) -> Batch:
        return self._make(size, seq_len, rng)

    def eval_set(self, seq_len: int) -> EvalSet:
        return EvalSet(*self._make(256, seq_len, torch.Generator().manual_seed(99)))


# ----------------------------------------------------------------------------- modular addition


class ModularAddition(Task):
    """a b = -> (a + b) mod p, trained on most pairs and scored on pairs never seen."""

    name = "mod_add"
    EQUALS, NUMBER0 = 150, 160

    def __init__(self, modulus: int = 13, held_out: float = 0.2, seed: int = 7) -> None:
        self.p = modulus
        self.baseline = 1.0 / modulus
        pairs = [(a, b) for a in range(modulus) for b in range(modulus)]
        random.Random(seed).shuffle(pairs)
        cut = int(len(pairs) * (1 - held_out))
        self.train_pairs = torch.tensor(pairs[:cut])
        self.test_pairs = torch.tensor(pairs[cut:])

    def _encode(self, pairs: Tensor) -> Batch:
        size = len(pairs)
        tokens = torch.stack(
            [pairs[:, 0] + self.NUMBER0, pairs[:, 1] + self.NUMBER0, torch.full((size,), self.EQUALS)], dim=1
        )
        targets = torch.zeros_like(tokens)
        targets[:, -1] = (pairs[:, 0] + pairs[:, 1]) % self.p + self.NUMBER0
        mask = torch.zeros_like(tokens, dtype=torch.bool)
        mask[:, -1] = True
        return tokens, targets, mask

    def batch(self, size: int, seq_len: int, rng: torch.Generator) -> Batch:
        rows = torch.randint(0, len(self.train_pairs), (size,), generator=rng)
        return self._encode(self.train_pairs[rows])

    def eval_set(self, seq_len: int) -> EvalSet:
        return EvalSet(*self._encode(self.test_pairs))


def make_task(name: str, *, seq_len: int, corpus: str = "") -> Task:
    if name == "byte_lm":
        return ByteLM(load_corpus(corpus))
    if name == "assoc_recall":
        return AssociativeRecall(seq_len)
    if name == "mod_add":
        return ModularAddition()
    raise ValueError(f"unknown task {name!r}; tasks are {', '.join(TASK_NAMES)}")
