"""Do Hugging Face ``tokenizers`` and blingfire give the contextual model the same token ids?

Usage: python bench/tokenizer_parity.py [SHARED_DATA] [--snapshot N]

The contextual tier (search/contextual.py) tokenizes with HF ``tokenizers`` (Rust, wheels
for x86-64 and aarch64) and the BERT base uncased vocabulary shipped inside paperwire.  It
used blingfire (x86-64 only, 99 MB installed) before; the vectors already stored were made
with it.  This compares the two on real text: SciFact's documents and queries, every HF
daily paper, and the first N papers of the arXiv snapshot (title + abstract, as embedded),
cut at 256 tokens as the product does.  It prints how many texts differ, an example of each
kind of difference, and both tokenizers' rates.  Needs blingfire (pip install blingfire).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import blingfire

from paperwire.search.contextual import CHARS_PER_TOKEN, MAX_TOKENS, UNK, ContextualEmbedder


def texts(root: Path, snapshot: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    sf = root / "scifact"
    out["scifact documents"] = [
        f"{d.get('title', '')}. {d.get('text', '')}"
        for d in map(json.loads, (sf / "corpus.jsonl").open())
    ]
    out["scifact queries"] = [q["text"] for q in map(json.loads, (sf / "queries.jsonl").open())]
    hf = []
    for f in sorted((root / "hf-daily-papers").glob("*.json")):
        for item in json.loads(f.read_text()):
            p = item.get("paper", item)
            hf.append(f"{p.get('title', '')}. {p.get('summary', '')}")
    out["hf daily papers"] = hf
    snap = []
    path = next((root / "arxiv-snapshot").glob("*.jsonl.gz"))
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if len(snap) >= snapshot:
                break
            r = json.loads(line)
            snap.append(f"{r.get('title', '')}. {r.get('abstract', '')}")
    out[f"arxiv snapshot (first {len(snap)})"] = snap
    return out


def main(root: Path, snapshot: int) -> None:
    model = ContextualEmbedder()
    bf = blingfire.load_model(str(Path(blingfire.__file__).parent / "bert_base_tok.bin"))
    room = MAX_TOKENS - 2

    def blingfire_ids(text: str) -> list[int]:
        text = text[: MAX_TOKENS * CHARS_PER_TOKEN]
        text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")
        ids = blingfire.text_to_ids(bf, text, room, UNK, True) if text.strip() else []
        return [101, *(int(i) for i in ids[:room]), 102]

    total = differ = 0
    t_hf = t_bf = 0.0
    for name, items in texts(root, snapshot).items():
        t = time.perf_counter()
        ours = [model.token_ids(x) for x in items]
        t_hf += time.perf_counter() - t
        t = time.perf_counter()
        theirs = [blingfire_ids(x) for x in items]
        t_bf += time.perf_counter() - t
        bad = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
        total += len(items)
        differ += len(bad)
        print(f"{name}: {len(items)} texts, {len(bad)} with different ids")
        for i in bad[:3]:
            a, b = ours[i], theirs[i]
            at = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
            print(f"  e.g. text {i}: tokenizers {a[at : at + 4]} vs blingfire {b[at : at + 4]}")
    print(f"all: {total} texts, {differ} differ ({differ / max(total, 1):.4%})")
    print(f"tokenizers: {total / t_hf:.0f} texts/s; blingfire: {total / t_bf:.0f} texts/s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, nargs="?", default=Path("../shared/data"))
    ap.add_argument("--snapshot", type=int, default=50_000)
    args = ap.parse_args()
    main(args.data, args.snapshot)
