"""The scale corpus generator (bench/make_corpus.py) and a bulk import killed mid-way."""

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from paperwire.arxiv_ids import parse_arxiv_id

ROOT = Path(__file__).resolve().parents[1]


def make_corpus(n, out, source, seed=0):
    got = subprocess.run(
        [sys.executable, str(ROOT / "bench/make_corpus.py"), str(n), str(out),
         "--seed", str(seed), "--source", str(source)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    return out


def test_the_generator_is_deterministic_and_realistic(tmp_path, kaggle_sample):
    a = make_corpus(500, tmp_path / "a.jsonl.gz", kaggle_sample, seed=3)
    b = make_corpus(500, tmp_path / "b.jsonl.gz", kaggle_sample, seed=3)
    c = make_corpus(500, tmp_path / "c.jsonl.gz", kaggle_sample, seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    with gzip.open(a, "rt") as fh:
        records = [json.loads(line) for line in fh]
    assert len(records) == 500
    ids = [r["id"] for r in records]
    assert len(set(ids)) == 500
    assert all(parse_arxiv_id(i).id == i and i.startswith("scale-") for i in ids)
    source = [json.loads(line) for line in kaggle_sample.open()]
    titles = {s["title"] for s in source}
    cats = {s["categories"] for s in source}
    assert all(r["title"] in titles and r["categories"] in cats for r in records)
    years = {int(r["update_date"][:4]) for r in records}
    assert min(years) >= 1991 and max(years) <= 2026 and len(years) > 10


def _state(data: Path) -> tuple:
    db = sqlite3.connect(data / "paperwire.db")
    papers = db.execute("SELECT arxiv_id, title, abstract FROM papers ORDER BY arxiv_id").fetchall()
    cats = db.execute("SELECT count(*) FROM paper_categories").fetchone()[0]
    vec = sqlite3.connect(data / "index" / "vectors.sqlite")
    dense = vec.execute("SELECT count(*), count(vec) FROM vectors").fetchone()
    return papers, cats, dense


def _cli(data: Path, *args):
    env = {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(data),
        "PYTHONUNBUFFERED": "1",
        "PAPERWIRE_IMPORT_PIPELINE_MB": "0",  # the worker pipeline, even for this small file
    }
    return [sys.executable, "-m", "paperwire.cli", *map(str, args)], env


def test_kill_9_mid_import_then_again_equals_a_clean_import(tmp_path, kaggle_sample):
    corpus = make_corpus(6000, tmp_path / "c.jsonl.gz", kaggle_sample)
    clean = tmp_path / "clean"
    cmd, env = _cli(clean, "import", "--batch-size", "500", corpus)
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=600).returncode == 0

    killed = tmp_path / "killed"
    cmd, env = _cli(killed, "import", "--batch-size", "500", corpus)
    proc = subprocess.Popen(  # its own process group: the embedding workers die with it
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    n = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            n = (
                sqlite3.connect(killed / "paperwire.db")
                .execute("SELECT count(*) FROM papers")
                .fetchone()[0]
            )
        except sqlite3.Error:
            n = 0
        if n >= 1500:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert 0 < n < 6000, "the import was not caught mid-way"
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr

    assert _state(killed) == _state(clean)
    for data in (clean, killed):
        cmd, env = _cli(data, "index")
        status = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert "lexical: 6,000 papers" in status.stdout, status.stdout
        assert "dense (static): 6,000 of 6,000 papers embedded" in status.stdout
