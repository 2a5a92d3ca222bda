"""Migrations on SQLite and PostgreSQL: from empty, step by step with data in place, down and
up again, and the migrated schema matches the ORM models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import paperwire.store  # noqa: F401  (registers every table on Base.metadata)
from paperwire.store.db import HEAD, alembic_config, at_head, make_engine, migrate
from paperwire.store.models import Base


def _in_order(engine) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _upgrade(engine, revision: str) -> None:
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_upgrade_step_by_step_keeps_the_papers(db_url):
    engine = make_engine(db_url)
    try:
        revisions = _in_order(engine)
        assert revisions[0].startswith("0001")
        _upgrade(engine, revisions[0])
        with engine.begin() as conn:  # a database made by the first release, with a paper
            conn.execute(
                text(
                    "INSERT INTO papers (arxiv_id, title, abstract, authors, categories, "
                    "keywords, hf_upvotes, hf_num_comments, metadata_origin, in_arxiv, in_hf, "
                    "created_at, modified_at) VALUES ('2401.00001', 'Old Paper', 'kept', "
                    "'[]', '[]', '[]', 3, 0, 'arxiv', true, false, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        for rev in revisions[1:]:  # every release's upgrade, one at a time
            _upgrade(engine, rev)
        migrate(engine)  # idempotent at the head
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title, hf_upvotes FROM papers")).all() == [
                ("Old Paper", 3)
            ]
            heads = MigrationContext.configure(conn).get_current_heads()
        assert list(heads) == [revisions[-1]]
        names = set(inspect(engine).get_table_names())
        assert {"scheduled_runs", "sync_runs", "digest_subscriptions", "users"} <= names
        assert "ix_papers_modified" in {i["name"] for i in inspect(engine).get_indexes("papers")}
    finally:
        engine.dispose()


def test_downgrade_to_the_first_release_and_up_again(db_url):
    engine = make_engine(db_url)
    try:
        revisions = _in_order(engine)
        migrate(engine)
        with engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revisions[0])
        assert "scheduled_runs" not in inspect(engine).get_table_names()
        assert not at_head(engine)
        migrate(engine)
        assert "scheduled_runs" in inspect(engine).get_table_names()
        assert at_head(engine)
    finally:
        engine.dispose()


def test_head_names_the_newest_migration(db_url):
    """``migrate`` skips Alembic when the database is at ``HEAD``: a new migration must move
    it, or databases would stay behind without a word."""
    engine = make_engine(db_url)
    try:
        heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
        assert heads == [HEAD]
        assert not at_head(engine)  # a new database has no schema
        migrate(engine)
        assert at_head(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(db_url):
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], "models and migrations disagree:\n" + "\n".join(map(str, diff))


def test_day_categories_migration_counts_the_papers_already_stored(db_url):
    engine = make_engine(db_url)
    try:
        revisions = _in_order(engine)
        _upgrade(engine, revisions[revisions.index("0015_day_categories") - 1])
        with engine.begin() as conn:
            for i, (day, cats, arxiv) in enumerate(
                [
                    ("2025-01-06", ["cs.LG", "stat.ML"], True),
                    ("2025-01-06", ["cs.LG"], True),
                    ("2025-01-07", ["cs.CV"], True),
                    ("2025-01-07", ["cs.CV"], False),  # not on arXiv: not counted
                    (None, ["cs.CV"], True),  # no day: not counted
                ]
            ):
                pid = conn.execute(
                    text(
                        "INSERT INTO papers (arxiv_id, title, abstract, authors, categories, "
                        "keywords, hf_upvotes, hf_num_comments, metadata_origin, in_arxiv, "
                        "in_hf, created_at, modified_at, published_on) VALUES (:a, 't', 'a', "
                        "'[]', '[]', '[]', 0, 0, 'arxiv', :arxiv, false, CURRENT_TIMESTAMP, "
                        "CURRENT_TIMESTAMP, :day) RETURNING id"
                    ),
                    {"a": f"2501.0000{i}", "arxiv": arxiv, "day": day},
                ).scalar_one()
                for c in cats:
                    conn.execute(
                        text("INSERT INTO paper_categories (paper_id, category) VALUES (:p, :c)"),
                        {"p": pid, "c": c},
                    )
        migrate(engine)
        with engine.connect() as conn:
            got = conn.execute(text("SELECT day, category, papers FROM day_categories")).all()
        assert sorted((str(d), c, n) for d, c, n in got) == [
            ("2025-01-06", "cs.LG", 2),
            ("2025-01-06", "stat.ML", 1),
            ("2025-01-07", "cs.CV", 1),
        ]
    finally:
        engine.dispose()
