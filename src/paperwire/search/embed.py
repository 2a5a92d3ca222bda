"""Embedding models that ship inside a PyPI package and load offline (no PyTorch).

The default is WordLlama ``l2_supercat`` (256 dimensions, static token embeddings, about
1,500 abstracts/s on 2 cores): the decision and its numbers are in docs/search.md.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

DEFAULT_MODEL = "wordllama-l2_supercat-256"


class EmbedderUnavailable(RuntimeError):
    """The embedding model could not be loaded; search stays lexical."""


class Embedder:
    """Text to unit vectors (float32).  Thread-safe; the model loads once per process."""

    name = DEFAULT_MODEL
    dim = 256

    def __init__(self) -> None:
        try:
            import wordllama
            from wordllama import WordLlama
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderUnavailable(
                "the 'wordllama' package is not installed: pip install wordllama"
            ) from exc
        from pathlib import Path

        self._model = WordLlama.load(
            config="l2_supercat",
            cache_dir=Path(wordllama.__file__).parent,
            disable_download=True,
            dim=self.dim,
        )
        self._lock = threading.Lock()

    def embed(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.embed(texts, norm=True, batch_size=batch_size)
        vecs = np.asarray(vecs, dtype=np.float32)
        return np.nan_to_num(vecs)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    return Embedder()
