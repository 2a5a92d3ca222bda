"""Which process of a command holds its peak memory, and when.

    python bench/proc_peaks.py -- paperwire import /tmp/scale/arxiv-2900000.jsonl.gz

Runs the command and reads every process under it from ``/proc`` every ``--every`` seconds
(resident size and high-water mark), then prints, for each process that ever ran, its peak
and the second at which its resident size was highest, with its command line.  Linux only.
``/usr/bin/time`` gives one peak for a whole tree; this says whose it was (at 2.9M papers:
the import's main process, in the vector index build it ends with; docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def children(root: int) -> list[int]:
    """``root`` and every process below it."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # it ended while read
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(p for p, pp in parent.items() if pp == pid)
    return out


def memory_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a live process, in KB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    got = {
        k: int(v.split()[0])
        for k, _, v in (s.partition(":") for s in lines)
        if k in ("VmRSS", "VmHWM")
    }
    return (got["VmRSS"], got["VmHWM"]) if len(got) == 2 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        ap.error("give the command after --")
    start = time.monotonic()
    proc = subprocess.Popen(cmd)
    seen: dict[int, dict] = {}
    while proc.poll() is None:
        at = time.monotonic() - start
        for pid in children(proc.pid):
            mem = memory_kb(pid)
            if mem is None:
                continue
            rss, hwm = mem
            row = seen.get(pid)
            if row is None:
                try:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    argv = b"?"
                row = seen[pid] = {
                    "hwm": 0,
                    "rss": 0,
                    "at": 0.0,
                    "cmd": " ".join(argv.decode().split())[:120],
                }
            row["hwm"] = max(row["hwm"], hwm)
            if rss > row["rss"]:
                row["rss"], row["at"] = rss, at
        time.sleep(args.every)
    wall = time.monotonic() - start
    print(f"exit status: {proc.returncode}, wall s: {wall:.1f}")
    for pid, row in sorted(seen.items(), key=lambda kv: -kv[1]["hwm"]):
        print(
            f"pid {pid}: peak MB {row['hwm'] / 1024:.0f}, highest sampled RSS MB "
            f"{row['rss'] / 1024:.0f} at {row['at']:.1f} s: {row['cmd']}"
        )
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
