"""Every use of llama-cpp-python beyond its public API, in one place, for the versions it was
read from.

Reusing the KV cache across calls, decoding greedily without ``Llama.generate`` and loading a KV
state that llama.cpp wrote itself need the ``Llama`` object's bookkeeping (which tokens the KV
cache holds, whether logits are current) and its model and context wrappers. Those are private
and change between releases: ``load_llama_cpp`` refuses a version they were not checked against,
with the fix, before any of them is touched.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from models.backend import ModelLoadError

# The versions whose internals the functions below were written against (pyproject.toml pins it).
KNOWN_VERSIONS = frozenset({"0.3.36"})


def check_version(version: str) -> None:
    if version not in KNOWN_VERSIONS:
        known = ", ".join(sorted(KNOWN_VERSIONS))
        raise ModelLoadError(
            f"llama-cpp-python {version} is installed, but the local model backend relies on "
            f"internals of version {known} (install llama-cpp-python=={max(KNOWN_VERSIONS)} as "
            "pyproject.toml pins it, e.g. with scripts/setup.sh, or serve the model with "
            "llama-cpp-python's server and set ARTICLE_BOT_LLM_SERVER_URL)"
        )


def load_llama_cpp() -> ModuleType:
    """The ``llama_cpp`` module, once its version is known to match the code below."""
    import llama_cpp  # deferred: importing loads the shared library

    check_version(str(llama_cpp.__version__))
    return llama_cpp


def vocab(llm: Any) -> Any:
    """The ``llama_vocab`` pointer that the sampler and vocabulary functions take."""
    return llm._model.vocab


def token_text(llm: Any, token: int) -> str:
    """A special token's text as the chat template writes it (e.g. ``<|im_end|>``)."""
    return str(llm._model.token_get_text(token))


def token_piece(llm: Any, token: int) -> bytes:
    """The bytes one token stands for."""
    return bytes(llm._model.token_to_piece(token))


def held_tokens(llm: Any) -> Any:
    """The tokens whose KV cells the context holds, oldest first (a view: copy before keeping)."""
    return llm.input_ids[: llm.n_tokens]


def keep_tokens(llm: Any, n: int) -> bool:
    """Drop the KV cells after the first ``n`` tokens so that the next ``eval`` continues at
    ``n``; False when llama.cpp cannot cut there (then nothing is kept)."""
    if not llm._ctx.kv_cache_seq_rm(-1, n, -1):
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        llm.n_tokens = 0
        return False
    llm.n_tokens = n
    return True


def rewind(llm: Any, n: int) -> None:
    """Make the next ``eval`` continue after the first ``n`` held tokens (it drops the KV cells
    from there on)."""
    llm.n_tokens = n


def forget_tokens_from(llm: Any, position: int) -> None:
    """Drop the KV cells from ``position`` on without touching the bookkeeping (for a token that
    was decoded outside ``eval``)."""
    llm._ctx.kv_cache_seq_rm(0, position, -1)


def clear(llm: Any) -> None:
    """An empty KV cache: the next ``eval`` starts from the first token."""
    llm.reset()
    llm._ctx.kv_cache_seq_rm(-1, 0, -1)


def mark_loaded(llm: Any, tokens: list[int]) -> None:
    """Record that the KV cache holds ``tokens`` after llama.cpp loaded a state file; the same
    bookkeeping ``Llama.load_state`` does for a state it read itself."""
    llm.input_ids[: len(tokens)] = tokens
    llm.n_tokens = len(tokens)
    llm._requires_eval = True


# A second sequence carries a saved run of KV cells into the cache beside the prefix (see
# ``models.openings``); unified, both sequences share one set of cells, so the cache is no bigger.
SEQUENCES = 2
SIDE_SEQUENCE = 1


def with_side_sequence(llm: Any) -> None:
    """Replace ``llm``'s context (empty, just made) with one of ``SEQUENCES`` sequences sharing
    a unified KV cache. ``Llama`` takes neither setting; the old context is freed first, so the
    KV cache is never held twice."""
    import contextlib

    from llama_cpp import _internals

    params = llm.context_params
    params.n_seq_max = SEQUENCES
    params.kv_unified = True
    llm._ctx.close()
    ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=llm.verbose)
    llm._ctx = ctx
    llm._stack.enter_context(contextlib.closing(ctx))
    llm.reset()


class SmallContext:
    """A second llama.cpp context on ``llm``'s weights (shared, not loaded again), with a KV
    cache of its own: short prompts evaluated there attend over their own few cells, not over
    the main context's thousands, and leave the main context's cells exactly where they were."""

    def __init__(self, llm: Any, n_ctx: int, n_batch: int) -> None:
        import contextlib

        import llama_cpp
        from llama_cpp import _internals

        # The main context's settings (threads, attention, KV types), with a cache of its own.
        params = llama_cpp.llama_context_default_params()
        for name, _ in params._fields_:
            setattr(params, name, getattr(llm.context_params, name))
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = 1
        params.kv_unified = False
        self._llm = llm
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        self._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=llm.verbose)
        self._batch = _internals.LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1, verbose=False)
        llm._stack.enter_context(contextlib.closing(self._ctx))
        llm._stack.enter_context(contextlib.closing(self._batch))
        self.held: list[int] = []  # the tokens whose cells the context holds

    def logits_after(self, tokens: list[int], keep: int) -> Any | None:
        """The logits after ``tokens``, of which the first ``keep`` are already held; None when
        they do not fit or llama.cpp fails on them (nothing is then held)."""
        import numpy as np

        if len(tokens) > self.n_ctx:
            self.forget(0)
            return None
        self.forget(keep)
        try:
            for at in range(keep, len(tokens), self.n_batch):
                chunk = tokens[at : at + self.n_batch]
                self._batch.set_batch(batch=chunk, n_past=at, logits_all=False)
                self._ctx.decode(self._batch)
                self.held.extend(chunk)
        except RuntimeError:
            self.forget(0)
            return None
        n_vocab = self._llm.n_vocab()
        return np.array(np.ctypeslib.as_array(self._ctx.get_logits_ith(-1), shape=(n_vocab,)))

    def forget(self, keep: int) -> None:
        """Drop the cells after the first ``keep`` tokens."""
        self._ctx.kv_cache_seq_rm(-1, keep, -1)
        del self.held[keep:]


def sequences(llm: Any) -> int:
    return int(llm.context_params.n_seq_max)


def memory(llm: Any) -> Any:
    """The ``llama_memory_t`` of ``llm``'s context, for the ``llama_memory_seq_*`` calls."""
    return llm._ctx.memory


def mark_held(llm: Any, start: int, tokens: list[int]) -> None:
    """Record that the KV cache now holds ``tokens`` from ``start`` on (after the cells were put
    there by a state load rather than ``eval``)."""
    llm.input_ids[start : start + len(tokens)] = tokens
    llm.n_tokens = start + len(tokens)
