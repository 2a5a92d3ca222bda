"""Several ``paperwire serve`` processes on one PostgreSQL database (docs/deploy.md).

Real subprocesses, a real PostgreSQL server, the HF replay server and a real SMTP server:
- scheduled work (the daily sync, the digests, the search index refresh of a host's index
  directory) runs once, however many nodes serve;
- a paper imported through node A is searchable on node B, which keeps its own index, within
  the bound that docs/deploy.md states.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import create_engine

from conftest import FIXTURES, HF_DIR, needs_shared
from paperwire.context import open_store
from paperwire.digest.repository import DigestRepository
from paperwire.settings import Settings
from paperwire.store.scheduled_runs import ScheduleLog
from replay_server import ReplayServer
from serve_process import ServeProcess, paperwire

pytestmark = pytest.mark.postgres

FOLLOW_BOUND = 10.0  # seconds: docs/deploy.md ("Search on several nodes"), interval <= 3 s here


def _node_env(pg_url: str, data_dir, secret: str, **extra: str) -> dict[str, str]:
    return {
        "PAPERWIRE_DATABASE_URL": pg_url,
        "PAPERWIRE_DATA_DIR": str(data_dir),
        "PAPERWIRE_SECRET_KEY": secret,
        "PAPERWIRE_SCHEDULE_DELAY": "0.3",
        "PAPERWIRE_INDEX_FOLLOW_INTERVAL": "1",
        "PAPERWIRE_HTTP_BACKOFF": "0.01",
        **extra,
    }


def _wait(what: str, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_nodes_run_each_scheduled_job_once(pg_url, smtp, tmp_path):
    needs_shared(HF_DIR)
    controller, inbox = smtp
    secret = "test-" + uuid.uuid4().hex
    store = open_store(Settings(database_url=pg_url, data_dir=tmp_path / "setup"))
    DigestRepository(store.engine).subscribe("reader@example.org", "daily", [], [], send_empty=True)
    store.close()

    with ReplayServer(FIXTURES, HF_DIR) as replay:
        env = _node_env(
            pg_url,
            tmp_path / "host",  # two processes of one host: one index directory
            secret,
            PAPERWIRE_HF_URL=replay.url,
            PAPERWIRE_SYNC_SOURCES="hf",
            PAPERWIRE_HF_REFRESH_DAYS="1",
            PAPERWIRE_SMTP_HOST="127.0.0.1",
            PAPERWIRE_SMTP_PORT=str(controller.port),
        )
        a = ServeProcess(env, tmp_path / "a.log").start()
        b = ServeProcess(env, tmp_path / "b.log").start()
        try:
            a.wait_ready()
            b.wait_ready()
            engine = create_engine(pg_url)
            try:
                _wait(
                    "the sync and the digest to finish",
                    lambda: (
                        {(r.job, r.status) for r in ScheduleLog(engine).runs()}
                        >= {("sync", "done"), ("digest", "done")}
                    ),
                )
                (mail,) = inbox.wait(1, timeout=30)
                time.sleep(2.5)  # both nodes' schedules have looked again meanwhile
                runs = ScheduleLog(engine).runs()
            finally:
                engine.dispose()
            logs = a.log() + b.log()
        finally:
            a.__exit__()
            b.__exit__()

        # Each job ran for its slot once, on one of the two nodes, and succeeded.
        assert sorted((r.job, r.status) for r in runs) == [("digest", "done"), ("sync", "done")]
        today = datetime.now(UTC).date().isoformat()
        assert {r.node.split(":")[1] for r in runs} <= {str(a.proc.pid), str(b.proc.pid)}
        # ... and did its work once: one fetch of today's HF list, one digest in the inbox.
        assert [q["date"] for q in replay.requests_to("/api/daily_papers")] == [today]
        assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["reader@example.org"]
        assert mail["Subject"]
    # Both nodes ran the schedule: one claimed each slot, the other found it taken or running.
    for job in ("sync", "digest"):
        assert len(re.findall(rf"{job} \S+: claimed by", logs)) == 1, logs
    # One process of the host writes the shared index directory; the other only reads it.
    assert len(re.findall(r"index follower: this process \(pid \d+\) writes", logs)) == 1, logs


def _snapshot_line(arxiv_id: str, title: str, abstract: str, day: str) -> str:
    created = datetime.fromisoformat(day).strftime("%a, %d %b %Y 00:00:00 GMT")
    return json.dumps(
        {
            "id": arxiv_id,
            "submitter": None,
            "authors": "Ada Lovelace, Alan Turing",
            "title": title,
            "comments": None,
            "journal-ref": None,
            "doi": None,
            "report-no": None,
            "categories": "cs.LG",
            "license": None,
            "abstract": abstract,
            "versions": [{"version": "v1", "created": created}],
            "update_date": day,
            "authors_parsed": [["Lovelace", "Ada", ""], ["Turing", "Alan", ""]],
        }
    )


def _search(node: ServeProcess, q: str) -> list[str]:
    params = {"q": q, "limit": 5, "mode": "lexical"}
    got = httpx.get(node.url + "/api/papers/search", params=params, timeout=10)
    assert got.status_code == 200, got.text
    return [item["paper"]["id"] for item in got.json()]


def test_a_paper_imported_on_node_a_is_found_on_node_b(pg_url, tmp_path):
    needs_shared(HF_DIR)
    secret = "test-" + uuid.uuid4().hex
    off = {"PAPERWIRE_SYNC_ENABLED": "false", "PAPERWIRE_DIGEST_ENABLED": "false"}
    env_a = _node_env(pg_url, tmp_path / "host-a", secret, **off)
    # B follows slower than its page cache notices database writes: a search it answers in
    # between is cached while B's index has not caught up yet, and must not outlive that.
    slow = {"PAPERWIRE_INDEX_FOLLOW_INTERVAL": "3", "PAPERWIRE_PAGE_CACHE_CHECK": "0.2"}
    env_b = {**_node_env(pg_url, tmp_path / "host-b", secret, **off), **slow}
    paperwire(env_a, "import", str(HF_DIR / "2026-08-20.json"))

    with ServeProcess(env_a, tmp_path / "a.log") as a, ServeProcess(env_b, tmp_path / "b.log") as b:
        # Node B started with an empty index directory: its follower catches up on its own.
        known = _search(a, "video")
        assert known, "node A indexed the import it made"
        _wait("node B to catch up", lambda: _search(b, "video") == known)

        new = tmp_path / "new.jsonl"
        new.write_text(
            _snapshot_line(
                "2611.99999",
                "Quokka: Cross-Node Freshness for Paper Search",
                "We study how quickly a quokka-shaped index follows its database.",
                "2026-11-23",
            )
            + "\n"
        )
        out = paperwire(env_a, "import", str(new))  # through node A (a CLI on host A)
        assert "rejected:" not in out, out
        started = time.monotonic()
        for _ in range(5):  # B has not caught up yet: answers its page cache may keep
            _search(b, "quokka")
            time.sleep(0.25)
        # A's index took it in as it was imported (its readers reload within a second).
        _wait("node A to find the new paper", lambda: _search(a, "quokka"), 3)
        _wait("node B to find the new paper", lambda: _search(b, "quokka"), FOLLOW_BOUND)
        waited = time.monotonic() - started
        assert _search(a, "quokka") == _search(b, "quokka") == ["2611.99999"]
        logs = b.log()
    assert waited < FOLLOW_BOUND
    assert "index follower: indexed" in logs


def test_node_b_searches_by_meaning_with_vectors_node_a_computed(pg_url, tmp_path):
    needs_shared(HF_DIR)
    secret = "test-" + uuid.uuid4().hex
    off = {"PAPERWIRE_SYNC_ENABLED": "false", "PAPERWIRE_DIGEST_ENABLED": "false"}
    env_a = _node_env(pg_url, tmp_path / "host-a", secret, **off)
    # node B never embeds a paper: no inline embedding, no background job
    env_b = _node_env(pg_url, tmp_path / "host-b", secret, PAPERWIRE_EMBED_ON_IMPORT="false",
                      **off)  # fmt: skip
    out = paperwire(env_a, "import", str(HF_DIR / "2026-08-20.json"))  # A computes them
    assert "rejected:" not in out, out
    n = len({i["paper"]["id"] for i in json.loads((HF_DIR / "2026-08-20.json").read_text())})

    with ServeProcess(env_b, tmp_path / "b.log") as b:

        def dense_hits():
            got = httpx.get(b.url + "/api/papers/search",
                            params={"q": "video generation", "mode": "dense", "limit": 5},
                            timeout=10)  # fmt: skip
            return got.status_code == 200 and [i["paper"]["id"] for i in got.json()]

        assert _wait("node B to search by meaning", dense_hits, FOLLOW_BOUND * 3)
        _wait("node B's pull to be logged", lambda: f"took in {n} stored vectors" in b.log())
        logs = b.log()
    status = paperwire(env_b, "index")
    assert f"dense (static): {n} of {n} papers embedded" in status, status
    assert f"took in {n} stored vectors" in logs
    assert "embedded" not in logs.replace("papers embedded", "")
