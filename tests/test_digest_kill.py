"""The sender killed mid-run (a real subprocess, SIGKILL), then run again: every subscriber
has exactly one digest (one Message-ID), and the delivery log says sent for each."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict

from conftest import ROOT, free_port
from digest_data import Inbox, load, smtp_server
from paperwire.context import open_store
from paperwire.digest.repository import DigestRepository

N = 30


def _env(settings, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PAPERWIRE_DATABASE_URL=settings.resolved_database_url,
        PAPERWIRE_DATA_DIR=str(settings.data_dir),
        PAPERWIRE_SECRET_KEY=settings.resolved_secret_key(),
        PAPERWIRE_SMTP_HOST="127.0.0.1",
        PAPERWIRE_SMTP_PORT=str(port),
        PAPERWIRE_DIGEST_RATE="25",  # 40 ms per message: slow enough to be killed midway
        PAPERWIRE_DIGEST_TOPIC_SEARCH="keyword",
        PAPERWIRE_SEARCH_INDEX_ON_IMPORT="false",
        PAPERWIRE_CONFIG=os.devnull,
    )
    return env


def test_sender_killed_mid_run_then_rerun_sends_each_digest_once(settings):
    inbox = Inbox()
    controller = smtp_server(free_port(), inbox)
    controller.start()
    store = open_store(settings.model_copy(update={"search_index_on_import": False}))
    try:
        load(store)
        DigestRepository(store.engine).import_subscriptions(
            {"email": f"reader{i}@example.org", "topics": ["skill learning"]} for i in range(N)
        )
        cmd = [sys.executable, "-m", "paperwire.cli", "digest", "send"]
        cmd += ["--as-of", "2026-08-22T08:00"]
        env = _env(settings, controller.port)
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while len(inbox.messages) < 8 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        proc.kill()
        proc.wait(10)
        killed_at = len(inbox.messages)
        assert 8 <= killed_at < N, f"killed after {killed_at} messages: {proc.stdout.read()}"
        states = [s for _, _, s in DigestRepository(store.engine).deliveries()]
        assert "claimed" in states  # it died holding claims

        rerun = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr

        ids = defaultdict(set)
        for msg in inbox.parsed():
            ids[msg["To"]].add(msg["Message-ID"])
        assert len(ids) == N
        assert all(len(v) == 1 for v in ids.values()), ids  # one digest each
        # A crash between the server's "250 OK" and the commit may repeat one message, with
        # the same Message-ID (docs/digest.md); never more than one.
        assert len(inbox.messages) <= N + 1
        assert [s for _, _, s in DigestRepository(store.engine).deliveries()] == ["sent"] * N
    finally:
        store.close()
        controller.stop()
