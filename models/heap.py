"""Freed heap memory given back to the system after each model call.

A model call leaves holes in glibc's heaps (a logits array per token, prompt and grammar
buffers): free, but still counted in the process's memory until glibc is asked to return them.
Hand-written because it is one C call; nothing to call where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _load_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library already loaded into the process
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _load_trim()


def release_free_memory() -> bool:
    """Return the heaps' free pages to the system; whether any were returned."""
    return bool(_TRIM(0)) if _TRIM is not None else False
