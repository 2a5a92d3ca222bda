"""Commands for running paperwire on several nodes (docs/deploy.md): ``paperwire migrate``,
``paperwire runs`` and ``paperwire recount``."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=True)  # URLs and revision names stay on one line


def _revisions(engine) -> tuple[set[str], set[str]]:
    """(the database's revisions, this version's heads)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from paperwire.store.db import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def register(app: typer.Typer) -> None:
    from paperwire.core.cli import DbOption, load_settings, redact_url

    @app.command()
    def migrate(
        db: DbOption = None,
        check: Annotated[
            bool,
            typer.Option("--check", help="Only report; exit 1 when the schema is behind."),
        ] = False,
    ) -> None:
        """Bring the database schema up to this version (`serve` also does it at start)."""
        from paperwire.store.db import make_engine
        from paperwire.store.db import migrate as upgrade

        settings = load_settings(db)
        engine = make_engine(settings.resolved_database_url)
        try:
            current, heads = _revisions(engine)
            before = ", ".join(sorted(current)) or "empty"
            where = redact_url(settings.resolved_database_url)
            if current == heads:
                console.print(f"{where}: schema up to date ({before})")
                return
            if check:
                console.print(f"{where}: schema {before}, this version needs {', '.join(heads)}")
                raise typer.Exit(1)
            upgrade(engine)
            after, _ = _revisions(engine)
            console.print(f"{where}: schema {before} -> {', '.join(sorted(after))}")
        finally:
            engine.dispose()

    @app.command()
    def runs(
        db: DbOption = None,
        limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    ) -> None:
        """The scheduled runs (daily sync, digests): which node ran each, and how it went."""
        from paperwire.context import open_store
        from paperwire.store.scheduled_runs import ScheduleLog

        settings = load_settings(db)
        store = open_store(settings)
        try:
            rows = ScheduleLog(store.engine).runs(limit=limit)
        finally:
            store.close()
        if not rows:
            console.print("No scheduled run yet (`paperwire serve` runs the schedule).")
            return
        table = Table("job", "slot (UTC)", "status", "node", "finished", "detail")
        for r in rows:
            finished = r.finished_at.strftime("%Y-%m-%d %H:%M:%S") if r.finished_at else ""
            table.add_row(r.job, r.slot, r.status, r.node, finished, r.detail or "")
        console.print(table)

    @app.command()
    def recount(db: DbOption = None) -> None:
        """Count the totals kept beside the papers (the day pages' category counts) again
        from the papers themselves. Safe on a running site; one transaction."""
        from paperwire.context import open_store
        from paperwire.store.importer import recount_day_categories

        settings = load_settings(db)
        store = open_store(settings)
        try:
            rows = recount_day_categories(store.engine)
        finally:
            store.close()
        console.print(f"day_categories: {rows:,} (day, category) counts from the papers")
