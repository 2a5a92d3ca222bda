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
    TextColumn,
    TimeElapsedColumn,
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
    ]
    with Progress(*columns, console=console, transient=False) as bar:
        yield _BarReporter(bar, bar.add_task(label, total=total))
