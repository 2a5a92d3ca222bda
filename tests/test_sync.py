"""The sync against the loopback replay server, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from conftest import FIXTURES, HF_DIR, ROOT, needs_shared
from paperwire.record import PaperRecord
from paperwire.sources import hf_daily
from paperwire.store.models import Listing, Paper
from paperwire.store.sync_state import SyncStore
from paperwire.sync import SyncOptions, run_sync, sync_status
from replay_server import ReplayServer

AUG1, AUG21 = date(2026, 8, 1), date(2026, 8, 21)


@pytest.fixture
def replay():
    needs_shared(FIXTURES / "arxiv-api")
    needs_shared(HF_DIR)
    with ReplayServer(FIXTURES, HF_DIR) as server:
        yield server


@pytest.fixture
def live(settings, replay):
    return settings.model_copy(
        update={
            "hf_url": replay.url,
            "arxiv_api_url": replay.url + "/api/query",
            "oai_url": replay.url + "/oai2",
            "arxiv_delay": 0.0,
            "http_backoff": 0.01,
        }
    )


def expected_hf(start: date, end: date) -> tuple[set[str], set[tuple[str, date]]]:
    ids, listings = set(), set()
    day = start
    while day <= end:
        path = HF_DIR / f"{day}.json"
        if path.exists():
            for rec in hf_daily.parse_items(json.loads(path.read_text()), day):
                assert isinstance(rec, PaperRecord)
                ids.add(rec.arxiv_id)
                listings.add((rec.arxiv_id, day))
        day += timedelta(1)
    return ids, listings


def db_contents(store) -> tuple[set[str], set[tuple[str, date]], int]:
    with Session(store.engine) as s:
        ids = set(s.scalars(select(Paper.arxiv_id)))
        rows = s.execute(select(Paper.arxiv_id, Listing.day).join(Listing)).all()
        n_listings = s.scalar(select(func.count()).select_from(Listing))
    return ids, {(a, d) for a, d in rows}, n_listings


# -- HF -------------------------------------------------------------------------------------------
def test_hf_sync_imports_exactly_the_files_and_rerun_is_a_no_op(store, live):
    (res,) = run_sync(store, live, ["hf"], SyncOptions(since=AUG1, until=AUG21))
    assert res.status == "ok", res.error
    want_ids, want_listings = expected_hf(AUG1, AUG21)
    ids, listings, n_listings = db_contents(store)
    assert ids == want_ids and listings == want_listings and n_listings == len(want_listings)
    assert res.summary.new == len(want_ids) and res.summary.rejected == 0
    state = SyncStore(store.engine)
    assert state.watermark("hf") == {"day": "2026-08-21"}

    (again,) = run_sync(store, live, ["hf"], SyncOptions(since=AUG1, until=AUG21))
    assert again.summary.new == 0 and again.summary.updated == 0
    assert again.status == "nothing_new" and "already in the database" in again.reason
    # Resuming from the watermark refreshes only the recent days (upvotes).
    (resumed,) = run_sync(store, live, ["hf"], SyncOptions(until=AUG21))
    assert resumed.batches == live.hf_refresh_days and resumed.summary.new == 0
    runs = state.runs("hf")
    assert [r.status for r in runs] == ["nothing_new", "nothing_new", "ok"]


def test_sync_progress_bar_and_lines(store, live):
    """#17: a Rich bar per source with rate and ETA in a terminal, a line per batch else."""
    from io import StringIO

    from rich.console import Console

    from paperwire.progress import SyncProgress

    screen = StringIO()
    term = Console(file=screen, force_terminal=True, width=160, color_system=None)
    with SyncProgress(term, live=True) as shown:
        (res,) = run_sync(store, live, ["hf"], SyncOptions(since=AUG1, until=AUG21), on_batch=shown)
    assert res.status == "ok"
    out = screen.getvalue()
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).replace("\r", "\n")
    last = [ln for ln in plain.splitlines() if ln.strip()][-1]
    assert "hf" in last and "21/21" in last and "days" in last and "ETA" in last
    assert f"{res.summary.new:,} new" in last
    log = StringIO()
    with SyncProgress(Console(file=log, width=200), live=False) as shown:
        (again,) = run_sync(
            store,
            live,
            ["hf"],
            SyncOptions(since=AUG1, until=date(2026, 8, 3), restart=True),
            on_batch=shown,
        )
    lines = log.getvalue().splitlines()
    assert [ln.split(":")[0] for ln in lines] == [
        "hf 2026-08-01 (1/3 days)",
        "hf 2026-08-02 (2/3 days)",
        "hf 2026-08-03 (3/3 days)",
    ]
    assert all("0 new" in ln and "rejected" in ln for ln in lines)


