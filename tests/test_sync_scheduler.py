"""The daily sync inside `paperwire serve`: when it runs, and that it runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, HF_DIR, needs_shared
from paperwire.cli import app
from paperwire.context import open_store
from paperwire.store.sync_state import SyncStore
from paperwire.sync import scheduler
from replay_server import ReplayServer


def test_next_run_is_the_next_daily_time(sqlite_settings):
    s = sqlite_settings.model_copy(update={"sync_time": "06:30"})
    before = datetime(2026, 8, 21, 5, 0, tzinfo=UTC)
    after = datetime(2026, 8, 21, 7, 0, tzinfo=UTC)
    assert scheduler.next_run(s, before) == datetime(2026, 8, 21, 6, 30, tzinfo=UTC)
    assert scheduler.next_run(s, after) == datetime(2026, 8, 22, 6, 30, tzinfo=UTC)
    off = s.model_copy(update={"sync_enabled": False})
    assert scheduler.next_run(off, before) is None
    assert scheduler.start(off) is None


def test_bad_sync_time_fails_at_start(sqlite_settings):
    with pytest.raises(ValueError, match="HH:MM"):
        scheduler.start(sqlite_settings.model_copy(update={"sync_time": "half past six"}))


def test_scheduler_catches_up_then_waits(settings):
    needs_shared(HF_DIR)
    with ReplayServer(FIXTURES, HF_DIR) as replay:
        settings = settings.model_copy(
            update={
                "hf_url": replay.url,
                "sync_sources": "hf,arxiv",  # arxiv is skipped: no categories chosen
                "hf_refresh_days": 1,
                "http_backoff": 0.01,
                "schedule_delay": 0.0,
            }
        )
        thread = scheduler.start(settings)
        assert thread is not None
        deadline = time.monotonic() + 30
        while thread.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        thread.stop()
        assert not thread.is_alive()
        assert [q["date"] for q in replay.requests_to("/api/daily_papers")] == [
            datetime.now(UTC).date().isoformat()
        ]
    store = open_store(settings)
    try:
        runs = SyncStore(store.engine).runs()
    finally:
        store.close()
    assert [(r.source, r.status) for r in runs] == [("hf", "nothing_new")]


def test_cli_sync_rejects_bad_input(settings):
    runner = CliRunner()
    db = settings.resolved_database_url
    out = runner.invoke(app, ["sync", "--db", db, "--source", "nope"])
    assert out.exit_code == 2 and "unknown source" in out.output
    out = runner.invoke(app, ["sync", "--db", db, "--source", "hf", "--since", "August"])
    assert out.exit_code == 2 and "--since must be a date" in out.output
    out = runner.invoke(app, ["serve", "--help"])
    assert "--no-sync" in out.output
