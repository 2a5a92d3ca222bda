"""The ``paperwire`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from paperwire.core.cli import DbOption, load_settings, redact_url
from paperwire.settings import Settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="paperwire: a self-hosted Daily Papers."
)
console = Console()
# Errors are never wrapped: "file:line: reason" must stay on one line for grep and editors.
err = Console(stderr=True, soft_wrap=True)


IMPORT_REJECTED = 3  # exit status of an import that rejected records (1: --strict, 2: usage)


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
    from paperwire.context import open_store
    from paperwire.sources.files import expand_paths, read_files, read_files_in_worker
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

    # a big import parses in a child process and embeds in workers while this one writes;
    # a small one does it all here (starting processes costs seconds)
    big = sum(f.stat().st_size for f in files) >= settings.import_pipeline_mb * 2**20
    summary = ImportSummary()
    index = _bulk_index(settings)
    piped, ok = 0, False
    items = read_files_in_worker(files) if big else read_files(files)
    try:
        if index is not None:
            from paperwire.search.pipeline import EmbedPipeline

            index.recover(store)  # papers a killed import left out of the index
            index.begin_bulk()  # one lexical writer, committed every 25,000 papers
            if big:  # static vectors meanwhile, saved with the papers too
                index.pipeline = EmbedPipeline(index.dense, store.vectors)
        with progress("importing papers") as bar:
            summary = store.importer(batch_size).run(items, strict=strict, on_progress=bar.advance)
        ok = True
    except StrictImportError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        items.close()  # stops the reader process when the import stopped early
        if index is not None:  # on failure the journal keeps what the index lacks
            index.end_bulk(commit=ok)
            if index.pipeline is not None:
                piped = index.pipeline.close(wait=ok)
                index.pipeline = None
        store.close()
    for line in summary.errors[:50]:
        err.print(f"[yellow]rejected:[/] {escape(line)}", highlight=False)
    if len(summary.errors) > 50:
        err.print(f"... and {len(summary.errors) - 50} more rejected records")
    table = Table(
        title=f"Imported {len(files)} file(s) into {redact_url(settings.resolved_database_url)}"
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
    if index is not None:  # the lexical index is already up to date
        from paperwire.core.heap import release_free_heap
        from paperwire.search.cli import embed_pending

        release_free_heap()  # what the rows left freed, before the vector index is built

        store = open_store(settings)
        try:  # papers the worker did not get to (or an earlier, killed import left)
            # (papers new to the store have no stored contextual vectors to look for)
            if not embed_pending(settings, store, index, stored=False) and piped:
                index.dense.update_ann()  # (embed_pending does this when it embeds)
        finally:
            store.close()
    if summary.new == 0 and summary.updated == 0 and summary.rejected == 0:
        console.print("Nothing changed: everything was already imported.")
    if summary.rejected:  # the good records are in; the exit status says some were not
        err.print(
            f"{summary.rejected:,} record(s) or file(s) were rejected (listed above); "
            "everything else was imported."
        )
        raise typer.Exit(IMPORT_REJECTED)


def _bulk_index(settings: Settings):
    """The search index a bulk import feeds, or None when imports leave it alone."""
    if not (settings.search_index_on_import and settings.embed_on_import):
        return None
    from paperwire.search.indexer import open_index

    return open_index(settings)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    no_sync: Annotated[
        bool,
        typer.Option(
            "--no-sync", help="Do not run the daily sync (PAPERWIRE_SYNC_TIME) in the server."
        ),
    ] = False,
) -> None:
    """Serve the pages, the JSON API and the feeds."""
    import os

    import uvicorn

    from paperwire.context import AppContext
    from paperwire.web.app import configure_logging

    configure_logging()
    settings = load_settings(db)
    with AppContext(settings) as ctx:  # migrate once, before workers start
        counts = ctx.store.counts()
    if counts.papers == 0:
        err.print(
            "[yellow]The database is empty.[/] Pull the latest papers with\n"
            "  paperwire sync\n"
            "or import files: paperwire import PATH ... (HF daily-papers JSON, arXiv "
            "snapshot JSONL). Serving an empty site meanwhile."
        )
    else:
        err.print(
            f"{counts.papers:,} papers, {counts.listings:,} daily listings "
            f"({counts.first_day} to {counts.last_day})."
        )
    os.environ["PAPERWIRE_DATABASE_URL"] = settings.resolved_database_url
    if no_sync:
        os.environ["PAPERWIRE_SYNC_ENABLED"] = "false"
    # the schedulers run in this (parent) process; each worker builds its own context
    for line in AppContext(settings).start_schedulers(sync=not no_sync):
        err.print(line)
    err.print(f"paperwire on http://{host}:{port}/")
    uvicorn.run(
        "paperwire.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=settings.access_log,  # PAPERWIRE_ACCESS_LOG=true for a line per request
        # X-Forwarded-For only from the proxies named in PAPERWIRE_TRUSTED_PROXIES
        proxy_headers=bool(settings.trusted_proxies.strip()),
        forwarded_allow_ips=settings.trusted_proxies.strip() or None,
    )


@app.command()
def sync(
    db: DbOption = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", help="hf, arxiv or oai (repeatable; default: PAPERWIRE_SYNC_SOURCES)."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="First day to fetch, YYYY-MM-DD (default: resume).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day to fetch (default: today).")] = None,
    categories: Annotated[
        str | None,
        typer.Option(help="arXiv categories (or OAI sets for oai), e.g. cs.CL,cs.LG."),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore the saved watermark and start over.")
    ] = False,
    status: Annotated[
        bool, typer.Option("--status", help="Show the last run per source, and the next.")
    ] = False,
) -> None:
    """Pull new papers from Hugging Face Daily Papers, the arXiv API and arXiv OAI-PMH."""
    import logging

    from paperwire.context import open_store
    from paperwire.progress import SyncProgress
    from paperwire.sync.cli_view import print_results, print_status
    from paperwire.sync.runner import SyncOptions, run_sync, split_list
    from paperwire.sync.sources import REGISTRY

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per batch is enough
    settings = load_settings(db)

    def _day(name: str, value: str | None):
        from datetime import date

        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            err.print(f"[red]error:[/] --{name} must be a date like 2026-08-01, not {value!r}")
            raise typer.Exit(2) from None

    sources = [s for item in source or [] for s in split_list(item)]
    if not sources and not status:
        sources = split_list(settings.sync_sources)
        if "arxiv" in sources and not (categories or settings.arxiv_categories):
            sources.remove("arxiv")
    bad = [s for s in sources if s not in REGISTRY]
    if bad:
        err.print(f"[red]error:[/] unknown source {bad[0]!r}: choose from {', '.join(REGISTRY)}")
        raise typer.Exit(2)
    opts = SyncOptions(
        since=_day("since", since),
        until=_day("until", until),
        categories=split_list(categories) or None,
        restart=restart,
    )
    store = open_store(settings)
    try:
        if status:
            print_status(console, store, settings)
            return
        with SyncProgress(err) as shown:
            results = run_sync(store, settings, sources, opts, on_batch=shown)
    finally:
        store.close()
    print_results(console, err, results)
    if any(r.status in ("error", "locked") for r in results):
        raise typer.Exit(1)


@app.command()
def stats(db: DbOption = None) -> None:
    """Show what the database holds."""
    from paperwire.context import open_store

    settings = load_settings(db)
    store = open_store(settings)
    c = store.counts()
    store.close()
    console.print(f"database: {redact_url(settings.resolved_database_url)}")
    console.print(
        f"papers: {c.papers:,}\ndaily listings: {c.listings:,}\n"
        f"organizations: {c.organizations:,}\ndays: {c.first_day} to {c.last_day}"
    )


from paperwire.search.cli import register as _register_search  # noqa: E402

_register_search(app)


from paperwire.digest.cli import app as digest_app  # noqa: E402

app.add_typer(digest_app, name="digest")


from paperwire.community.cli import register as _register_community  # noqa: E402

_register_community(app)  # paperwire user create / paperwire org add-member


from paperwire.recommend.cli import register as _register_library  # noqa: E402

_register_library(app)  # paperwire library import --user U FILE


from paperwire.ops_cli import register as _register_ops  # noqa: E402

_register_ops(app)  # paperwire migrate / paperwire runs (docs/deploy.md)


def main() -> None:
    try:
        app(standalone_mode=True)
    except RuntimeError as exc:
        # imported only now (it has been, if that is what was raised): importing the search
        # stack up front cost every command, --help included, about 1 s of start-up
        from paperwire.search.binding import IndexMismatch

        if not isinstance(exc, IndexMismatch):
            raise
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
