"""Scheduled work runs once per slot across nodes; each node's index follows the database.

On SQLite and PostgreSQL.  The end-to-end version, with two real servers, is test_nodes.py.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
from sqlalchemy import update

from digest_data import CORPUS, D20, D21, load, record
from paperwire.context import open_store
from paperwire.scheduling import DailyJob, latest_slot, slot_key
from paperwire.search.follow import LAST_READ, OVERLAP, IndexFollower
from paperwire.search.indexer import SearchIndex
from paperwire.search.query import parse
from paperwire.search.vector_table import text_hash
from paperwire.store.models import Paper, PaperVector
from paperwire.store.scheduled_runs import ScheduleLog

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_latest_slot_is_the_last_due_time():
    assert latest_slot(time(6, 30), NOW) == datetime(2026, 11, 24, 6, 30, tzinfo=UTC)
    assert latest_slot(time(9, 0), NOW) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert slot_key(latest_slot(time(8, 0), NOW)) == "2026-11-24T08:00"


def test_one_of_many_racing_claims_wins(store):
    log = ScheduleLog(store.engine)
    wins: list[str] = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        if log.claim("sync", "2026-11-24T06:30", f"node{i}"):
            wins.append(f"node{i}")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    (run,) = log.runs()
    assert (run.node, run.status) == (wins[0], "running")
    assert not log.claim("sync", "2026-11-24T06:30", "late")  # fresh heartbeat: no takeover
    assert log.claim("sync", "2026-11-25T06:30", "node0")  # the next day is a new slot


def test_a_dead_nodes_slot_is_taken_over_once(store):
    log = ScheduleLog(store.engine)
    assert log.claim("digest", "s", "dead")
    assert not log.claim("digest", "s", "other", stale_after=60)
    with store.engine.begin() as conn:  # the claimant stopped beating ten minutes ago
        from paperwire.store.schedule_models import ScheduledRun

        conn.execute(
            update(ScheduledRun).values(heartbeat_at=datetime(2000, 1, 1)),
        )
    assert log.claim("digest", "s", "other", stale_after=60)
    assert not log.claim("digest", "s", "third", stale_after=60)
    assert not log.heartbeat("digest", "s", "dead")  # the dead node learns it lost the run
    log.finish("digest", "s", "other", "done", "3 sent")
    (run,) = log.runs()
    assert (run.node, run.status, run.detail, run.takeovers) == ("other", "done", "3 sent", 1)
    assert not log.claim("digest", "s", "third", stale_after=0)  # finished runs stay finished


def test_daily_job_runs_a_slot_once_and_records_errors(settings):
    calls: list[str] = []

    def work() -> str:
        calls.append("ran")
        if len(calls) == 2:
            raise RuntimeError("the SMTP server is down")
        return "all good"

    at = time(7, 0)
    a = DailyJob("digest", settings, at, work, first_delay=0)
    b = DailyJob("digest", settings, at, work, first_delay=0)
    try:
        assert a.tick(NOW) == "done"
        assert b.tick(NOW) == "taken"  # another node: the slot is done
        assert a.tick(NOW) is None  # and this node does not look again
        assert b.tick(NOW + timedelta(days=1)) == "error"  # the next day; work fails
        assert a.tick(NOW + timedelta(days=1)) == "taken"
        runs = {r.slot: r for r in ScheduleLog(a.engine).runs()}
    finally:
        a._engine.dispose()
        b._engine.dispose()
    assert calls == ["ran", "ran"]
    assert runs["2026-11-24T07:00"].status == "done"
    assert runs["2026-11-24T07:00"].detail == "all good"
    assert runs["2026-11-25T07:00"].status == "error"
    assert "SMTP server is down" in runs["2026-11-25T07:00"].detail


def test_a_satisfied_slot_does_not_run(settings):
    ran: list[int] = []
    job = DailyJob("sync", settings, time(6, 30), lambda: ran.append(1), satisfied=lambda s: True)
    try:
        assert job.tick(NOW) == "satisfied"
    finally:
        if job._engine is not None:
            job._engine.dispose()
    assert ran == []


# ------------------------------------------------------------------ the index follower


@pytest.fixture
def store_no_index(settings):
    """A store whose imports do not touch the index: only the follower writes it."""
    s = open_store(settings.model_copy(update={"search_index_on_import": False}))
    yield s
    s.close()


def _found(follower: IndexFollower, words: str) -> list[int]:
    follower.index.lexical.refresh(force=True)
    return [pid for pid, _ in follower.index.lexical.search(parse(words))[0]]


def _follower(settings, store) -> IndexFollower:
    index = SearchIndex(settings.data_dir / "index", embedder=False)
    return IndexFollower(index, store, interval=0.1)


def test_the_follower_indexes_changes_once(settings, store_no_index):
    store = store_no_index
    load(store)
    follower = _follower(settings, store)
    assert follower.step() == len({r.arxiv_id for r in CORPUS})
    fetched: list[int] = []
    real = store.search_docs
    store.search_docs = lambda ids: fetched.extend(ids) or real(ids)
    assert follower.step() == 0  # the overlap window is listed again ...
    assert fetched == []  # ... but papers already seen as they are now are not read again
    assert _found(follower, "walrus") == []

    # A changed title is re-indexed, and only that paper.
    store.import_records([record("2608.00012", "A Study of Quantum Walrus Tokenizers", D21, 10)])
    assert follower.step() == 1
    assert fetched == [store.paper_id("2608.00012")]
    assert _found(follower, "walrus") == [store.paper_id("2608.00012")]

    # A commit that lands late, with a modified_at just before the watermark: still found.
    store.import_records([record("2608.00099", "Late Walrus Commit", D20, 0)])
    mark = follower.index.follow_state.watermark()
    with store.engine.begin() as conn:
        conn.execute(
            update(Paper)
            .where(Paper.arxiv_id == "2608.00099")
            .values(modified_at=mark - OVERLAP / 2)
        )
    assert follower.step() == 1
    assert store.paper_id("2608.00099") in _found(follower, "walrus")


def test_a_quiet_follower_reads_nothing_again(settings, store_no_index):
    """Long after the last write, a round reads no paper and no vector: an import's last
    batch shares one timestamp, and its last two minutes of vectors are older than the
    overlap window; rounds re-read both every 2 s before (4 s of CPU a round at 183k)."""
    store = store_no_index
    load(store)
    follower = _follower(settings, store)
    dense = follower.index.dense
    store.vectors.save(
        dense.model, [(pid, "h", np.ones(dense.dim, dtype=np.float32)) for pid in store.paper_ids()]
    )
    an_hour_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    with store.engine.begin() as conn:  # one import, finished an hour ago
        conn.execute(update(Paper).values(modified_at=an_hour_ago))
        conn.execute(update(PaperVector).values(created_at=an_hour_ago))
    follower.step()  # the first round after a start reads the overlap window once
    papers: list[int] = []
    vectors: list[int] = []
    docs, since = store.search_docs, store.vectors.since
    store.search_docs = lambda ids: papers.extend(ids) or docs(ids)
    store.vectors.since = lambda *a, **k: (rows := since(*a, **k)) and vectors.extend(rows) or rows
    for _ in range(3):
        assert follower.step() == 0
    assert papers == []  # the last batch, read again
    assert vectors == []  # the last two minutes of vectors, read again


def test_a_restarted_follower_leaves_the_vectors_it_has(settings, store_no_index):
    """After a start the follower pulls the overlap window of stored vectors again; the
    papers whose vector of that text the index has keep it, unwritten (it rewrote about
    100k of them at 183k papers, 6 s of the first round)."""
    store = store_no_index
    load(store)
    follower = _follower(settings, store)
    dense = follower.index.dense
    docs = store.search_docs(store.paper_ids())
    rows = [(d.id, text_hash(d), np.full(dense.dim, 0.5, dtype=np.float32)) for d in docs]
    store.vectors.save(dense.model, rows)
    follower.step()  # indexes the papers, then takes their stored vectors in

    def written() -> dict[int, int]:
        with sqlite3.connect(dense.path) as db:
            return dict(db.execute("SELECT pid, seq FROM vectors WHERE vec IS NOT NULL"))

    before = written()
    assert len(before) == len(docs)
    restarted = _follower(settings, store)  # a new process: no memory of the last pull
    restarted.step()
    assert written() == before


def test_a_restart_after_a_quiet_spell_reads_nothing_again(settings, store_no_index):
    """A restarted server's follower looks back from its directory's last round, not from
    the watermark: an hour after the last write it reads no paper and no vector again
    (15.7 s of CPU at 183k papers for a window it had read before the restart)."""
    store = store_no_index
    load(store)
    follower = _follower(settings, store)
    dense = follower.index.dense
    ids = store.paper_ids()
    store.vectors.save(dense.model, [(pid, "h", np.ones(dense.dim, np.float32)) for pid in ids])
    an_hour_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    with store.engine.begin() as conn:  # written an hour ago, one after another
        for i, pid in enumerate(ids):
            when = an_hour_ago + timedelta(seconds=i)
            conn.execute(update(Paper).where(Paper.id == pid).values(modified_at=when))
            conn.execute(
                update(PaperVector).where(PaperVector.paper_id == pid).values(created_at=when)
            )
    follower.step()  # the first round reads the window before the watermark
    follower.stop()
    restarted = _follower(settings, store)  # a new process, the same directory
    papers: list[int] = []
    vectors: list[int] = []
    docs, since = store.search_docs, store.vectors.since
    store.search_docs = lambda ids: papers.extend(ids) or docs(ids)
    store.vectors.since = lambda *a, **k: (rows := since(*a, **k)) and vectors.extend(rows) or rows
    assert restarted.step() == 0
    assert papers == []  # the row at the watermark is listed, but held at its version
    assert vectors == []


def test_a_first_round_skips_papers_indexed_at_their_version(settings, store_no_index):
    """A follower with no last round to go by (the first start after an import) re-reads the
    window before the watermark, but not the papers the index recorded at the version the
    store has: only the one changed since is read."""
    store = store_no_index
    load(store)
    follower = _follower(settings, store)
    follower.step()
    follower.stop()
    follower.index.follow_state.set(LAST_READ, "")  # as after an import: no round kept
    store.import_records([record("2608.00012", "A Study of Quantum Walrus Tokenizers", D21, 10)])
    changed = store.paper_id("2608.00012")
    papers: list[int] = []
    docs = store.search_docs
    store.search_docs = lambda ids: papers.extend(ids) or docs(ids)
    restarted = _follower(settings, store)
    assert restarted.step() == 1
    assert papers == [changed]
    assert _found(restarted, "walrus") == [changed]


def test_one_follower_writes_an_index_directory(settings, store_no_index):
    first = _follower(settings, store_no_index)
    second = _follower(settings, store_no_index)
    first.embed = second.embed = True
    try:
        assert first._try_lead()
        assert first.embedder_job is not None  # the writer runs the embedding job ...
        assert not second._try_lead()  # another process of the host: it only reads
        assert second.embedder_job is None  # ... and the readers do not
    finally:
        first.stop()
    assert first.embedder_job is None
    assert second._try_lead()  # the writer exited: the next one takes over
    assert second.embedder_job is not None
    second.stop()


def test_a_long_round_saves_its_progress_where_it_ends(settings, store_no_index, monkeypatch):
    """The watermark and the vector marks are saved once a second at most during a round
    (every batch was a quarter of the first round's CPU after an import), and always where
    the round ended, a stopped one included."""
    from paperwire.search import follow, follow_state

    store = store_no_index
    load(store)
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    with store.engine.begin() as conn:  # one paper a second (an import's batches)
        for i, pid in enumerate(store.paper_ids()):
            at = start + timedelta(seconds=i)
            conn.execute(update(Paper).where(Paper.id == pid).values(modified_at=at))
    assert len(store.paper_ids()) > 5
    monkeypatch.setattr(follow, "BATCH", 2)
    monkeypatch.setattr(follow_state, "MARK_EVERY", 3600.0)
    follower = _follower(settings, store)
    state = follower.index.follow_state
    dense = follower.index.dense
    store.vectors.save(
        dense.model, [(pid, "h", np.ones(dense.dim, dtype=np.float32)) for pid in store.paper_ids()]
    )
    saved: list[str] = []
    set_watermark, set_value = state.set_watermark, state.set
    monkeypatch.setattr(state, "set_watermark", lambda w: saved.append("w") or set_watermark(w))
    monkeypatch.setattr(state, "set", lambda k, v: saved.append(k) or set_value(k, v))

    # stopped after its second batch of papers: the watermark is where it got to
    listed = store.changed_papers
    pages: list[list] = []

    def changed_papers(*a):
        rows = listed(*a)
        pages.append(rows)
        if len(pages) == 2:
            follower._stop_event.set()
        return rows

    monkeypatch.setattr(store, "changed_papers", changed_papers)
    follower.step()
    assert saved.count("w") == 1
    assert state.watermark() == max(m for rows in pages for _, m in rows)
    assert state.watermark() < max(m for _, m in listed(None, None, 10_000))

    # a whole round: one save of each mark, the watermark at the newest paper
    follower._stop_event.clear()
    saved.clear()
    follower.step()
    assert saved.count("w") == 1
    assert saved.count(f"vectors:{dense.model}") == 1
    assert state.watermark() == max(m for _, m in listed(None, None, 10_000))
    newest = max(store.vectors.since(dense.model, None, 10_000), key=lambda r: (r[2], r[0]))
    assert state.get(f"vectors:{dense.model}") == f"{newest[2].isoformat()}|{newest[0]}"
