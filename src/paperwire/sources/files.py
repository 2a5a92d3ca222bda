"""Read paper files of any supported format, auto-detected, streamed record by record.

Supported:
- HF ``/api/daily_papers`` responses: a JSON list per file (``YYYY-MM-DD.json`` gives the day),
  a directory of them, or JSON lines of items;
- Kaggle arXiv snapshot JSONL, plain or gzip-compressed.

Every yielded value is a :class:`PaperRecord` or a :class:`RecordError` naming file and line.
"""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
import multiprocessing.queues
import queue
import re
from collections.abc import Generator, Iterator
from datetime import date
from pathlib import Path
from typing import cast

from paperwire.record import PaperRecord
from paperwire.sources import hf_daily, snapshot
from paperwire.sources.errors import RecordError

_DAY_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})", re.ASCII)
SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz", ".ndjson")


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named directly, plus the supported files inside named directories (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
            )
        elif path.exists():
            out.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return out


def _open_text(path: Path) -> io.TextIOBase:
    with path.open("rb") as fh:
        magic = fh.read(2)
    # utf-8-sig: a byte order mark (editors on Windows write one) is skipped, not a format
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return path.open("r", encoding="utf-8-sig")


def _day_from_name(path: Path) -> date | None:
    m = _DAY_NAME.search(path.name)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1))
    except ValueError:
        return None


def _first_char(fh: io.TextIOBase) -> str:
    while True:
        ch = fh.read(1)
        if not ch or not ch.isspace():
            return ch


def read_file(path: Path) -> Iterator[PaperRecord | RecordError]:
    """Stream the records of one file; a malformed file yields one error and nothing else."""
    try:
        with _open_text(path) as fh:
            first = _first_char(fh)
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        yield RecordError(str(path), f"cannot read file: {exc}")
        return
    if first == "":
        yield RecordError(str(path), "empty file: it holds no papers")
        return
    if first == "[":
        yield from _read_json_list(path)
    elif first == "{":
        yield from _read_json_lines(path)
    else:
        yield RecordError(str(path), "unknown format: expected a JSON list or JSON lines")


def _read_json_list(path: Path) -> Iterator[PaperRecord | RecordError]:
    try:
        with _open_text(path) as fh:
            items = json.load(fh)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield RecordError(str(path), f"cannot read file: {exc}")
        return
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield RecordError(str(path), f"malformed JSON: {exc}")
        return
    except RecursionError:
        yield RecordError(str(path), "malformed JSON: nested too deeply to be a papers file")
        return
    if items and isinstance(items[0], dict) and "paper" not in items[0] and "abstract" in items[0]:
        for index, obj in enumerate(items):
            try:
                yield snapshot.parse_record(obj, f"{path}: item {index}")
            except RecordError as exc:
                yield exc
        return
    yield from hf_daily.parse_items(items, _day_from_name(path), f"{path}: ")


def _read_json_lines(path: Path) -> Iterator[PaperRecord | RecordError]:
    day = _day_from_name(path)
    lineno = 0
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield RecordError(where, f"malformed JSON: {exc.msg} (column {exc.colno})")
                    continue
                except RecursionError:
                    yield RecordError(where, "malformed JSON: nested too deeply")
                    continue
                try:
                    if isinstance(obj, dict) and "paper" in obj:
                        yield hf_daily.parse_item(obj, day, where)
                    else:
                        yield snapshot.parse_record(obj, where)
                except RecordError as exc:
                    yield exc
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        yield RecordError(f"{path}:{lineno + 1}", f"cannot read file past this line: {exc}")


def read_files(paths: list[Path]) -> Generator[PaperRecord | RecordError, None, None]:
    """The records of every file, in order."""
    for path in paths:
        yield from read_file(path)


READER_CHUNK = 500  # records per message from the reader process
READER_DEPTH = 16  # messages the reader may run ahead (bounds the memory they hold)


def read_files_in_worker(
    paths: list[Path],
) -> Generator[PaperRecord | RecordError, None, None]:
    """``read_files(paths)``, parsed in a child process while the caller writes.

    A bulk import is CPU-bound in one process; decompressing, decoding JSON and cleaning
    text take about a quarter of it, and a parsed record costs a seventh of that to unpickle.
    The stream is the same, in the same order.  Closing the iterator early (a strict import
    stopping at a bad record) stops the reader; a reader whose parent died stops by itself.
    """
    ctx = multiprocessing.get_context("spawn")  # the caller holds database handles, threads
    inbox: multiprocessing.queues.Queue[tuple[str, object]] = ctx.Queue(maxsize=READER_DEPTH)
    proc = ctx.Process(
        target=_read_into, args=(list(paths), inbox), name="paperwire-reader", daemon=True
    )
    proc.start()
    try:
        while True:
            try:
                kind, payload = inbox.get(timeout=1.0)
            except queue.Empty:
                if proc.is_alive():
                    continue
                try:  # it may have sent its last message just before it exited
                    kind, payload = inbox.get(timeout=1.0)
                except queue.Empty:
                    raise RuntimeError(
                        f"the file reader process stopped (exit code {proc.exitcode})"
                    ) from None
            if kind == "records":
                yield from cast("list[PaperRecord | RecordError]", payload)
            elif kind == "failed":
                raise RuntimeError(f"the file reader failed: {payload}")
            else:
                return
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        inbox.close()
        inbox.cancel_join_thread()


def _read_into(paths: list[Path], outbox: multiprocessing.queues.Queue[tuple[str, object]]) -> None:
    """The reader process: send ``read_files(paths)`` in chunks, then "done" or "failed"."""
    parent = multiprocessing.parent_process()

    def send(message: tuple[str, object]) -> None:
        while True:
            try:
                outbox.put(message, timeout=1.0)
                return
            except queue.Full:
                if parent is not None and not parent.is_alive():  # the importer is gone
                    outbox.cancel_join_thread()  # (else exit waits to flush a full pipe)
                    raise SystemExit(0) from None

    try:
        chunk: list[PaperRecord | RecordError] = []
        for item in read_files(paths):
            chunk.append(item)
            if len(chunk) >= READER_CHUNK:
                send(("records", chunk))
                chunk = []
        if chunk:
            send(("records", chunk))
        send(("done", None))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent reports
        return
    except Exception as exc:  # a bug, not bad input: read_file yields errors for that
        send(("failed", f"{type(exc).__name__}: {exc}"))
