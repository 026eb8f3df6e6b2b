"""Keep freed frame-sized buffers in the process instead of handing them back to the OS (glibc only).

Every feature block makes a few full-resolution images (2 MB each at 1080p) per frame. With glibc's defaults,
buffers that large are mapped fresh from the OS and unmapped on free, so every new one page-faults in again:
measured, that was half the cost of the full-resolution blocks (extracting a 1080p frame took 77 ms, 34-57 ms
with the buffers kept). Raising the mmap and trim thresholds lets the allocator reuse them: up to 128 MB of
freed memory stays in the process instead of going back to the OS between frames. Elsewhere (musl, macOS,
Windows) this does nothing; ``ARTIFACTSCOPE_KEEP_BUFFERS=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 64 * 2**20  # buffers below this come from the heap and are reused; larger ones are mapped
_TRIM_THRESHOLD = 128 * 2**20  # free heap kept before any is returned to the OS (loky restarts a worker
# whose memory grew by 300 MB, taking that for a leak: stay well under it)
_done = False


def keep_large_allocations() -> bool:
    """Tune glibc's allocator once per process; True when it was tuned (now or before)."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("ARTIFACTSCOPE_KEEP_BUFFERS", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return _done
