"""Stage 3's local classifier: is this passage an instruction aimed at a reviewer or a model?

A logistic regression over hashed word and character n-grams (binary presence, scaled by
1/sqrt(number of features) so that a three-word fragment and a three-sentence passage are on the
same scale). It is trained and calibrated at build time on real paper text and generated payloads
(`openxiv.tooling.integrity.training`) and shipped as plain arrays in `data/classifier.npz` (loaded with
`allow_pickle=False`), together with the decision threshold chosen on held-out real documents
(`threshold`). Hashing uses CRC-32, so the features are identical in every process and on every
platform.
"""

from __future__ import annotations

import itertools
import math
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
    if tokens:  # an instruction starts with its verb ("Ignore ...") where prose has a subject
        grams.append(f"s:{tokens[0]}")
    grams += [f"b:{a} {b}" for a, b in itertools.pairwise(tokens)]
    padded = f" {folded} "
    for n in (3, 4, 5):
        grams += [f"c{n}:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    return sorted({zlib.crc32(g.encode("utf-8")) % N_FEATURES for g in grams})


DEFAULT_THRESHOLD = 0.5  # for weights saved without a calibrated threshold


class InjectionClassifier:
    def __init__(
        self,
        weights: np.ndarray,
        bias: float,
        version: str = "",
        threshold: float = DEFAULT_THRESHOLD,
        threshold_concealed: float | None = None,
    ) -> None:
        if weights.shape != (N_FEATURES,):
            raise ValueError(f"classifier weights have shape {weights.shape}, expected ({N_FEATURES},)")
        concealed = threshold if threshold_concealed is None else threshold_concealed
        for value in (threshold, concealed):
            if not 0.0 < value < 1.0:
                raise ValueError(
                    f"classifier threshold {value} is not a probability strictly between 0 and 1"
                )
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.version = version
        # Probabilities at or above which a passage counts as an injection, calibrated on real
        # documents (docs/integrity.md, "The classifier"): `threshold` for text a reader sees (no
        # calibration paper reaches it), `threshold_concealed` for hidden text, metadata and
        # annotations (sentence-level false-positive rate <= 0.1 %).
        self.threshold = float(threshold)
        self.threshold_concealed = float(concealed)

    def predict(self, texts: list[str]) -> list[float]:
        """Probability, per passage, that it is an injection (compare with `threshold`)."""
        out = []
        for text in texts:
            idx = features(text)
            z = self.bias + float(self.weights[idx].sum()) / math.sqrt(len(idx)) if idx else self.bias
            out.append(1.0 / (1.0 + math.exp(-z)))
        return out

    def is_injection(self, texts: list[str], *, concealed: bool = False) -> list[bool]:
        threshold = self.threshold_concealed if concealed else self.threshold
        return [p >= threshold for p in self.predict(texts)]

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
            threshold = float(data["threshold"][0]) if "threshold" in data.files else DEFAULT_THRESHOLD
            concealed = float(data["threshold_concealed"][0]) if "threshold_concealed" in data.files else None
            return cls(data["weights"], float(data["bias"][0]), str(data["version"][0]), threshold, concealed)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=np.array([self.bias], dtype=np.float64),
            version=np.array([self.version]),
            threshold=np.array([self.threshold], dtype=np.float64),
            threshold_concealed=np.array([self.threshold_concealed], dtype=np.float64),
        )


@lru_cache(maxsize=1)
def default_classifier() -> InjectionClassifier | None:
    """The shipped classifier, or None when the weights were not built (the rules still work)."""
    try:
        return InjectionClassifier.load()
    except FileNotFoundError:
        return None
