"""The ``paperwire`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from paperwire.settings import Settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="paperwire: a self-hosted Daily Papers."
)
console = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLAlchemy URL or a SQLite file path "
        "(default: PAPERWIRE_DATABASE_URL, else a file in the user data dir).",
    ),
]


def load_settings(db: str | None = None) -> Settings:
    settings = Settings()
    if db:
        url = db if "://" in db else f"sqlite:///{Path(db).expanduser().resolve()}"
        settings = settings.model_copy(update={"database_url": url})
    return settings


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to import.")],
    db: DbOption = None,
    strict: Annotated[
        bool, typer.Option(help="Abort on the first bad record; change nothing.")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Records per transaction.")] = 2000,
) -> None:
    """Import HF daily-papers responses and arXiv snapshot JSONL (plain or .gz)."""
    from paperwire.sources.files import expand_paths, read_file
    from paperwire.store import open_store
    from paperwire.store.importer import ImportSummary, StrictImportError

    settings = load_settings(db)
    try:
        files = expand_paths(paths)
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if not files:
        err.print("[red]error:[/] no importable files (.json, .jsonl, .json.gz, .jsonl.gz) found")
        raise typer.Exit(2)
    store = open_store(settings)
    from paperwire.progress import progress

    def items():
        for path in files:
            yield from read_file(path)

    summary = ImportSummary()
    try:
        with progress("importing papers") as bar:
            summary = store.importer(batch_size).run(
                items(), strict=strict, on_progress=bar.advance
            )
    except StrictImportError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    for line in summary.errors[:50]:
        err.print(f"[yellow]rejected:[/] {line}", highlight=False, markup=False)
    if len(summary.errors) > 50:
        err.print(f"... and {len(summary.errors) - 50} more rejected records")
    table = Table(
        title=f"Imported {len(files)} file(s) into {_redact(settings.resolved_database_url)}"
    )
    for col in ("new", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{summary.new:,}",
        f"{summary.updated:,}",
        f"{summary.unchanged:,}",
        f"{summary.rejected:,}",
    )
    console.print(table)
    if summary.new or summary.updated:  # the lexical index is already up to date
        from paperwire.search.cli import embed_pending
        from paperwire.search.indexer import open_index

        store = open_store(settings)
        try:
            embed_pending(settings, store, open_index(settings))
        finally:
            store.close()
    if summary.new == 0 and summary.updated == 0 and summary.rejected == 0:
        console.print("Nothing changed: everything was already imported.")


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the pages, the JSON API and the feeds."""
    import os

    import uvicorn

    from paperwire.store import open_store

    settings = load_settings(db)
    store = open_store(settings)  # migrate once, before workers start
    counts = store.counts()
    store.close()
    if counts.papers == 0:
        err.print(
            "[yellow]The database is empty.[/] Import papers first, e.g.\n"
            "  paperwire import ../shared/data/hf-daily-papers\n"
            "or pull today's papers with `paperwire sync` (when available). "
            "Serving an empty site meanwhile."
        )
    else:
        err.print(
            f"{counts.papers:,} papers, {counts.listings:,} daily listings "
            f"({counts.first_day} to {counts.last_day})."
        )
    os.environ["PAPERWIRE_DATABASE_URL"] = settings.resolved_database_url
    err.print(f"paperwire on http://{host}:{port}/")
    uvicorn.run(
        "paperwire.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )


@app.command()
def stats(db: DbOption = None) -> None:
    """Show what the database holds."""
    from paperwire.store import open_store

    settings = load_settings(db)
    store = open_store(settings)
    c = store.counts()
    store.close()
    console.print(f"database: {_redact(settings.resolved_database_url)}")
    console.print(
        f"papers: {c.papers:,}\ndaily listings: {c.listings:,}\n"
        f"organizations: {c.organizations:,}\ndays: {c.first_day} to {c.last_day}"
    )


from paperwire.search.cli import register as _register_search  # noqa: E402

_register_search(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
