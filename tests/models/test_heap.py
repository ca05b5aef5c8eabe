"""Freed heap memory is given back to the system (glibc)."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from models import heap


def _anon_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    pytest.skip("no RssAnon in /proc/self/status")


@pytest.mark.skipif(heap._TRIM is None, reason="the C library is not glibc")
def test_holes_left_in_the_heap_are_returned() -> None:
    # 16 KB blocks come from the heap (below glibc's mmap threshold), each followed by a small
    # block that stays: freeing the big ones leaves holes that free() alone does not return.
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    heap.release_free_memory()
    before = _anon_mb()
    big, pins = [], []
    for _ in range(6400):  # 100 MB
        block = libc.malloc(16 * 1024)
        ctypes.memset(block, 1, 16 * 1024)
        big.append(block)
        pins.append(libc.malloc(64))
    try:
        for block in big:
            libc.free(block)
        held = _anon_mb()
        assert held - before > 60, "the freed blocks should still be counted before the release"
        assert heap.release_free_memory() is True
        assert _anon_mb() - before < 30
    finally:
        for pin in pins:
            libc.free(pin)


def test_release_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_TRIM", None)
    assert heap.release_free_memory() is False
