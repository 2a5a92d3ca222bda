"""Engines, sessions and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from paperwire.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision.  Every process opens the store through `migrate`; when the
# database is already there, it answers from this without importing Alembic and reading the
# migration scripts (a tenth of a CLI command's start).  tests/test_migrations.py holds it to
# the scripts' head, so a new migration that forgets it fails there.
HEAD = "0015_day_categories"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns (authors, categories, keywords on every paper row) through orjson: parsing
# them was a visible share of rendering a listing, and writing them of an import
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30}, **JSON_CODEC)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(parsed, pool_pre_ping=True, **JSON_CODEC)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATE_LOCK = 0x70617065  # "pape": the advisory lock key that serializes migrations


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (idempotent).  Several nodes may start at once:
    on PostgreSQL a transaction-level advisory lock lets one migrate while the others wait
    (and then find nothing to do).  On SQLite (one host) ``paperwire serve`` migrates once,
    before its workers start."""
    if revision == "heads" and at_head(engine):
        return
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_LOCK})
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def at_head(engine: Engine) -> bool:
    """Whether the database is at :data:`HEAD` already (False when it has no schema yet)."""
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return set(versions) == {HEAD}
    except DBAPIError:  # no alembic_version table: a new database
        return False


def open_store(settings: Settings, *, migrate_schema: bool = True):
    """Open the configured database, migrated to the latest schema, as a query-layer Store.

    The store alone: ``paperwire.context.open_store`` (the composition root) also attaches
    the search indexer to its imports, and is what processes use."""
    from paperwire.store.queries import Store

    engine = make_engine(settings.resolved_database_url)
    if migrate_schema:
        migrate(engine)
    return Store(engine)
