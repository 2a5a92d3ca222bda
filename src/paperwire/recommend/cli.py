"""``paperwire library import --user U FILE``: import a reader's library from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from paperwire.core.cli import DbOption, load_settings

library_app = typer.Typer(no_args_is_help=True, help="A reader's library (trains For you).")
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@library_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="BibTeX (.bib), RIS (.ris) or Zotero CSV file.")],
    user: Annotated[str, typer.Option("--user", help="The reader's username.")],
    db: DbOption = None,
) -> None:
    """Match the file's entries to papers (arXiv id, DOI, title) and add them to the library;
    entries that match nothing are listed."""
    from paperwire.community.repository import Community
    from paperwire.context import open_store
    from paperwire.recommend.library import LibraryError, import_library

    try:
        data = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/] cannot read {escape(str(file))}: {escape(exc.strerror or '')}")
        raise typer.Exit(2) from None
    # a library import adds no papers, so the search index is not opened
    store = open_store(load_settings(db).model_copy(update={"search_index_on_import": False}))
    try:
        reader = Community.of(store).accounts.user(user)
        if reader is None:
            err.print(f"[red]error:[/] no user named {escape(user)}")
            raise typer.Exit(2)
        try:
            report = import_library(store, reader.id, file.name, data)
        except LibraryError as exc:
            err.print(f"[red]error:[/] {escape(str(file))}: {escape(str(exc))}")
            raise typer.Exit(2) from None
    finally:
        store.close()
    console.print(
        f"{report.entries} entries: {len(report.matched)} matched "
        f"({report.added} new in {escape(user)}'s library), {len(report.unmatched)} not found"
    )
    for ref in report.unmatched:
        console.print(f"not found: {escape(ref.label)}")
    if report.skipped_blocks:
        console.print(f"unreadable blocks skipped: {report.skipped_blocks}")


def register(app: typer.Typer) -> None:
    app.add_typer(library_app, name="library")
