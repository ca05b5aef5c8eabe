"""The fixed prompt prefix in the KV cache: evaluated once, saved to disk, loaded at the next start.

A state file is named by everything that makes its KV cells valid (the model file, the context
and batch sizes, the llama-cpp-python version) and by the prefix's tokens, so an edited article
or another setting is a new file, never a wrong load; the newest few per model file are kept.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from models import llama_adapter as llama
from models.greedy import common_prefix, on_row_group

_STATE_FILES_KEPT = 4  # per model file; older prefixes (e.g. an edited article) are deleted

Stats = dict[str, object]


class PromptState:
    """Puts a token prefix into the KV cache of ``llm`` (the caller holds the model's lock)."""

    def __init__(
        self,
        llm: Any,
        lib: Any,
        *,
        model_path: Path,
        n_ctx: int,
        n_batch: int,
        sequences: int = 1,
        state_dir: Path | None,
    ) -> None:
        self._llm = llm
        self._lib = lib
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        self.sequences = sequences
        self.state_dir = state_dir

    def hold(self, prefix: list[int], stats: Stats) -> None:
        """Make the KV cache hold ``prefix``: kept from before, loaded from disk, or evaluated
        (and saved); ``stats["source"]`` says which ("memory", "disk", "evaluated")."""
        if common_prefix(llama.held_tokens(self._llm).tolist(), prefix) == len(prefix):
            stats["source"] = "memory"
            return
        state_file = self.state_file(prefix) if self.state_dir is not None else None
        if state_file is not None and self._load(state_file, prefix, stats):
            stats["source"] = "disk"
            return
        self._evaluate(prefix, stats)
        stats["source"] = "evaluated"
        if state_file is not None:
            self._save(state_file, prefix, stats)

    def _evaluate(self, prefix: list[int], stats: Stats) -> None:
        llm = self._llm
        t0 = time.perf_counter()
        held = common_prefix(llama.held_tokens(llm).tolist(), prefix)
        keep = min(on_row_group(held, 0), len(prefix) - 1)
        llama.rewind(llm, max(keep, 0))
        llm.eval(prefix[max(keep, 0) :])
        stats["eval_ms"] = (time.perf_counter() - t0) * 1000.0
        stats["eval_tokens"] = len(prefix) - keep

    def key(self, prefix: list[int]) -> str:
        """A digest of everything that makes the KV cells of ``prefix`` valid: the model file,
        the context settings, the llama.cpp version and the prefix tokens (which hold the
        article)."""
        st = self.model_path.stat()
        identity = {
            "model": str(self.model_path.resolve()),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "n_ctx": self.n_ctx,
            "n_batch": self.n_batch,
            "sequences": self.sequences,
            "llama_cpp": self._lib.__version__,
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode())
        digest.update(b"".join(int(t).to_bytes(4, "little") for t in prefix))
        return digest.hexdigest()[:32]

    def state_file(self, prefix: list[int]) -> Path:
        """Where the KV state of ``prefix`` is saved: named by ``key``."""
        assert self.state_dir is not None
        return self.state_dir / f"{self.model_path.stem}.{self.key(prefix)}.kvstate"

    def _save(self, path: Path, prefix: list[int], stats: Stats) -> None:
        assert self.state_dir is not None
        t0 = time.perf_counter()
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            stats["save_error"] = f"cannot create {self.state_dir}: {exc.strerror}"
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        array = (self._lib.llama_token * len(prefix))(*prefix)
        ok = self._lib.llama_state_save_file(
            self._llm.ctx, str(tmp).encode("utf-8"), array, len(prefix)
        )
        if not ok:
            tmp.unlink(missing_ok=True)
            stats["save_error"] = f"llama.cpp could not write {tmp}"
            return
        os.replace(tmp, path)
        stats["save_ms"] = (time.perf_counter() - t0) * 1000.0
        stats["state_bytes"] = path.stat().st_size
        stats["state_file"] = str(path)
        self._prune(path)

    def _prune(self, keep: Path) -> None:
        assert self.state_dir is not None
        older = sorted(
            (p for p in self.state_dir.glob(f"{self.model_path.stem}.*.kvstate") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in older[_STATE_FILES_KEPT - 1 :]:
            stale.unlink(missing_ok=True)

    def _load(self, path: Path, prefix: list[int], stats: Stats) -> bool:
        if not path.is_file():
            return False
        llm = self._llm
        t0 = time.perf_counter()
        capacity = self.n_ctx
        tokens_out = (self._lib.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        ok = self._lib.llama_state_load_file(
            llm.ctx, str(path).encode("utf-8"), tokens_out, capacity, ctypes.byref(count)
        )
        loaded = list(tokens_out[: count.value]) if ok else []
        if loaded != prefix:
            # A damaged or foreign file: forget whatever it put in the cache and recompute.
            llama.clear(llm)
            path.unlink(missing_ok=True)
            stats["load_error"] = f"unusable state file {path}"
            return False
        llama.mark_loaded(llm, loaded)
        stats["load_ms"] = (time.perf_counter() - t0) * 1000.0
        self._warm_up(len(loaded), stats)
        stats["state_bytes"] = path.stat().st_size
        stats["state_file"] = str(path)
        return True

    def _warm_up(self, position: int, stats: Stats) -> None:
        """Decode one throw-away token after the loaded prefix, then drop it from the KV cache.

        A freshly loaded model's first decode pays once for faulting in the weights and setting
        up the compute graph and threads (seconds on a busy host); paying it here keeps it out
        of the first answer. The prefix's KV cells are not touched, so answers stay identical
        to those after evaluating the prefix.
        """
        if position >= self.n_ctx:
            return
        t0 = time.perf_counter()
        llm = self._llm
        lib = self._lib
        batch = lib.llama_batch_init(1, 0, 1)
        try:
            batch.n_tokens = 1
            batch.token[0] = llm.token_eos()
            batch.pos[0] = position
            batch.n_seq_id[0] = 1
            batch.seq_id[0][0] = 0
            batch.logits[0] = True
            lib.llama_decode(llm.ctx, batch)
        finally:
            lib.llama_batch_free(batch)
            llama.forget_tokens_from(llm, position)
        stats["warm_up_ms"] = (time.perf_counter() - t0) * 1000.0
