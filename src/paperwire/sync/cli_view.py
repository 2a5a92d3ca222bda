"""How ``paperwire sync`` prints its results and ``--status`` (Rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from paperwire.settings import Settings
from paperwire.sync.runner import SourceResult
from paperwire.sync.status import sync_status


def _when(dt) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "-"


def _mark(marks: dict) -> str:
    parts = []
    for key, value in sorted(marks.items()):
        shown = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, [], ""))
        parts.append(f"{key}: {shown}")
    return "; ".join(parts) or "-"


def print_results(console: Console, err: Console, results: list[SourceResult]) -> None:
    table = Table(title="Sync")
    for col in ("source", "status", "new", "updated", "unchanged", "rejected", "batches"):
        table.add_column(col, justify="left" if col in ("source", "status") else "right")
    for r in results:
        s = r.summary
        table.add_row(
            r.source,
            r.status,
            f"{s.new:,}",
            f"{s.updated:,}",
            f"{s.unchanged:,}",
            f"{s.rejected:,}",
            f"{r.batches:,}",
        )
    console.print(table)
    for r in results:
        for line in r.summary.errors[:20]:
            err.print(f"[yellow]rejected:[/] {line}", highlight=False, markup=False)
        if r.error:
            err.print(f"[red]{r.source}:[/] {r.error}", highlight=False)
        elif r.reason:
            console.print(f"{r.source}: {r.reason}", highlight=False)


def print_status(console: Console, store, settings: Settings) -> None:
    table = Table(title="Sync status (times in UTC)")
    for col in ("source", "state", "last run", "new", "updated", "rejected", "next run"):
        table.add_column(col)
    notes = []
    for st in sync_status(store, settings):
        run = st.last_run
        table.add_row(
            st.source,
            st.state,
            _when(run.started_at) if run else "-",
            f"{run.new:,}" if run else "-",
            f"{run.updated:,}" if run else "-",
            f"{run.rejected:,}" if run else "-",
            _when(st.next_run) if st.next_run else "not scheduled",
        )
        if st.watermarks:
            notes.append(f"watermark {_mark(st.watermarks)}")
        if run and run.error:
            notes.append(f"{st.source}: error: {run.error}")
        if run and run.reason:
            notes.append(f"{st.source}: {run.reason}")
    console.print(table)
    for line in notes:
        console.print(line, highlight=False)
