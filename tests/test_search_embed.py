"""The static embedder: its fast tokenization and pooling give the model's own answer.

``Embedder`` tokenizes space-led pieces with a cache and pools with a sparse product
(search/embed.py).  These tests hold it to WordLlama's tokenizer run over the whole text
and to a plain mean of the token rows, on real abstracts and on arbitrary text.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from paperwire.search import embed as embed_mod
from paperwire.search.embed import Embedder, _splits_at_spaces


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def reference_ids(embedder: Embedder, texts: list[str]) -> list[list[int]]:
    return [e.ids for e in embedder._tokenizer.encode_batch(texts, add_special_tokens=False)]


def reference_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """The definition: mean of the token rows, L2 normalized, zeros for no tokens."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float64)
    for i, ids in enumerate(reference_ids(embedder, texts)):
        if ids:
            v = embedder._table[np.array(ids)].astype(np.float64).mean(axis=0)
            out[i] = v / np.linalg.norm(v)
    return out


AWKWARD = [
    "",
    " ",
    "   ",
    "a",
    " leading space",
    "trailing space ",
    "two  spaces   and    four",
    "Title.\n\nSecond paragraph\twith a tab",
    "Emoji 🙂🚀 and CJK 深度学习 and Ελληνικά",
    "Math $\\mathcal{O}(n \\log n)$, e.g. $x_{i,j}^2$ (see [12]).",
    "combining e\u0301 and zero\u200bwidth",
    "▁already▁marked▁ text ▁▁",
    "x" * 3000,
]


def test_the_shipped_model_splits_at_spaces(embedder):
    # if a new WordLlama breaks the condition, the embedder silently takes the slow path;
    # this says so instead
    assert embedder._bpe is not None


def test_ids_match_the_tokenizer_on_awkward_text(embedder):
    assert embedder._token_ids(AWKWARD) == reference_ids(embedder, AWKWARD)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_ids_match_the_tokenizer_on_any_text(embedder, texts):
    assert embedder._token_ids(texts) == reference_ids(embedder, texts)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab c▁\n"), max_size=40), min_size=1, max_size=5))
def test_ids_match_on_runs_of_spaces_and_marks(embedder, texts):
    assert embedder._token_ids(texts) == reference_ids(embedder, texts)


def test_vectors_are_the_mean_of_token_rows(embedder):
    texts = AWKWARD + [
        "Attention is all you need. The dominant sequence transduction models are based on "
        "complex recurrent or convolutional neural networks."
    ]
    got = embedder.embed(texts, batch_size=4)
    want = reference_vectors(embedder, texts)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=2e-6)
    assert not got[0].any() and got[1].any()  # "" has no tokens, " " has one


@pytest.mark.shared_data
def test_real_abstracts_tokenize_and_embed_as_before(embedder, shared_hf_dir, monkeypatch):
    from paperwire.sources.files import expand_paths, read_file

    texts = []
    for path in expand_paths([shared_hf_dir])[:40]:
        texts += [f"{r.title}. {r.abstract}" for r in read_file(path) if hasattr(r, "abstract")]
    assert len(texts) > 500
    # a small generation, so the cache turns over several times within the test
    monkeypatch.setattr(embed_mod, "MAX_CACHED_PIECES", 2_000)
    fresh = Embedder()
    assert fresh._token_ids(texts) == reference_ids(fresh, texts)
    assert len(fresh._pieces) <= 2_000 and len(fresh._older) <= 2_000
    np.testing.assert_allclose(
        fresh.embed(texts[:200]), reference_vectors(fresh, texts[:200]), atol=2e-6
    )


def _tiny_tokenizer(vocab: dict[str, int], pre_tokenizer: dict | None = None) -> Tokenizer:
    cfg = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": "▁"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
            ],
        },
        "pre_tokenizer": pre_tokenizer,
        "post_processor": None,
        "decoder": None,
        "model": {"type": "BPE", "vocab": vocab, "merges": [], "unk_token": None},
    }
    return Tokenizer.from_str(json.dumps(cfg))


def _config(tokenizer: Tokenizer) -> dict:
    return json.loads(tokenizer.to_str())


def test_the_split_is_refused_where_it_would_not_be_exact():
    base = {"▁": 0, "a": 1, "b": 2, "▁a": 3, "▁▁": 4}
    assert _splits_at_spaces(_config(_tiny_tokenizer(base)))
    # a token that crosses a space after a letter: pieces would cut it apart
    assert not _splits_at_spaces(_config(_tiny_tokenizer({**base, "a▁b": 5})))
    # a pre-tokenizer changes what a piece is
    assert not _splits_at_spaces(_config(_tiny_tokenizer(base, {"type": "Whitespace"})))


def test_the_model_files_are_what_wordllama_loads(embedder):
    """The embedder reads WordLlama's shipped files itself (its package is slow to import):
    the same table and the same tokens as ``WordLlama.load`` gives."""
    import wordllama
    from wordllama import WordLlama

    model = WordLlama.load(config="l2_supercat", dim=256, disable_download=True,
                           cache_dir=Path(wordllama.__file__).parent)  # fmt: skip
    np.testing.assert_array_equal(embedder._table, model.embedding)
    theirs = model.tokenizer.encode_batch(AWKWARD, add_special_tokens=False)
    # WordLlama's tokenizer pads a batch to its longest text: its real tokens are the masked
    unpadded = [[i for i, m in zip(e.ids, e.attention_mask, strict=True) if m] for e in theirs]
    assert unpadded == reference_ids(embedder, AWKWARD)
    assert any(len(e.ids) > len(u) for e, u in zip(theirs, unpadded, strict=True))
