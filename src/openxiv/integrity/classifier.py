"""Stage 3's local classifier: is this passage an instruction aimed at a reviewer or a model?

A logistic regression over hashed word and character n-grams. It is trained at build time on
generated text (`openxiv.integrity.training`) and shipped as plain arrays in
`data/classifier.npz` (loaded with `allow_pickle=False`). Hashing uses CRC-32, so the features
are identical in every process and on every platform.
"""

from __future__ import annotations

import itertools
import re
import zlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from openxiv.integrity.textscan import fold_for_matching

N_FEATURES = 1 << 18
_WORDS = re.compile(r"[^\W_]+|[\"“”'‘’«»「」]", re.UNICODE)
WEIGHTS_FILE = "classifier.npz"


def features(text: str) -> list[int]:
    """Hashed feature indices of `text` (with repeats; the model uses binary presence)."""
    folded = fold_for_matching(text)
    tokens = _WORDS.findall(folded)
    grams = [f"w:{t}" for t in tokens]
    grams += [f"b:{a} {b}" for a, b in itertools.pairwise(tokens)]
    padded = f" {folded} "
    for n in (3, 4, 5):
        grams += [f"c{n}:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    return sorted({zlib.crc32(g.encode("utf-8")) % N_FEATURES for g in grams})


class InjectionClassifier:
    def __init__(self, weights: np.ndarray, bias: float, version: str = "") -> None:
        if weights.shape != (N_FEATURES,):
            raise ValueError(f"classifier weights have shape {weights.shape}, expected ({N_FEATURES},)")
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.version = version

    def predict(self, texts: list[str]) -> list[float]:
        """Probability, per passage, that it is an injection."""
        out = []
        for text in texts:
            idx = features(text)
            z = self.bias + float(self.weights[idx].sum()) if idx else self.bias
            out.append(1.0 / (1.0 + np.exp(-z)))
        return out

    @classmethod
    def load(cls, path: Path | None = None) -> InjectionClassifier:
        if path is None:
            ref = resources.files("openxiv.integrity") / "data" / WEIGHTS_FILE
            with resources.as_file(ref) as file:
                return cls._read(Path(file))
        return cls._read(path)

    @classmethod
    def _read(cls, path: Path) -> InjectionClassifier:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["weights"], float(data["bias"][0]), str(data["version"][0]))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=np.array([self.bias], dtype=np.float64),
            version=np.array([self.version]),
        )


@lru_cache(maxsize=1)
def default_classifier() -> InjectionClassifier | None:
    """The shipped classifier, or None when the weights were not built (the rules still work)."""
    try:
        return InjectionClassifier.load()
    except FileNotFoundError:
        return None
