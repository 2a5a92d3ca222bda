"""Embedding models that ship inside a PyPI package and load offline (no PyTorch).

The default is WordLlama ``l2_supercat`` (256 dimensions, static token embeddings, about
1,500 abstracts/s on 2 cores): the decision and its numbers are in docs/search.md.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = "wordllama-l2_supercat-256"

# SentencePiece-style BPE (Llama 2's vocabulary, as WordLlama ships it) runs over the whole
# text as one word, which costs most of an import's embedding time.  When no vocabulary entry
# holds a "▁" (the space mark) after a character that is not one, no merge can cross the
# start of a run of "▁", so the text splits there into pieces whose tokens, concatenated,
# are the whole text's tokens.  Pieces repeat across papers ("▁the", "▁model,"), so their
# ids are cached.  `_splits_at_spaces` checks the condition when the model loads.
SPACE = "\u2581"
_PIECE = re.compile(f"{SPACE}*[^{SPACE}]*")
MAX_CACHED_PIECES = 60_000  # a generation: two hold about 30 MB of strings and id lists


def _splits_at_spaces(cfg: dict[str, Any]) -> bool:
    """Whether tokenizing space-led pieces one by one gives the whole text's tokens
    (``cfg``: the tokenizer's JSON configuration)."""
    norm = cfg.get("normalizer") or {}
    steps = norm.get("normalizers") if norm.get("type") == "Sequence" else None
    expected = [
        {"type": "Prepend", "prepend": SPACE},
        {"type": "Replace", "pattern": {"String": " "}, "content": SPACE},
    ]
    model = cfg.get("model") or {}
    if steps != expected or cfg.get("pre_tokenizer") is not None:
        return False
    if model.get("type") != "BPE" or model.get("dropout"):
        return False
    # a token with a space mark after its first character must be all space marks
    return all(SPACE not in t[1:] or set(t) == {SPACE} for t in model.get("vocab", {}))


class EmbedderUnavailable(RuntimeError):
    """The embedding model could not be loaded; search stays lexical."""


# The files WordLlama ships for the model, inside its package, and the tensor holding the
# token table: what ``WordLlama.load(config="l2_supercat", dim=256)`` reads for it.
TOKENIZER_FILE = "tokenizers/l2_supercat_tokenizer_config.json"
WEIGHTS_FILE = "weights/l2_supercat_256.safetensors"
TENSOR = "embedding.weight"


def model_files() -> tuple[Path, Path]:
    """The tokenizer and weights files inside the installed ``wordllama`` package, found
    without importing it: its import (configs, downloads) was a fifth of a CLI command's
    start.  ``tests/test_search_embed.py`` holds the result to ``WordLlama.load``'s."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable("the 'wordllama' package is not installed: pip install wordllama")
    root = Path(next(iter(spec.submodule_search_locations)))
    files = (root / TOKENIZER_FILE, root / WEIGHTS_FILE)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise EmbedderUnavailable(
            f"the installed 'wordllama' package lacks {', '.join(missing)}: reinstall it"
        )
    return files


class Embedder:
    """Text to unit vectors (float32).  Thread-safe; the model loads once per process."""

    name = DEFAULT_MODEL
    dim = 256

    def __init__(self) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        tokenizer_file, weights_file = model_files()
        config = tokenizer_file.read_text(encoding="utf-8")
        with safe_open(str(weights_file), framework="np") as f:
            table = f.get_tensor(TENSOR)
        if table.ndim != 2 or table.shape[1] != self.dim:
            raise EmbedderUnavailable(f"{weights_file}: a {table.shape} table, not (n, {self.dim})")
        self._lock = threading.Lock()
        self._tokenizer = Tokenizer.from_str(config)
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._bpe = self._tokenizer.model if _splits_at_spaces(json.loads(config)) else None
        self._pieces: dict[str, list[int]] = {"": []}
        self._older: dict[str, list[int]] = {}
        # one int object per id, shared by the cached lists (ids above 256 are not interned)
        self._ints = list(range(self._tokenizer.get_vocab_size(with_added_tokens=True)))
        self._table = np.ascontiguousarray(table, dtype=np.float32)

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids, as the model's own tokenizer gives them (no special tokens)."""
        if self._bpe is None:  # a vocabulary the piece cache would not be exact for
            enc = self._tokenizer.encode_batch(texts, add_special_tokens=False)
            return [e.ids for e in enc]
        tokenize, ints = self._bpe.tokenize, self._ints
        pieces, older = self._pieces, self._older
        out = []
        for text in texts:
            ids: list[int] = []
            # the Prepend normalizer leaves an empty text empty
            for piece in _PIECE.findall(SPACE + text.replace(" ", SPACE) if text else ""):
                known = pieces.get(piece)
                if known is None:
                    known = older.get(piece)
                    if known is None:
                        known = [ints[t.id] for t in tokenize(piece)]
                    pieces[piece] = known
                    if len(pieces) >= MAX_CACHED_PIECES:
                        # two generations: pieces not seen since the last turn are dropped
                        older, pieces = pieces, {"": []}
                        self._pieces, self._older = pieces, older
                ids += known
            out.append(ids)
        return out

    def embed(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """Mean of the texts' token vectors, L2 normalized (zeros for a text with none).

        The mean is a sparse (texts x vocabulary) count matrix times the token table: the
        same sums as gathering every token's row, without the (tokens x dim) temporary,
        about five times faster.
        """
        from scipy.sparse import csr_matrix  # here: commands that never embed skip its import

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        table = self._table
        for start in range(0, len(texts), batch_size):
            with self._lock:
                ids = self._token_ids(texts[start : start + batch_size])
            lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter(itertools.chain.from_iterable(ids), np.int64, int(lens.sum()))
            if not flat.size:
                continue
            np.clip(flat, 0, table.shape[0] - 1, out=flat)
            indptr = np.zeros(len(ids) + 1, dtype=np.int64)
            np.cumsum(lens, out=indptr[1:])
            counts = csr_matrix(
                (np.ones(flat.size, dtype=np.float32), flat, indptr),
                shape=(len(ids), table.shape[0]),
            )
            sums = np.asarray(counts @ table, dtype=np.float32)
            out[start : start + len(ids)] = sums / np.maximum(lens, 1)[:, None]
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return np.nan_to_num(out / np.maximum(norm, 1e-12))

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    return Embedder()
