"""The speed limit of llama.cpp itself on this host, measured the way ``llama-bench`` does.

Prompt processing (pp) decodes one batch of ``n_prompt`` tokens; text generation (tg) decodes
``n_gen`` single tokens one after another, with no sampling. Both use llama.cpp's C API directly
(no Python-side bookkeeping, no grammar), with the same thread count as the bot, so the bot's own
numbers can be compared against what the hardware allows. ``depth`` tokens are put in the KV cache
first (untimed) to measure at the context length the bot works at.

Run: ``python -m models.rawbench MODEL.gguf --threads 2``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RawSpeed:
    pp_tokens_per_s: float
    tg_tokens_per_s: float
    n_prompt: int
    n_gen: int
    depth: int
    n_threads: int
    repetitions: int
    pp_ms: float  # median time of one prompt batch
    tg_ms: float  # median time of all n_gen decodes
    model_path: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Batch:
    def __init__(self, lib: Any, capacity: int) -> None:
        self._lib = lib
        self.capacity = capacity
        self.batch = lib.llama_batch_init(capacity, 0, 1)

    def fill(self, tokens: list[int], first_pos: int) -> None:
        b = self.batch
        b.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            b.token[i] = token
            b.pos[i] = first_pos + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = i == len(tokens) - 1  # like llama-bench: only the last row's logits

    def free(self) -> None:
        self._lib.llama_batch_free(self.batch)


def raw_speed(
    model_path: Path,
    n_threads: int,
    n_prompt: int = 512,
    n_gen: int = 64,
    n_ctx: int = 2048,
    *,
    depth: int = 0,
    repetitions: int = 3,
    n_batch: int = 512,
) -> RawSpeed:
    """Median pp and tg speed over ``repetitions`` runs, after one warm-up run."""
    import llama_cpp as lib

    # llama-cpp-python routes llama.cpp's log through this logger; loading a model logs pages.
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    if depth + max(n_prompt, n_gen) > n_ctx:
        raise ValueError(
            f"depth {depth} + max(n_prompt {n_prompt}, n_gen {n_gen}) exceeds n_ctx {n_ctx} "
            "(raise n_ctx)"
        )
    lib.llama_backend_init()
    mparams = lib.llama_model_default_params()
    model = lib.llama_model_load_from_file(str(model_path).encode("utf-8"), mparams)
    if not model:
        raise ValueError(f"llama.cpp cannot load {model_path} (is it a GGUF file?)")
    cparams = lib.llama_context_default_params()
    cparams.n_ctx = n_ctx
    cparams.n_batch = max(n_batch, n_prompt, depth, 1)
    cparams.n_ubatch = n_batch
    cparams.n_threads = n_threads
    cparams.n_threads_batch = n_threads
    ctx = lib.llama_init_from_model(model, cparams)
    if not ctx:
        lib.llama_model_free(model)
        raise ValueError(f"llama.cpp cannot create a context of {n_ctx} tokens for {model_path}")
    vocab = lib.llama_model_get_vocab(model)
    n_vocab = lib.llama_vocab_n_tokens(vocab)
    rng = random.Random(0)
    batch = _Batch(lib, max(n_prompt, depth, 1))
    memory = lib.llama_get_memory(ctx)

    def decode(tokens: list[int], pos: int) -> None:
        batch.fill(tokens, pos)
        rc = lib.llama_decode(ctx, batch.batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with {rc}")

    def fresh_context() -> None:
        lib.llama_memory_clear(memory, True)
        if depth:
            decode([rng.randrange(n_vocab) for _ in range(depth)], 0)
        lib.llama_synchronize(ctx)

    def run_pp() -> float:
        fresh_context()
        tokens = [rng.randrange(n_vocab) for _ in range(n_prompt)]
        t0 = time.perf_counter()
        decode(tokens, depth)
        lib.llama_synchronize(ctx)
        return time.perf_counter() - t0

    def run_tg() -> float:
        fresh_context()
        token = rng.randrange(n_vocab)
        t0 = time.perf_counter()
        for i in range(n_gen):
            decode([token], depth + i)
            lib.llama_synchronize(ctx)
        return time.perf_counter() - t0

    try:
        # Warm-up: page the weights in and let the thread pool settle.
        fresh_context()
        decode([rng.randrange(n_vocab) for _ in range(min(n_prompt, 16))], depth)
        pp_times = [run_pp() for _ in range(repetitions)] if n_prompt else [0.0]
        tg_times = [run_tg() for _ in range(repetitions)] if n_gen else [0.0]
    finally:
        batch.free()
        lib.llama_free(ctx)
        lib.llama_model_free(model)
    pp_s = statistics.median(pp_times)
    tg_s = statistics.median(tg_times)
    return RawSpeed(
        pp_tokens_per_s=n_prompt / pp_s if pp_s else 0.0,
        tg_tokens_per_s=n_gen / tg_s if tg_s else 0.0,
        n_prompt=n_prompt,
        n_gen=n_gen,
        depth=depth,
        n_threads=n_threads,
        repetitions=repetitions,
        pp_ms=pp_s * 1000.0,
        tg_ms=tg_s * 1000.0,
        model_path=str(model_path),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="GGUF file")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-prompt", type=int, default=512)
    parser.add_argument("--n-gen", type=int, default=64)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--depth", type=int, default=0)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args(argv)
    result = raw_speed(
        args.model,
        args.threads,
        args.n_prompt,
        args.n_gen,
        args.n_ctx,
        depth=args.depth,
        repetitions=args.repetitions,
    )
    print(json.dumps(result.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
