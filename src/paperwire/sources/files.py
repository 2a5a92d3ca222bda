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
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

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
