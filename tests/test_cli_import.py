"""`paperwire import` as a user runs it: a real subprocess, on a SQLite file (given as a bare
path, as people type it) and on a PostgreSQL database (given as a URL)."""

import json
import os
import subprocess
import sys

import pytest


def run(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "paperwire.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _db(db_url: str) -> str:
    return db_url.removeprefix("sqlite:///")  # SQLite: the bare file path


def test_import_reports_summary_and_is_idempotent(db_url, shared_hf_dir):
    db = _db(db_url)
    files = sorted(shared_hf_dir.glob("2026-08-2*.json"))
    first = run("import", "--db", db, *files)
    assert first.returncode == 0, first.stderr
    assert "new" in first.stdout and "rejected" in first.stdout
    second = run("import", "--db", db, *files)
    assert second.returncode == 0
    assert "Nothing changed" in second.stdout
    stats = run("stats", "--db", db)
    n = len({i["paper"]["id"] for f in files for i in json.loads(f.read_text())})
    assert f"papers: {n}" in stats.stdout


# "0": a big import's path (files parsed in a reader process) even for this small file
@pytest.mark.parametrize("pipeline_mb", ["8", "0"])
def test_malformed_line_is_reported_and_strict_changes_nothing(tmp_path, db_url, pipeline_mb):
    env = {"PAPERWIRE_IMPORT_PIPELINE_MB": pipeline_mb}
    dump = tmp_path / "dump.jsonl"
    ok = {
        "id": "2501.00001",
        "title": "T",
        "abstract": "a",
        "categories": "cs.CL",
        "versions": [{"version": "v1", "created": "Mon, 6 Jan 2025 00:00:00 GMT"}],
    }
    dump.write_text(json.dumps(ok) + "\n{broken\n" + json.dumps({**ok, "id": "2501.00002"}) + "\n")
    db = _db(db_url)
    strict = run("import", "--db", db, "--strict", dump, env=env)
    assert strict.returncode == 1
    assert f"{dump}:2" in strict.stderr and "nothing was imported" in strict.stderr
    assert "papers: 0" in run("stats", "--db", db).stdout
    lenient = run("import", "--db", db, dump, env=env)
    assert lenient.returncode == 3  # the good records are in; the status says one was not
    assert f"rejected: {dump}:2: malformed JSON" in lenient.stderr  # one unwrapped line
    assert "papers: 2" in run("stats", "--db", db).stdout


def test_missing_path_is_a_clear_error(tmp_path):
    result = run("import", "--db", tmp_path / "x.db", tmp_path / "nope.json")
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
