"""The search index knows which database it was built from (issue: an index directory shared
by two databases answered one database's searches with the other's papers)."""

import json
import os
import subprocess
import sys
import threading

import pytest

from paperwire.context import open_store
from paperwire.search.binding import IndexMismatch, bind
from paperwire.search.indexer import SearchIndex, open_index
from paperwire.settings import Settings


def run(*args, env_dir):
    env = {**os.environ, "PAPERWIRE_DATA_DIR": str(env_dir)}
    return subprocess.run(
        [sys.executable, "-m", "paperwire.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.slow  # several CLI processes (the fast tier leaves it out)
def test_an_index_of_another_database_is_refused_then_rebuilt(tmp_path, shared_hf_dir):
    data = tmp_path / "data"
    big = sorted(shared_hf_dir.glob("2026-08-2*.json"))
    assert run("import", *big, env_dir=data).returncode == 0  # the default database
    other = tmp_path / "other.db"
    day = shared_hf_dir / "2026-08-21.json"

    refused = run("import", "--db", other, day, env_dir=data)
    assert refused.returncode == 1
    assert "built from another database" in refused.stderr
    assert "paperwire index --rebuild" in refused.stderr
    search = run("search", "skill", "--db", other, env_dir=data)
    assert search.returncode == 1 and "built from another database" in search.stderr

    rebuilt = run("index", "--rebuild", "--db", other, env_dir=data)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert run("import", "--db", other, day, env_dir=data).returncode == 0
    status = run("index", "--db", other, env_dir=data)
    n_day = len({i["paper"]["id"] for i in json.loads(day.read_text())})
    assert f"lexical: {n_day:,} papers" in status.stdout
    # and now the first database is the stranger
    assert run("search", "skill", env_dir=data).returncode == 1


def test_bind_records_adopts_and_refuses(tmp_path):
    a = open_store(Settings(data_dir=tmp_path / "a", search_index_on_import=False))
    b = open_store(Settings(data_dir=tmp_path / "b", search_index_on_import=False))
    assert a.identity() != b.identity() and len(a.identity()) == 32
    index = SearchIndex(tmp_path / "index", embedder=False)
    bind(index, a)  # an empty index is taken over
    assert index.follow_state.store_identity() == a.identity()
    bind(index, b)  # still empty: taken over again, nothing is lost
    assert index.follow_state.store_identity() == b.identity()
    from paperwire.store.views import SearchDoc

    doc = SearchDoc(1, "2501.00001", "t", "a", [], [], ["cs.CL"], None, None, 0)
    index.index_docs(b, [doc])
    with pytest.raises(IndexMismatch, match="another database"):
        bind(index, a)
    bind(index, a, rebind=True)
    assert index.follow_state.store_identity() == a.identity()
    a.close()
    b.close()


def test_threads_opening_one_index_at_once_share_it(tmp_path):
    """A server's first requests may all ask for the index together: one SearchIndex per
    directory and process, never one per thread."""
    settings = Settings(data_dir=tmp_path / "threads", secret_key="test")
    start = threading.Barrier(4)
    got: list[object] = []

    def first_request() -> None:
        start.wait()
        got.append(open_index(settings))

    threads = [threading.Thread(target=first_request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(got) == 4 and all(g is got[0] for g in got)
