"""Greedy decoding under a grammar, checking the model's own choice first.

llama-cpp-python applies a grammar by masking every token of the vocabulary at every step; with
Qwen's 151,000-token vocabulary that costs more than the forward pass of a 0.5B model on two
cores. For greedy decoding the result is the same if we take the most likely token and ask the
grammar about that one token alone; only when the grammar rejects it (rarely: a few times per
answer) is the whole vocabulary masked. llama.cpp's own sampler does the same ("grammar after
sampling, resample on rejection").
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from models import llama_adapter as llama


class GrammarSampler:
    """A llama.cpp grammar sampler plus the buffers to test one token or the whole vocabulary."""

    def __init__(self, lib: Any, vocab: Any, n_vocab: int, gbnf: str) -> None:
        self._lib = lib
        self._sampler = lib.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
        if not self._sampler:
            raise ValueError("llama.cpp could not parse the grammar")
        self.n_vocab = n_vocab
        self._one = (lib.llama_token_data * 1)()
        self._all = (lib.llama_token_data * n_vocab)()
        self._all_np = np.ctypeslib.as_array(self._all)
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self.full_masks = 0  # how often the whole vocabulary had to be masked

    def _apply(self, data: Any, size: int) -> None:
        array = self._lib.llama_token_data_array(data=data, size=size, selected=-1, sorted=False)
        self._lib.llama_sampler_apply(self._sampler, ctypes.byref(array))

    def choose(self, logits: np.ndarray) -> int:
        """The most likely token that the grammar allows next."""
        token = int(np.argmax(logits))
        self._one[0].id = token
        self._one[0].logit = float(logits[token])
        self._one[0].p = 0.0
        self._apply(self._one, 1)
        if np.isfinite(self._one[0].logit):
            return token
        self.full_masks += 1
        self._all_np["id"] = self._ids
        self._all_np["logit"] = logits
        self._all_np["p"] = 0.0
        self._apply(self._all, self.n_vocab)
        masked = self._all_np["logit"]
        best = int(np.argmax(masked))
        if not np.isfinite(masked[best]):
            raise RuntimeError("the grammar allows no token here")
        return int(self._all_np["id"][best])

    def allowed(self, logits: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """``logits[ids]``, with -inf for each token of ``ids`` the grammar refuses here; asks
        the grammar about those tokens only."""
        data = (self._lib.llama_token_data * len(ids))()
        view = np.ctypeslib.as_array(data)
        view["id"] = ids
        view["logit"] = logits[ids]
        view["p"] = 0.0
        self._apply(data, len(ids))
        return np.array(view["logit"])

    def accept(self, token: int) -> None:
        self._lib.llama_sampler_accept(self._sampler, token)

    def accepts_all(self, tokens: Sequence[int]) -> bool:
        """Accept ``tokens`` in turn while the grammar allows each; False at the first it
        refuses (the grammar has then taken the ones before it: make a new sampler)."""
        for token in tokens:
            ids = np.array([token], dtype=np.intc)
            if not np.isfinite(self.allowed(np.zeros(self.n_vocab, dtype=np.float32), ids)[0]):
                return False
            self.accept(token)
        return True

    def close(self) -> None:
        if self._sampler:
            self._lib.llama_sampler_free(self._sampler)
            self._sampler = None

    def __del__(self) -> None:
        self.close()


# llama.cpp's repacked matrix kernels on x86 take a batch's token rows four at a time and the
# rest one by one, which rounds differently: a run of tokens evaluated in two batches gives the
# same numbers as in one only where the cut falls on a multiple of the group. Cuts after the
# fixed prefix are kept on multiples of 8, so an answer never depends on what the cache held.
ROW_GROUP = 8


def on_row_group(count: int, fixed: int) -> int:
    """``count`` held tokens cut back so that the run after the first ``fixed`` is whole groups
    (no cut when ``count`` does not pass ``fixed``)."""
    if count <= fixed:
        return count
    return fixed + (count - fixed) // ROW_GROUP * ROW_GROUP


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def greedy_tokens(
    llm: Any,
    lib: Any,
    prompt: Sequence[int],
    sampler: GrammarSampler | None,
    bias: Any = None,
    *,
    fixed: int = 0,
) -> Iterator[int]:
    """Tokens of the greedy continuation of ``prompt``, reusing the KV cache of the longest
    prefix this context already holds (as ``Llama.generate`` does), cut on a row group after the
    first ``fixed`` tokens (a prefix always evaluated on its own). ``bias(input_ids, logits)``
    may change the logits in place before the choice (e.g. to steer towards closing the JSON)."""
    held = on_row_group(common_prefix(llama.held_tokens(llm).tolist(), prompt), fixed)
    # At least one prompt token must be evaluated to get logits for the next one.
    held = max(0, min(held, len(prompt) - 1))
    if not llama.keep_tokens(llm, held):
        held = 0
    llm.eval(list(prompt[held:]))
    ctx = llm.ctx
    n_vocab = llm.n_vocab()
    while True:
        logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        if bias is not None:
            logits = np.array(logits)
            bias(llama.held_tokens(llm), logits)
        if sampler is not None:
            token = sampler.choose(logits)
            sampler.accept(token)
        else:
            token = int(np.argmax(logits))
        yield token
        llm.eval([token])
