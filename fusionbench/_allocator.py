"""Process-wide tuning of glibc's allocator for image-sized temporaries.

numpy allocates every temporary of an image (1-20 MB) with malloc. glibc serves such blocks
with fresh ``mmap`` pages and returns them on free, so each array operation pays the kernel's
page faults again - about 5 us per 4 KiB page on the virtual machines this was measured on,
which made the colour conversion around a fusion method 3x slower than its arithmetic.
Raising the mmap threshold and the trim threshold keeps freed blocks in the heap for reuse.
The cost: a process keeps its peak heap (up to the trim threshold) instead of returning it.
Set ``FUSIONBENCH_MALLOC_TUNING=0`` to leave the allocator as it is.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["tune_allocator"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
_TRIM_THRESHOLD = 1024 * 1024 * 1024


def tune_allocator() -> bool:
    """Apply the tuning once per process (glibc only); True when it was applied."""
    if os.environ.get("FUSIONBENCH_MALLOC_TUNING", "1") == "0" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