def test_hf_truncated_day_keeps_what_was_committed(store, live, replay):
    # Truncate the answer for 2026-08-04, after 08-01 to 08-03 were committed.
    original = replay._hf

    def hf(params):
        body = original(params)
        if params.get("date") == "2026-08-04":
            return body[:300]
        return body

    replay._hf = hf
    (res,) = run_sync(store, live, ["hf"], SyncOptions(since=AUG1, until=AUG21))
    assert res.status == "error" and "malformed or truncated JSON" in res.error
    ids, _, _ = db_contents(store)
    assert ids == expected_hf(AUG1, date(2026, 8, 3))[0]
    assert SyncStore(store.engine).watermark("hf") == {"day": "2026-08-03"}
    replay._hf = original
    (res,) = run_sync(store, live, ["hf"], SyncOptions(since=AUG1, until=AUG21))
    assert res.status == "ok"
    assert db_contents(store)[0] == expected_hf(AUG1, AUG21)[0]


# -- arXiv API ------------------------------------------------------------------------------------
def _testing_pages(replay):
    """Answer the sync's category query with the recorded `testing` paging series."""
    pages = {}
    for key, answer in replay.arxiv.items():
        q = dict(key)
        if q["search_query"] == "testing" and q["max_results"] == "10":
            pages[q["start"]] = answer
    empty = next(v for k, v in replay.arxiv.items() if ("id_list", "0000.0000") in k)

    def fallback(params):
        if not params["search_query"].startswith("(cat:"):
            return None
        return pages.get(params["start"], empty)

    return fallback


def test_arxiv_sync_pages_with_offsets_and_watermark(store, live, replay):
    replay.arxiv_fallback = _testing_pages(replay)
    opts = SyncOptions(since=AUG1, until=AUG21, categories=["cs.CL", "cs.LG"], arxiv_page_size=10)
    (res,) = run_sync(store, live, ["arxiv"], opts)
    assert res.status == "ok", res.error
    assert res.summary.new == 60 and res.batches == 7  # six pages, then the closing mark
    query = replay.requests_to("/api/query")[0]
    assert query["search_query"] == (
        "(cat:cs.CL OR cat:cs.LG) AND submittedDate:[202608010000 TO 202608212359]"
    )
    assert query["sortBy"] == "submittedDate" and query["sortOrder"] == "ascending"
    assert [q["start"] for q in replay.requests_to("/api/query")] == [
        "0", "10", "20", "30", "40", "50", "60",
    ]  # fmt: skip
    wm = SyncStore(store.engine).watermark("arxiv")
    assert wm["done_until"] == "2026-08-21" and wm["categories"] == ["cs.CL", "cs.LG"]
    assert store.counts().papers == 60


def test_arxiv_sync_resumes_from_the_offset(store, live, replay):
    replay.arxiv_fallback = _testing_pages(replay)
    state = SyncStore(store.engine)
    state.save_watermark(
        "arxiv",
        {"categories": ["cs.CL"], "window": ["2026-08-01", "2026-08-21"], "start": 30},
    )
    opts = SyncOptions(categories=["cs.CL"], arxiv_page_size=10)
    (res,) = run_sync(store, live, ["arxiv"], opts)
    assert res.status == "ok" and res.summary.new == 30
    assert replay.requests_to("/api/query")[0]["start"] == "30"


def test_arxiv_nothing_new_on_a_weekend_says_why(store, live, replay):
    empty = next(v for k, v in replay.arxiv.items() if ("id_list", "0000.0000") in k)
    replay.arxiv_fallback = lambda params: empty
    opts = SyncOptions(since=date(2026, 8, 22), until=date(2026, 8, 23), categories=["cs.CL"])
    (res,) = run_sync(store, live, ["arxiv"], opts)
    assert res.status == "nothing_new"
    assert "weekends bring nothing new" in res.reason
    (st,) = [s for s in sync_status(store, live) if s.source == "arxiv"]
    assert st.last_run.reason == res.reason


def test_arxiv_sync_needs_categories(store, live):
    (res,) = run_sync(store, live, ["arxiv"], SyncOptions())
    assert res.status == "error" and "--categories" in res.error


