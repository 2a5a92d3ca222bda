"""Freed heap memory goes back to the system (core/heap.py), where glibc allows it."""

from __future__ import annotations

import platform
import sys

import pytest

from paperwire.core.heap import release_free_heap

glibc = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"


def _rss_mb() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmRSS:"))


@pytest.mark.skipif(not glibc, reason="malloc_trim is glibc's")
def test_holes_left_in_the_heap_are_given_back():
    """100 MB of kilobyte objects, one in fifty kept: the freed ones are holes glibc keeps
    (the process's size does not move) until they are released."""
    blobs = [bytes(1000) + i.to_bytes(4, "little") for i in range(100_000)]
    kept = blobs[::50] + [blobs[-1]]
    del blobs
    held = _rss_mb()
    assert release_free_heap() is True
    assert held - _rss_mb() > 50, "the freed 100 MB stayed resident"
    assert len(kept) == 2_001
