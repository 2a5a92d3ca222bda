"""Embedding models that ship inside a PyPI package and load offline (no PyTorch).

The default is WordLlama ``l2_supercat`` (256 dimensions, static token embeddings, about
1,500 abstracts/s on 2 cores): the decision and its numbers are in docs/search.md.
"""

from __future__ import annotations

import copy
import itertools
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
        # WordLlama's own embed pads each batch to its longest text and pools the padded
        # (batch, length, dim) array; gathering only the real tokens and summing them per
        # text gives the same vectors (to float rounding) about 20% faster.
        self._tokenizer = copy.deepcopy(self._model.tokenizer)
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._table = self._model.embedding

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Mean of the texts' token vectors, L2 normalized (zeros for a text with none)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        table = self._table
        for start in range(0, len(texts), batch_size):
            with self._lock:
                enc = self._tokenizer.encode_batch(
                    texts[start : start + batch_size], add_special_tokens=False
                )
            ids = [e.ids for e in enc]
            lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter(itertools.chain.from_iterable(ids), np.int64, int(lens.sum()))
            if not flat.size:
                continue
            np.clip(flat, 0, table.shape[0] - 1, out=flat)
            rows = np.flatnonzero(lens)
            starts = (np.cumsum(lens) - lens)[rows]
            out[start + rows] = np.add.reduceat(table[flat], starts, axis=0) / lens[rows, None]
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return np.nan_to_num(out / np.maximum(norm, 1e-12))

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    return Embedder()
