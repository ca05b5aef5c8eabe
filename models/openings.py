"""Saved KV cells of the openings that questions' prompts begin with, put back instead of evaluated.

After the fixed prefix (instructions and article, ``models.prompt_state``) each question's own
prompt begins with text the caller can list before any question is asked (for the bot: the
evidence line, one of the article's sentences). The KV cells of each such opening, evaluated
right after the prefix, are saved to disk; a prompt that begins with one gets its cells back (a
read of about 1 MB) instead of evaluating its 20-60 tokens, which on two cores costs about 14 ms a
token before the first answer token.

Cells move through llama.cpp's per-sequence state: an opening evaluated after the prefix in
sequence 0 is copied to a side sequence, which then holds only those cells, and saved from there;
loading writes them into the side sequence at the positions they were evaluated at and copies
them to sequence 0. The files of one prefix live in a folder named by the prefix state's key
(model file, context settings, llama.cpp version, prefix tokens), and each file holds its tokens,
so cells are only ever restored after the very prefix and text they were computed from.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import struct
from pathlib import Path
from typing import Any

from models import llama_adapter as llama
from models.greedy import ROW_GROUP, common_prefix

_MAGIC = b"ABOPEN1\n"
_FOLDERS_KEPT = 4  # prefixes whose openings stay on disk (as for the prefix state files)


def _header(opening: list[int]) -> bytes:
    """What an opening's file begins with: the format mark and the tokens it was computed from."""
    return _MAGIC + struct.pack(f"<I{len(opening)}i", len(opening), *opening)


def _digest(tokens: list[int]) -> str:
    return hashlib.sha256(b"".join(int(t).to_bytes(4, "little") for t in tokens)).hexdigest()[:32]


class OpeningStore:
    """The saved openings of one prefix (the caller holds the model's lock for every call)."""

    def __init__(self, llm: Any, lib: Any, state_dir: Path | None) -> None:
        self._llm = llm
        self._lib = lib
        self._root = state_dir / "openings" if state_dir is not None else None
        self._folder: Path | None = None
        self._prefix: list[int] = []
        self._saved: dict[str, int] = {}  # digest of an opening's tokens -> its token count
        self.restored = 0  # prompts that began with a saved opening
        self.restored_tokens = 0
        self.errors: list[str] = []

    @property
    def enabled(self) -> bool:
        return self._root is not None and llama.sequences(self._llm) > llama.SIDE_SEQUENCE

    def __len__(self) -> int:
        return len(self._saved)

    def use_prefix(self, prefix: list[int], key: str) -> None:
        """From now on openings follow ``prefix`` (which the KV cache holds); ``key`` names it."""
        if self._root is None:
            return
        self._prefix = list(prefix)
        self._folder = self._root / key
        self._saved = {}
        if self._folder.is_dir():
            for path in self._folder.glob("*.opening"):
                count, _, digest = path.stem.partition("-")
                if count.isdigit() and digest:
                    self._saved[digest] = int(count)
        self._prune()

    @staticmethod
    def kept_part(opening: list[int]) -> list[int]:
        """The part of ``opening`` that is saved: whole row groups (``models.greedy``), so that
        the tokens after it are computed exactly as if the prompt had been evaluated whole."""
        return opening[: len(opening) // ROW_GROUP * ROW_GROUP]

    def holds(self, opening: list[int]) -> bool:
        return _digest(self.kept_part(opening)) in self._saved

    def save(self, opening: list[int]) -> bool:
        """Evaluate ``opening`` (its ``kept_part``) after the prefix and save its cells; False
        if it cannot be."""
        opening = self.kept_part(opening)
        if not self.enabled or self._folder is None or not opening:
            return False
        llm, lib = self._llm, self._lib
        start = len(self._prefix)
        held = llama.held_tokens(llm).tolist()
        if common_prefix(held, self._prefix) < start or not llama.keep_tokens(llm, start):
            return False
        llm.eval(list(opening))
        mem = llama.memory(llm)
        side = llama.SIDE_SEQUENCE
        lib.llama_memory_seq_cp(mem, 0, side, start, start + len(opening))
        try:
            size = lib.llama_state_seq_get_size(llm.ctx, side)
            buffer = (ctypes.c_uint8 * size)()
            written = lib.llama_state_seq_get_data(llm.ctx, buffer, size, side)
        finally:
            lib.llama_memory_seq_rm(mem, side, -1, -1)
        if written != size:
            self.errors.append(f"llama.cpp wrote {written} of {size} bytes of an opening's cells")
            return False
        digest = _digest(opening)
        path = self._path(self._folder, opening, digest)
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(_header(opening))
                fh.write(memoryview(buffer))
            os.replace(tmp, path)
        except OSError as exc:
            self.errors.append(f"cannot save an opening in {self._folder}: {exc.strerror}")
            return False
        self._saved[digest] = len(opening)
        return True

    def restore(self, tokens: list[int]) -> int:
        """Put back the cells of the longest saved opening that ``tokens`` continue the prefix
        with, when that holds more of ``tokens`` than the cache already does; returns how many
        tokens it put back (0: none, the cache is as it was or holds the prefix alone)."""
        if not self._saved or self._folder is None:
            return 0
        start = len(self._prefix)
        if tokens[:start] != self._prefix:
            return 0
        held = common_prefix(llama.held_tokens(self._llm).tolist(), tokens)
        for count in sorted(set(self._saved.values()), reverse=True):
            # One token must stay to be evaluated: its logits start the answer.
            if start + count > len(tokens) - 1 or start + count <= held:
                continue
            opening = tokens[start : start + count]
            digest = _digest(opening)
            if self._saved.get(digest) == count:
                return count if self._load(self._folder, opening, digest) else 0
        return 0

    @staticmethod
    def _path(folder: Path, opening: list[int], digest: str) -> Path:
        return folder / f"{len(opening)}-{digest}.opening"

    def _load(self, folder: Path, opening: list[int], digest: str) -> bool:
        llm, lib = self._llm, self._lib
        path = self._path(folder, opening, digest)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.errors.append(f"cannot read {path}: {exc.strerror}")
            self._saved.pop(digest, None)
            return False
        header = _header(opening)
        start = len(self._prefix)
        if not data.startswith(header) or not llama.keep_tokens(llm, start):
            return self._forget(path, digest, "not the opening its name says")
        cells = data[len(header) :]
        buffer = (ctypes.c_uint8 * len(cells)).from_buffer_copy(cells)
        side = llama.SIDE_SEQUENCE
        mem = llama.memory(llm)
        read = lib.llama_state_seq_set_data(llm.ctx, buffer, len(cells), side)
        if read != len(cells):
            lib.llama_memory_seq_rm(mem, side, -1, -1)
            return self._forget(path, digest, "llama.cpp could not load its cells")
        lib.llama_memory_seq_cp(mem, side, 0, -1, -1)
        lib.llama_memory_seq_rm(mem, side, -1, -1)
        llama.mark_held(llm, start, opening)
        self.restored += 1
        self.restored_tokens += len(opening)
        return True

    def _forget(self, path: Path, digest: str, why: str) -> bool:
        self.errors.append(f"unusable opening file {path}: {why}")
        self._saved.pop(digest, None)
        path.unlink(missing_ok=True)
        return False

    def _prune(self) -> None:
        assert self._root is not None
        if not self._root.is_dir():
            return
        older = sorted(
            (p for p in self._root.iterdir() if p.is_dir() and p != self._folder),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in older[_FOLDERS_KEPT - 1 :]:
            shutil.rmtree(stale, ignore_errors=True)
