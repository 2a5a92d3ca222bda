"""Give the heap's free memory back to the system.

glibc keeps memory that was freed inside its heap and counts it in the process's resident
size until the top of the heap is free.  Building the vector index at 2.9M papers grows
thousands of faiss lists by doubling, and every list's old buffer is left as a hole below
the new ones: 0.17 GB of the build's peak was such holes, given back only by
``malloc_trim`` (docs/benchmarks.md).  Elsewhere (macOS, musl) there is no such call and
this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # not glibc, or no global symbols
        return None


def release_free_heap() -> bool:
    """Hand the heap's free pages back to the system; False where the C library has no way
    to (then the memory stays reusable by this process only)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
