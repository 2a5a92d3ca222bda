"""Shared fixtures: real SQLite and real PostgreSQL databases, the shared data, a live server.

PostgreSQL tests run when ``PAPERWIRE_TEST_PG_URL`` names a server (CI sets it, see .ci/run);
each test gets a fresh database there.  Without it they skip, saying why.

A test that asks for ``settings`` (or ``store``) gets a database already at the latest
schema: a copy of one migrated once per test process (a file copy for SQLite, ``CREATE
DATABASE ... TEMPLATE`` for PostgreSQL), with an identity of its own.  ``db_url`` is an
empty database, for the tests of the migrations themselves.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from paperwire.context import open_store
from paperwire.settings import Settings
from paperwire.store import Store
from paperwire.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERWIRE_SHARED", ROOT.parent / "shared")).resolve()
HF_DIR = SHARED / "data" / "hf-daily-papers"
SNAPSHOT_173K = SHARED / "data" / "arxiv-snapshot" / "arxiv-metadata-173k.jsonl.gz"
KAGGLE_SAMPLE = SHARED / "data" / "arxiv-snapshot" / "kaggle-format-sample-200.jsonl"
FIXTURES = SHARED / "fixtures"
PG_URL = os.environ.get("PAPERWIRE_TEST_PG_URL")
# Servers under test make static vectors only: the contextual background job would use the
# cores for minutes and change rankings mid-test.  tests/test_search_contextual.py runs it.
os.environ.setdefault("PAPERWIRE_EMBED_CONTEXTUAL", "false")


# The inner loop's fast tier (README): ``pytest -m "not slow"`` leaves out the modules that
# drive real Chromium, nginx or systemd, start server processes, load the contextual model
# or kill imports, and the tests marked slow in other modules; CI runs everything.
SLOW_MODULES = {
    "test_browser", "test_deploy", "test_nodes", "test_scale_import", "test_search_contextual",
    "test_digest_kill", "test_hostile", "test_community_votes", "test_sources_live",
    "test_openapi",  # schemathesis fuzzes every operation: 30 s a variant
}  # fmt: skip


def pytest_collection_modifyitems(items) -> None:
    slow = [
        item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES
        or item.get_closest_marker("slow") is not None  # a long test in a fast module
        for item in items
    ]
    for item, is_slow in zip(items, slow, strict=True):
        if is_slow:
            item.add_marker(pytest.mark.slow)
    # the long tests first (stable otherwise), so that with -n 3 none of them is left running
    # alone at the end while the other workers have nothing more to take
    order = sorted(range(len(items)), key=lambda i: not slow[i])
    items[:] = [items[i] for i in order]


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch) -> None:
    """Every test (and every CLI or server it starts) gets its own data directory, so no two
    tests share a search index or a secret through the user's default one."""
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "default-data"))


def needs_shared(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared data missing: {path} (tests read it from ../shared beside the repo)")


@pytest.fixture
def shared_hf_dir() -> Path:
    needs_shared(HF_DIR)
    return HF_DIR


@pytest.fixture
def kaggle_sample() -> Path:
    needs_shared(KAGGLE_SAMPLE)
    return KAGGLE_SAMPLE


def _pg_admin_url() -> str:
    url = make_url(PG_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@contextmanager
def fresh_pg_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database, empty or a copy of ``template``; dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PAPERWIRE_TEST_PG_URL (as .ci/run does)")
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request, tmp_path_factory) -> Iterator[str]:
    """For a module's shared read-only store: its tests run on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'paperwire.db'}"
        return
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """Each test using this runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'paperwire.db'}"
    return request.getfixturevalue("pg_url")


def _new_identity(url: str) -> None:
    """A copied database gets an identity of its own (migration 0009 made the template's):
    an index directory must still be able to tell two test databases apart."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE store_meta SET value = :v WHERE key = 'identity'"), {"v": uuid.uuid4().hex}
        )
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "paperwire.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    with sqlite3.connect(path) as db:  # everything in the main file before it is copied
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    with fresh_pg_database() as url:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()  # a template must have no open connection while it is copied
        yield make_url(url).database


@pytest.fixture
def _pg_migrated_url(_pg_template) -> Iterator[str]:
    with fresh_pg_database(template=_pg_template) as url:
        _new_identity(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_db_url(request, tmp_path) -> str:
    """Each test using this runs twice, on SQLite and on PostgreSQL, each a fresh database
    at the latest schema (copied from a template migrated once per test process)."""
    if request.param == "sqlite":
        path = tmp_path / "paperwire.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
        _new_identity(url)
        return url
    return request.getfixturevalue("_pg_migrated_url")


@pytest.fixture
def settings(migrated_db_url, tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=migrated_db_url,
        secret_key="test-" + uuid.uuid4().hex,
    )


@pytest.fixture
def store(settings) -> Iterator[Store]:
    s = open_store(settings)
    yield s
    s.close()


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'pw.db'}",
        secret_key="test-" + uuid.uuid4().hex,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The real app under uvicorn on a loopback port, in a thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A long keep-alive: tests hold many idle client connections (e.g. 100 signed-in voters)
        # and must not race the server closing them (uvicorn's default is 5 s).
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", timeout_keep_alive=300
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def pytest_sessionstart(session):
    if os.environ.get("CI") and not PG_URL:
        raise pytest.UsageError("CI must run the PostgreSQL tests: set PAPERWIRE_TEST_PG_URL")
    if not hasattr(session.config, "workerinput"):  # once, in the controlling process
        # The suite starts about 150 paperwire processes (CLI runs, servers, their workers).
        # Where PYTHONDONTWRITEBYTECODE is set (as on these development and CI machines) none
        # of them leaves its compiled modules behind, so each compiled the package again,
        # about 0.1 s of CPU apiece; compiled once here (into the gitignored __pycache__),
        # they load it.
        import compileall

        compileall.compile_dir(ROOT / "src" / "paperwire", quiet=1)


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a loopback port, and the inbox it fills."""
    from digest_data import Inbox, smtp_server

    inbox = Inbox()
    controller = smtp_server(free_port(), inbox)
    controller.start()
    yield controller, inbox
    controller.stop()