# -- OAI-PMH --------------------------------------------------------------------------------------
def test_oai_sync_resumes_with_the_token_after_a_truncated_page(store, live, replay):
    replay.oai_page_size = 1
    original = replay._oai
    calls = []

    def oai(params):
        calls.append(params)
        status, body = original(params)
        return (status, body[:400]) if len(calls) == 2 else (status, body)

    replay._oai = oai
    opts = SyncOptions(categories=["hep-th"])
    (res,) = run_sync(store, live, ["oai"], opts)
    assert res.status == "error" and "truncated" in res.error
    assert store.counts().papers == 1  # the first page, committed with its token
    wm = SyncStore(store.engine).watermark("oai:hep-th")
    assert wm["set"] == "physics:hep-th" and wm["token"]
    (res,) = run_sync(store, live, ["oai"], opts)
    assert res.status == "ok", res.error
    assert "resumptionToken" in calls[2]  # resumed mid-list, not from the start
    assert store.counts().papers == 3 and res.summary.new == 2
    wm = SyncStore(store.engine).watermark("oai:hep-th")
    assert wm == {"done_until": "2017-12-14"}


def test_oai_harvest_of_every_fixture_record(store, live, replay):
    (res,) = run_sync(store, live, ["oai"], SyncOptions(categories=["physics:hep-ex", "hep-th"]))
    assert res.status == "ok" and res.summary.new == 6
    with Session(store.engine) as s:
        paper = s.scalar(select(Paper).where(Paper.arxiv_id == "1507.07790"))
    assert paper.authors == ["Luis B. Castro", "Edilberto O. Silva"]
    assert paper.categories == ["hep-th", "math-ph", "math.MP", "quant-ph"]
    assert paper.published_at.date() == date(2015, 7, 28)
    assert paper.updated_at.date() == date(2016, 3, 4)
    assert paper.journal_ref == "J. Phys. A: Math. Theor. 51 (2018) 035201"


def test_oai_category_filter_inside_a_set(store, live, replay):
    (res,) = run_sync(store, live, ["oai"], SyncOptions(categories=["hep-th.XX"]))
    # "hep-th.XX" harvests set physics:hep-th and keeps papers of category hep-th.XX: none.
    assert res.status == "nothing_new" and store.counts().papers == 0


# -- the lock -------------------------------------------------------------------------------------
def test_two_syncs_never_run_the_same_source(store, live):
    state = SyncStore(store.engine)
    lease = state.acquire("hf")
    assert lease is not None
    assert state.acquire("hf") is None
    (res,) = run_sync(store, live, ["hf"], SyncOptions(since=AUG1, until=AUG1))
    assert res.status == "locked" and "another sync of hf is running" in res.error
    assert state.acquire("arxiv") is not None  # other sources are free
    lease.release()
    (res,) = run_sync(store, live, ["hf"], SyncOptions(since=AUG1, until=AUG1))
    assert res.status == "nothing_new"


def test_a_dead_holder_or_expired_lease_is_taken_over(store):
    state = SyncStore(store.engine)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    lease = state.acquire("hf")
    run_id = state.start_run("hf", {})
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE sync_locks SET pid = :pid WHERE source = 'hf'"),
            {"pid": int(dead.stdout)},
        )
    taken = state.acquire("hf")
    assert taken is not None and taken.owner != lease.owner
    assert state.run(run_id).status == "interrupted"
    short = state.acquire("oai", ttl=-1)  # already expired
    assert short is not None and state.acquire("oai") is not None


# -- status ---------------------------------------------------------------------------------------
def test_status_cli_and_page(store, live, replay, monkeypatch):
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from paperwire.cli import app
    from paperwire.web.app import create_app

    run_sync(store, live, ["hf"], SyncOptions(since=date(2026, 8, 3), until=date(2026, 8, 3)))
    out = CliRunner().invoke(
        app, ["sync", "--status", "--db", live.resolved_database_url], env={"COLUMNS": "200"}
    )
    assert out.exit_code == 0, out.output
    assert "hf" in out.output and "day=2026-08-03" in out.output and "ok" in out.output

    client = TestClient(create_app(live, store))
    page = client.get("/sync")
    assert page.status_code == 200 and 'id="sync-hf"' in page.text
    assert "2026-08-03" in page.text
    data = client.get("/api/sync").json()
    hf = next(d for d in data if d["source"] == "hf")
    assert hf["last_run"]["status"] == "ok"
    assert hf["last_run"]["new"] == len(expected_hf(date(2026, 8, 3), date(2026, 8, 3))[0])
    assert hf["next_run"] is not None


