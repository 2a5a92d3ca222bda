"""Contextual embedding throughput (papers/s) by input length and batch size.

Usage: python bench/contextual_rate.py SNAPSHOT.jsonl.gz [--papers 384] [--threads 2]

Embeds the same random sample of real papers (title + abstract, as the product does) with
the product's ``ContextualEmbedder`` at 256 tokens (the default) and 128 tokens, in the
product's length-bucketed batches of 8, 16 and 32, and prints papers/s for each, with the
time all of arXiv (2.9M papers) would take at that rate.  The first pass warms the model up
and is not counted.  Quality at 128 tokens is measured by bench/search_quality.py
(``--max-tokens``), not here.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import time
from pathlib import Path

from paperwire.search.contextual import ContextualEmbedder

ARXIV = 2_900_000


def sample(path: Path, n: int) -> list[str]:
    rng = random.Random(7)
    picked: list[str] = []
    with gzip.open(path, "rt") as fh:
        for i, line in enumerate(fh):  # reservoir sampling: one pass, any file size
            rec = json.loads(line)
            text = f"{rec.get('title', '')}. {rec.get('abstract', '')}".strip()
            if len(picked) < n:
                picked.append(text)
            elif (j := rng.randint(0, i)) < n:
                picked[j] = text
    return picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("snapshot", type=Path)
    ap.add_argument("--papers", type=int, default=384)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    texts = sample(args.snapshot, args.papers)
    print(f"cpu cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    print(f"papers: {len(texts)}, threads: {args.threads}")
    for tokens in (256, 128):
        emb = ContextualEmbedder(max_tokens=tokens, threads=args.threads)
        emb.embed(texts[:16])  # warm-up
        lens = [len(emb.token_ids(t)) for t in texts]
        print(f"{tokens} tokens: mean input {sum(lens) / len(lens):.0f} tokens")
        for batch in (8, 16, 32):
            t = time.perf_counter()
            emb.embed(texts, batch_size=batch)
            rate = len(texts) / (time.perf_counter() - t)
            days = ARXIV / rate / 86400
            print(f"  batch {batch}: {rate:.1f} papers/s, all of arXiv in {days:.1f} days")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
