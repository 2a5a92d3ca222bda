"""Parsing of the two file formats, on real shared data and on deliberately broken input."""

import gzip
import json
import multiprocessing
import subprocess
import sys
import time
from datetime import date

from paperwire.record import PaperRecord
from paperwire.sources.errors import RecordError
from paperwire.sources.files import (
    READER_CHUNK,
    expand_paths,
    read_file,
    read_files,
    read_files_in_worker,
)


def test_hf_day_file_gives_records_with_listings(shared_hf_dir):
    items = list(read_file(shared_hf_dir / "2026-08-21.json"))
    assert len(items) == 17
    assert all(isinstance(i, PaperRecord) for i in items)
    env = next(i for i in items if i.arxiv_id == "2608.19880")
    assert env.title.startswith("EnvHarness")
    assert env.github_repo == "https://github.com/google-research/envharness"
    assert env.github_stars == 8
    assert env.upvotes == 163
    assert env.listing.day == date(2026, 8, 21)
    assert env.listing.organization.name == "google"
    assert env.authors[0] == "Chengsong Huang"
    assert "LLM agents" in env.keywords


def test_every_shared_hf_file_parses_without_error(shared_hf_dir):
    files = expand_paths([shared_hf_dir])
    assert len(files) == 580
    errors = [i for f in files for i in read_file(f) if isinstance(i, RecordError)]
    assert errors == []


def test_kaggle_sample_fields(kaggle_sample):
    items = list(read_file(kaggle_sample))
    assert len(items) == 200
    first = items[0]
    assert first.arxiv_id == "0704.0001"
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors[:2] == ("C. Balázs", "E. L. Berger") or first.authors[0].endswith("Balázs")
    assert first.categories == ("hep-ph",)
    assert first.doi == "10.1103/PhysRevD.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.published_at.date() == date(2007, 4, 2)
    assert first.version is not None and first.version >= 1
    assert "\n" not in first.abstract  # hard wraps undone


def test_malformed_jsonl_lines_are_reported_with_file_and_line(tmp_path):
    good = {
        "id": "2501.00001",
        "title": "A",
        "abstract": "x",
        "authors": "A. B",
        "categories": "cs.CL",
        "versions": [{"version": "v1", "created": "Mon, 6 Jan 2025 00:00:00 GMT"}],
    }
    path = tmp_path / "dump.jsonl"
    path.write_text(
        json.dumps(good)
        + "\n"
        + '{"id": "2501.00002", "title": \n'
        + json.dumps({**good, "id": "not-an-id"})
        + "\n"
        + json.dumps({**good, "id": "2501.00003", "title": ""})
        + "\n"
        + json.dumps({**good, "id": "2501.00004"})
        + "\n"
    )
    items = list(read_file(path))
    errors = [i for i in items if isinstance(i, RecordError)]
    records = [i for i in items if isinstance(i, PaperRecord)]
    assert [r.arxiv_id for r in records] == ["2501.00001", "2501.00004"]
    assert [e.where for e in errors] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert "malformed JSON" in errors[0].message
    assert "not an arXiv id" in errors[1].message
    assert "no title" in errors[2].message


def test_gzip_is_detected_by_content_and_truncation_is_reported(tmp_path):
    rec = {
        "id": "2501.00001",
        "title": "T",
        "abstract": "a",
        "categories": "cs.LG",
        "versions": [{"version": "v1", "created": "Mon, 6 Jan 2025 00:00:00 GMT"}],
    }
    data = gzip.compress(
        (
            "\n".join(json.dumps({**rec, "id": f"2501.{i:05d}"}) for i in range(1, 2001)) + "\n"
        ).encode()
    )
    whole = tmp_path / "snap.jsonl.gz"
    whole.write_bytes(data)
    assert sum(isinstance(i, PaperRecord) for i in read_file(whole)) == 2000
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    items = list(read_file(cut))
    assert isinstance(items[-1], RecordError)
    assert "cannot read file" in items[-1].message


def test_malformed_json_file_is_one_error(tmp_path):
    path = tmp_path / "2026-01-02.json"
    path.write_text('[{"paper": {"id": "2601.00001"')
    items = list(read_file(path))
    assert len(items) == 1 and isinstance(items[0], RecordError)
    assert str(path) in str(items[0])


def test_hf_item_with_bad_id_is_rejected_alone(tmp_path):
    ok = {
        "paper": {
            "id": "2601.00001",
            "title": "Fine",
            "summary": "s",
            "authors": [],
            "publishedAt": "2026-01-01T00:00:00.000Z",
            "upvotes": 3,
        }
    }
    bad = {"paper": {**ok["paper"], "id": "javascript:alert(1)"}}
    path = tmp_path / "2026-01-02.json"
    path.write_text(json.dumps([ok, bad]))
    items = list(read_file(path))
    assert isinstance(items[0], PaperRecord) and items[0].listing.day == date(2026, 1, 2)
    assert isinstance(items[1], RecordError) and "item 1" in items[1].where


def _mixed_files(tmp_path, shared_hf_dir, kaggle_sample):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "2501.00001", "title": "T", "abstract": "a"}\n{broken\n')
    empty = tmp_path / "empty.json"
    empty.write_text("")
    return expand_paths([shared_hf_dir])[:30] + [bad, kaggle_sample, empty]


def _comparable(item):
    return (item.where, item.message) if isinstance(item, RecordError) else item


def test_the_reader_process_gives_the_same_stream(tmp_path, shared_hf_dir, kaggle_sample):
    files = _mixed_files(tmp_path, shared_hf_dir, kaggle_sample)
    here = [_comparable(x) for x in read_files(files)]
    there = [_comparable(x) for x in read_files_in_worker(files)]
    assert there == here  # records and errors, in the same order
    assert sum(isinstance(x, tuple) for x in there) >= 2  # the errors
    assert sum(isinstance(x, PaperRecord) for x in there) > READER_CHUNK
    assert not _readers()


def _readers() -> list:
    """This process's live reader children (other tests' children do not count)."""
    return [p for p in multiprocessing.active_children() if p.name == "paperwire-reader"]


def test_closing_the_stream_early_stops_the_reader(shared_hf_dir):
    stream = read_files_in_worker(expand_paths([shared_hf_dir]))
    assert isinstance(next(stream), PaperRecord)
    assert _readers()
    stream.close()
    assert not _readers()


ORPHAN = """
import sys
from pathlib import Path
from paperwire.sources.files import expand_paths, read_files_in_worker
if __name__ == "__main__":
    stream = read_files_in_worker(expand_paths([Path(sys.argv[1])]))
    next(stream)
    import multiprocessing
    reader = [p for p in multiprocessing.active_children() if p.name == "paperwire-reader"]
    print(reader[0].pid, flush=True)
    import time
    time.sleep(600)
"""


def test_a_reader_whose_importer_was_killed_exits(tmp_path, shared_hf_dir):
    # 9,881 papers are more than the reader may run ahead: it waits on a full queue
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(shared_hf_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    reader = int(parent.stdout.readline())
    parent.kill()
    parent.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _alive(reader):
        time.sleep(0.1)
    assert not _alive(reader), "the reader outlived the import that started it"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
