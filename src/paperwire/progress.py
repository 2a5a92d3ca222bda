"""Progress reporting for long operations: a Rich bar with rate in a terminal, a log line per
batch otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class _LineReporter:
    def __init__(self, console: Console, label: str, every: int) -> None:
        self.console, self.label, self.every = console, label, every
        self.done, self.next_report, self.start = 0, every, time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self.next_report:
            rate = self.done / max(time.monotonic() - self.start, 1e-9)
            self.console.print(f"{self.label}: {self.done:,} ({rate:,.0f}/s)", highlight=False)
            self.next_report = self.done + self.every


class _BarReporter:
    def __init__(self, progress: Progress, task) -> None:
        self.progress, self.task = progress, task

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)


class _RateColumn(TextColumn):
    def render(self, task):
        speed = task.finished_speed or task.speed
        return f"{speed:,.0f}/s" if speed else ""


@contextmanager
def progress(
    label: str, total: int | None = None, console: Console | None = None, every: int = 10000
) -> Iterator[_LineReporter | _BarReporter]:
    console = console or Console(stderr=True)
    if not (console.is_terminal and sys.stderr.isatty()):
        yield _LineReporter(console, label, every)
        return
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(""),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as bar:
        yield _BarReporter(bar, bar.add_task(label, total=total))


class SyncProgress:
    """``paperwire sync``'s progress: in a terminal a Rich bar per source (days for HF,
    records for arXiv and OAI-PMH) with its rate and ETA when the source says how much there
    is; otherwise one log line per batch, as before."""

    def __init__(self, console: Console | None = None, live: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal and sys.stderr.isatty() if live is None else live
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.sums: dict[str, list[int]] = {}  # new, updated, unchanged, rejected per source

    def __enter__(self) -> SyncProgress:
        if self.live:
            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                _RateColumn(""),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[counts]}"),
                console=self.console,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, batch, summary) -> None:
        counts = (
            f"{summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged, "
            f"{summary.rejected} rejected"
        )
        if self.bar is None:
            where = f" ({batch.done:,}/{batch.total:,} {batch.unit})" if batch.total else ""
            self.console.print(f"{batch.key} {batch.label}{where}: {counts}", highlight=False)
            return
        task = self.tasks.get(batch.key)
        if task is None:
            task = self.tasks[batch.key] = self.bar.add_task(
                batch.key, total=batch.total, unit=batch.unit, counts=""
            )
        totals = self.sums.setdefault(batch.key, [0, 0, 0, 0])
        for i, n in enumerate((summary.new, summary.updated, summary.unchanged, summary.rejected)):
            totals[i] += n
        shown = f"{totals[0]:,} new, {totals[1]:,} updated, {totals[3]:,} rejected"
        if batch.done is not None:
            self.bar.update(task, completed=batch.done, total=batch.total or None, counts=shown)
        else:
            self.bar.update(task, advance=len(batch.records), counts=shown)
