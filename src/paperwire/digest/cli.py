"""``paperwire digest send`` and ``paperwire digest preview``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from paperwire.core.cli import DbOption, load_settings

app = typer.Typer(no_args_is_help=True, help="Email digests: send the due ones, preview one.")
console = Console()
err = Console(stderr=True)

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Act as if it were this UTC time (YYYY-MM-DDTHH:MM), e.g. to send a missed "
        "period or to preview an archive; default: now.",
    ),
]


def _as_of(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        err.print(f"[red]error:[/] --as-of must look like 2026-08-22T08:00, not {value!r}")
        raise typer.Exit(2) from None


def _settings(db: str | None):

    return load_settings(db)


@app.command("send")
def send(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compose and list the due digests; send nothing.")
    ] = False,
    to: Annotated[
        str | None, typer.Option("--to", help="Only the digest of this subscriber's address.")
    ] = None,
    as_of: AsOf = None,
    db: DbOption = None,
) -> None:
    """Send every digest that is due (each goes out once, however often this runs)."""
    from paperwire.context import open_store
    from paperwire.digest.send import send_digests
    from paperwire.progress import progress
    from paperwire.search.indexer import open_index

    settings = _settings(db)
    store = open_store(settings)
    done = 0
    try:
        with progress("digests", every=200) as bar:

            def advance(report) -> None:
                nonlocal done
                total = report.sent + report.empty + report.failed + report.deferred
                bar.advance(total - done)
                done = total

            report = send_digests(
                store,
                settings,
                index=lambda: open_index(settings),
                now=_as_of(as_of),
                dry_run=dry_run,
                only=to,
                on_progress=advance,
            )
    finally:
        store.close()
    if dry_run:
        for email, n in report.previews:
            console.print(f"{email}: {n} papers", highlight=False)
        console.print(f"dry run: {len(report.previews)} digests due ({', '.join(report.periods)})")
        return
    console.print(report.summary(), highlight=False)
    for line in report.errors[:20]:
        err.print(f"[yellow]{line}[/]", highlight=False)
    if report.deferred or report.failed:
        raise typer.Exit(1)


@app.command("preview")
def preview(
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the HTML here.")] = Path(
        "digest-preview.html"
    ),
    email: Annotated[
        str | None, typer.Option("--email", help="Preview this subscriber's next digest.")
    ] = None,
    topics: Annotated[str, typer.Option(help="Comma-separated topics (without --email).")] = "",
    organizations: Annotated[str, typer.Option(help="Comma-separated organizations.")] = "",
    frequency: Annotated[str, typer.Option(help="daily or weekly.")] = "daily",
    as_of: AsOf = None,
    db: DbOption = None,
) -> None:
    """Write the HTML of one digest to a file (nothing is sent or recorded)."""
    from paperwire.context import open_store
    from paperwire.digest.compose import Composer, message_id
    from paperwire.digest.repository import DigestRepository
    from paperwire.digest.schedule import due_period, parse_time
    from paperwire.digest.views import ClaimedDigest, SubscriptionView
    from paperwire.search.indexer import open_index

    settings = _settings(db)
    store = open_store(settings)
    try:
        if email:
            sub = DigestRepository(store.engine).subscription_by_email(email)
            if sub is None:
                err.print(f"[red]error:[/] no subscription for {email}")
                raise typer.Exit(1)
            frequency = sub.frequency
        elif frequency not in ("daily", "weekly"):
            err.print(f"[red]error:[/] --frequency must be daily or weekly, not {frequency!r}")
            raise typer.Exit(2)
        else:
            split = [t.strip() for t in topics.split(",") if t.strip()]
            orgs = [o.strip() for o in organizations.split(",") if o.strip()]
            sub = SubscriptionView(
                0, "preview@example.org", "preview", frequency, split, orgs, True, "confirmed"
            )
        period = due_period(frequency, _as_of(as_of), parse_time(settings.digest_time))
        claim = ClaimedDigest(0, message_id(settings, sub.id, period.key), sub, None, frozenset())
        if email:
            found = DigestRepository(store.engine).due(frequency, period.key, only=email)
            claim = found[0] if found else claim
        composer = Composer(store, settings, index=lambda: open_index(settings))
        digest = composer.compose(claim, period)
        html = composer.html(digest, composer.links(sub))
    finally:
        store.close()
    out.write_text(html, encoding="utf-8")
    console.print(f"{period.key}: {len(digest.papers)} papers; wrote {out}", highlight=False)