# -- kill -9 --------------------------------------------------------------------------------------
def _cli_env(live, replay) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PAPERWIRE_DATABASE_URL=live.resolved_database_url,
        PAPERWIRE_DATA_DIR=str(live.data_dir),
        PAPERWIRE_HF_URL=replay.url,
        PAPERWIRE_HTTP_BACKOFF="0.01",
        PAPERWIRE_SECRET_KEY="test",
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


@pytest.mark.slow  # kills a sync process and runs it again (not in the fast tier)
def test_kill_9_mid_sync_then_rerun_completes_exactly(store, live, replay, tmp_path):
    # Slow every day after 2026-08-03, so the first committed batch with papers is 08-03.
    replay.delay = lambda path, q: 60.0 if q.get("date", "") > "2026-08-03" else 0.0
    cmd = [sys.executable, "-m", "paperwire.cli", "sync", "--source", "hf", "--since", "2026-08-01"]
    env = _cli_env(live, replay)
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip
    state = SyncStore(store.engine)
    deadline = time.monotonic() + 60
    try:
        while True:
            wm = state.watermark("hf") if _has_tables(store) else None
            if wm and wm.get("day") == "2026-08-03":
                break
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "the sync never committed its first batch"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    first_day = expected_hf(AUG1, date(2026, 8, 3))[0]
    assert db_contents(store)[0] == first_day
    assert state.runs("hf")[0].status == "running"  # killed: nobody closed its run

    replay.release_delays()
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    want_ids, want_listings = expected_hf(AUG1, AUG21)
    ids, listings, n_listings = db_contents(store)
    assert ids == want_ids and listings == want_listings and n_listings == len(want_listings)
    runs = state.runs("hf")
    assert [r.status for r in runs[:2]] == ["ok", "interrupted"]
    assert runs[0].new == len(want_ids) - len(first_day)
    assert state.watermark("hf") == {"day": datetime.now(UTC).date().isoformat()}

    again = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert state.runs("hf")[0].new == 0
    assert db_contents(store)[0] == want_ids


def _has_tables(store) -> bool:
    try:
        SyncStore(store.engine).watermark("hf")
    except Exception:
        return False
    return True


def test_synced_papers_reach_the_search_index_in_the_same_run(store, live, replay):
    from paperwire.search import hybrid
    from paperwire.search.indexer import open_index

    replay.arxiv_fallback = _testing_pages(replay)
    opts = SyncOptions(since=AUG1, until=AUG21, categories=["cs.SE"], arxiv_page_size=10)
    (res,) = run_sync(store, live, ["arxiv"], opts)
    assert res.status == "ok"
    searcher = hybrid.HybridSearcher(open_index(live), store)
    found = [p.arxiv_id for p in searcher.search("metamorphic", mode="lexical", limit=50).items]
    assert "2202.12139" in found


def test_a_registered_source_class_runs_through_the_same_runner(store, settings):
    """Sources are classes behind one interface, registered by name: a new one needs no
    change to the runner, which takes the source object (and names, for the CLI)."""
    from contextlib import nullcontext

    from paperwire.sync import runner
    from paperwire.sync.sources import REGISTRY, Batch, Opened, SyncSource, get_source, register

    def rec(n: int) -> PaperRecord:
        return PaperRecord(f"2608.9900{n}", f"A paper from a new source {n}", "text", "arxiv")

    class Memory(SyncSource):
        name = "memory-test"

        def open(self, settings, state, opts):
            mark = state.watermark(self.name) or {}
            done = mark.get("done", 0)
            pages = [[rec(1), rec(2)], [rec(3)]][done:]
            batches = (
                Batch(page, {"done": done + i + 1}, self.name, f"page {done + i}")
                for i, page in enumerate(pages)
            )
            return Opened(nullcontext(), batches, "the memory source")

    assert {"hf", "arxiv", "oai"} <= set(REGISTRY) and runner.SOURCES == ("hf", "arxiv", "oai")
    register(Memory)
    try:
        (first,) = run_sync(store, settings, [get_source("memory-test")])
        assert (first.source, first.status, first.summary.new, first.batches) == (
            "memory-test", "ok", 3, 2,
        )  # fmt: skip
        (again,) = run_sync(store, settings, ["memory-test"])  # resumes from its watermark
        assert again.status == "nothing_new" and again.fetched == 0
        assert again.reason == "the memory source had no papers in the requested range"
        with pytest.raises(ValueError, match="unknown source 'nope'"):
            run_sync(store, settings, ["nope"])
    finally:
        REGISTRY.pop("memory-test", None)
