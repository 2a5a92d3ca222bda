"""Grow a scale corpus in the Kaggle arXiv snapshot format from the real shared snapshot.

    python bench/make_corpus.py 2900000 /tmp/arxiv-2.9M.jsonl.gz
    python bench/make_corpus.py 1000 /tmp/small.jsonl.gz --seed 7 \
        --source ../shared/data/arxiv-snapshot/arxiv-metadata-173k.jsonl.gz

Every record is new: its id is old-style, ``scale-XY/YYMMNNN`` (``scale-XY`` is no arXiv
archive, so no real paper can have it, and the importer's id rules accept it; the two letters
give room for 676,000 papers a month).  Its
title and abstract are recombined from real papers *of the same primary category* (the title
of one, the first half of another's abstract, the second half of a third's), so the words,
their frequencies and the lengths stay those of real arXiv text.  Categories follow the real
mix of the source; dates spread from 1991 to 2026, growing the way arXiv's yearly submissions
grow (about 8% a year).  The same N, seed and source give the same bytes (the gzip header
carries no time and no name).

The file is written outside the repository; the generator holds only the source's text in
memory (about 250 MB for the shared 173k), never the output.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared/data/arxiv-snapshot/arxiv-metadata-173k.jsonl.gz"
FIRST_YEAR, LAST_YEAR = 1991, 2026
GROWTH = 1.08  # arXiv's yearly submissions grow by roughly this factor
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def load_source(path: Path) -> dict[str, list[tuple[str, str, str, str]]]:
    """Real papers by primary category: (title, abstract, authors, categories)."""
    by_cat: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            cats = (rec.get("categories") or "").split()
            if not cats or not rec.get("title") or not rec.get("abstract"):
                continue  # the importer drops arXiv records without categories anyway
            by_cat[cats[0]].append(
                (rec["title"], rec["abstract"], rec.get("authors") or "", " ".join(cats))
            )
    return dict(sorted(by_cat.items()))


def year_weights() -> tuple[list[int], list[float]]:
    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    return years, [GROWTH ** (y - FIRST_YEAR) for y in years]


def split_half(text: str) -> tuple[str, str]:
    """Cut an abstract at the sentence end nearest its middle (or at a space)."""
    mid = len(text) // 2
    cut = text.find(". ", mid)
    if cut == -1:
        cut = text.find(" ", mid)
    if cut == -1:
        return text, ""
    return text[: cut + 1], text[cut + 1 :]


def generate(n: int, out, source: dict[str, list], seed: int = 0) -> int:
    """Write ``n`` records as JSON lines to the text stream ``out``; returns ``n``."""
    rng = random.Random(seed)
    cats = list(source)
    weights = [len(source[c]) for c in cats]  # the real category mix of the source
    years, yweights = year_weights()
    per_month: dict[tuple[int, int], int] = defaultdict(int)
    for _ in range(n):
        cat = rng.choices(cats, weights)[0]
        pool = source[cat]
        title, _a, authors, categories = pool[rng.randrange(len(pool))]
        head, _ = split_half(pool[rng.randrange(len(pool))][1])
        _, tail = split_half(pool[rng.randrange(len(pool))][1])
        year = rng.choices(years, yweights)[0]
        day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        key = (day.year % 100, day.month)
        per_month[key] += 1
        seq = per_month[key]  # scale-XY/YYMMNNN: unique per month, never a real arXiv id
        arch = "scale-" + chr(97 + seq // 26000 % 26) + chr(97 + seq // 1000 % 26)
        arxiv_id = f"{arch}/{key[0]:02d}{key[1]:02d}{seq % 1000:03d}"
        created = (
            f"{WEEKDAYS[day.weekday()]}, {day.day:02d} {MONTHS[day.month - 1]} {day.year}"
            " 00:00:00 GMT"
        )
        record = {
            "id": arxiv_id,
            "submitter": None,
            "authors": authors,
            "title": title,
            "comments": None,
            "journal-ref": None,
            "doi": None,
            "report-no": None,
            "categories": categories,
            "license": None,
            "abstract": (head + tail).strip(),
            "versions": [{"version": "v1", "created": created}],
            "update_date": day.isoformat(),
            "authors_parsed": [],
        }
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
    return n


def write_corpus(n: int, path: Path, source_path: Path, seed: int = 0) -> int:
    source = load_source(source_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 and no file name in the gzip header: the same input gives the same bytes
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=3) as gz,
        io.TextIOWrapper(gz, encoding="utf-8") as out,
    ):
        return generate(n, out, source, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=2_900_000, help="records (2.9M)")
    parser.add_argument("out", type=Path, help="output .jsonl.gz, outside the repository")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"no source snapshot at {args.source}: pass --source", file=sys.stderr)
        return 2
    if args.n < 1:
        print("n must be at least 1", file=sys.stderr)
        return 2
    written = write_corpus(args.n, args.out, args.source, args.seed)
    print(f"records: {written}")
    print(f"bytes: {args.out.stat().st_size}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
