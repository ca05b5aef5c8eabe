"""llama.cpp in this process: chat completion with JSON-schema grammars and a reused prompt prefix.

Speed on two cores comes from not evaluating the same tokens twice. The bot sends a long fixed
system message and a short question; the KV cache of the longest common token prefix with the
previous call is kept (``models.greedy``), so only the question's tokens are evaluated. ``prime``
evaluates that fixed prefix ahead of the first question and, with a ``state_dir``, saves the KV
cache to disk so the next process start loads it instead of recomputing it. Decoding is greedy
and asks the grammar only about the model's first choice (see ``models.greedy``).

The prompt is rendered with the chat template stored in the GGUF and tokenized exactly as
llama-cpp-python's chat handler (and therefore its OpenAI-compatible server) does, so the same
messages give the same tokens, and greedy decoding the same text, in both backends.

Loading a saved KV state and measuring the reused prefix touch llama-cpp-python's bookkeeping
(``input_ids``, ``n_tokens``, ``_requires_eval``) the way its own ``load_state`` does; that is
one reason the dependency is pinned to one version.
"""

from __future__ import annotations

import codecs
import ctypes
import hashlib
import json
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.backend import (
    Generation,
    JsonSchema,
    LLMError,
    Message,
    ModelLoadError,
    SchemaError,
)
from models.grammar import schema_to_gbnf
from models.greedy import GrammarSampler, greedy_tokens

# Placeholder questions used to find where the fixed prefix ends: the tokens the two prompts share
# are the prefix (the template's text up to the user's content, however it tokenizes).
_PROBE_A = "Alpha probe question?"
_PROBE_B = "Zulu probe question?"
_GRAMMARS_KEPT = 32
_STATE_FILES_KEPT = 4  # per model file; older prefixes (e.g. an edited article) are deleted
# After max_tokens, a schema-constrained output gets this many more tokens to close its JSON.
CLOSING_TOKENS = 64
_CLOSING_CHARS = frozenset(b'"]}')
_CLOSING_BOOST = 1000.0


class _CloseJsonBias:
    """Logits processor, idle until the token budget is spent; then it makes tokens made only
    of closing quotes and brackets win wherever the grammar allows them, so the JSON closes in
    a few tokens (a string ends, an array ends once minItems is met, an object once its required
    keys are written) instead of being cut off unparseable."""

    def __init__(self, closing_ids: Any) -> None:
        self.closing_ids = closing_ids
        self.active = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.active:
            scores[self.closing_ids] += _CLOSING_BOOST
        return scores


class _BooleanProbe:
    """Logits observer: at each step where the text so far ends in ``"name"`` or ``"name":`` of
    a boolean field and the grammar allows both values, it notes the best logit among allowed
    tokens that begin ``true`` minus the best among those that begin ``false``; the last such
    step is the one where the model chose. Only those few tokens are put to the grammar."""

    _KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*(?::\s*)?$')

    def __init__(
        self, fields: frozenset[str], true_ids: Any, false_ids: Any, sampler: GrammarSampler
    ) -> None:
        self.fields = fields
        self.true_ids = true_ids
        self.false_ids = false_ids
        self.sampler = sampler
        self.text: list[str] = []
        self.margins: dict[str, float] = {}

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        match = self._KEY.search("".join(self.text[-16:]))
        if match and match.group(1) in self.fields:
            best_true = self.sampler.allowed(scores, self.true_ids).max()
            best_false = self.sampler.allowed(scores, self.false_ids).max()
            if math.isfinite(best_true) and math.isfinite(best_false):
                self.margins[match.group(1)] = float(best_true - best_false)
        return scores


def _boolean_fields(schema: JsonSchema) -> frozenset[str]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return frozenset()
    return frozenset(
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get("type") == "boolean"
    )


class LocalLLM:
    """A GGUF model loaded by llama-cpp-python. Calls are serialised by a lock."""

    def __init__(
        self,
        model_path: Path,
        n_threads: int,
        n_ctx: int = 4096,
        n_batch: int = 512,
        state_dir: Path | None = None,
    ) -> None:
        import llama_cpp  # deferred: importing loads the shared library

        self._lib = llama_cpp
        self.model_path = Path(model_path)
        self.name = f"local:{self.model_path.name}"
        self.n_threads = n_threads
        self.n_batch = n_batch
        self.state_dir = state_dir
        self._lock = threading.Lock()
        self._grammars: OrderedDict[str, Any] = OrderedDict()
        self._prime_stats: dict[str, object] = {}
        self._closing_ids: Any = None
        self._boolean_ids: tuple[Any, Any] | None = None
        if not self.model_path.is_file():
            raise ModelLoadError(
                f"Model file not found: {self.model_path} (set ARTICLE_BOT_MODEL_PATH to a "
                ".gguf file or unset it to use the packaged model)"
            )
        start = time.perf_counter()
        try:
            self._llm: Any = llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_ubatch=n_batch,
                # Both set: llama.cpp's default for each is half the cores, which halves speed
                # on a two-core host.
                n_threads=n_threads,
                n_threads_batch=n_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"Cannot load model {self.model_path}: {exc} (is it a complete llama.cpp GGUF? "
                "check the file or set ARTICLE_BOT_MODEL_PATH to another one)"
            ) from exc
        self.load_ms = (time.perf_counter() - start) * 1000.0
        self.n_ctx = int(self._llm.n_ctx())
        self._formatter, self.chat_template_source = self._chat_formatter()

    # --- prompt -------------------------------------------------------------------------------
    def _chat_formatter(self) -> tuple[Any, str]:
        from llama_cpp import llama_chat_format

        llm = self._llm
        eos = llm.token_eos()
        bos = llm.token_bos()
        eos_text = llm._model.token_get_text(eos) if eos != -1 else ""
        bos_text = llm._model.token_get_text(bos) if bos != -1 else ""
        template = llm.metadata.get("tokenizer.chat_template")
        source = "gguf"
        if not template:
            # A GGUF without a template is most likely a ChatML model converted without one.
            template, source = llama_chat_format.CHATML_CHAT_TEMPLATE, "chatml-fallback"
        formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=eos_text, bos_token=bos_text, stop_token_ids=[eos]
        )
        return formatter, source

    def render_prompt(self, messages: list[Message]) -> str:
        """The prompt text the chat template makes of ``messages`` (ends with the assistant
        header)."""
        return str(self._formatter(messages=messages).prompt)

    def prompt_tokens(self, messages: list[Message]) -> list[int]:
        result = self._formatter(messages=messages)
        tokens = self._llm.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        return [int(t) for t in tokens]

    def prefix_tokens(self, messages: list[Message]) -> list[int]:
        """Tokens of ``messages`` rendered up to where a following user message's text begins.

        A trailing user message in ``messages`` is treated as the variable part and left out.
        """
        fixed = list(messages)
        if fixed and fixed[-1].get("role") == "user":
            fixed.pop()
        a = self.prompt_tokens([*fixed, {"role": "user", "content": _PROBE_A}])
        b = self.prompt_tokens([*fixed, {"role": "user", "content": _PROBE_B}])
        n = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            n += 1
        return a[:n]

    def count_tokens(self, text: str) -> int:
        # Tokenizing reads only the vocabulary: safe while another thread generates.
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # --- generation ---------------------------------------------------------------------------
    def grammar_for(self, schema: JsonSchema) -> str:
        """The llama.cpp grammar (GBNF) for ``schema``, checked and cached; ``SchemaError`` if
        it has none."""
        key = json.dumps(schema)  # property order matters: it is the order of generation
        grammar = self._grammars.get(key)
        if grammar is not None:
            self._grammars.move_to_end(key)
        else:
            gbnf = schema_to_gbnf(schema)
            # llama.cpp parses the grammar only when sampling starts, and a NULL sampler from a
            # bad grammar would crash there: parse it once now to fail with a message instead.
            probe = self._lib.llama_sampler_init_grammar(
                self._require_model()._model.vocab, gbnf.encode("utf-8"), b"root"
            )
            if not probe:
                raise SchemaError(
                    f"llama.cpp rejected the grammar made from this JSON schema "
                    f"(schema: {key[:200]})"
                )
            self._lib.llama_sampler_free(probe)
            grammar = gbnf
            self._grammars[key] = grammar
            # Callers may vary the schema per call: keep the recent ones.
            if len(self._grammars) > _GRAMMARS_KEPT:
                self._grammars.popitem(last=False)
        return grammar

    def complete(
        self,
        messages: list[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 256,
        on_text: Callable[[str], None] | None = None,
    ) -> Generation:
        """Greedy completion of ``messages``; ``on_text`` gets each text delta as it comes.

        With ``schema`` the text is JSON valid against it. If ``max_tokens`` runs out first, up
        to ``CLOSING_TOKENS`` more are spent closing the JSON at the nearest point the grammar
        allows (``finish_reason`` is then "length": the JSON is complete but its content cut).
        """
        start = time.perf_counter()
        self._require_model()
        grammar = self.grammar_for(schema) if schema is not None else None
        tokens = self.prompt_tokens(messages)
        if len(tokens) >= self.n_ctx:
            raise LLMError(
                f"The prompt has {len(tokens)} tokens but the context holds {self.n_ctx} "
                "(shorten the prompt or raise ARTICLE_BOT_N_CTX)"
            )
        room = self.n_ctx - len(tokens)
        max_tokens = max(1, min(max_tokens, room))
        closer = _CloseJsonBias(self._closing_token_ids()) if grammar is not None else None
        probe: _BooleanProbe | None = None
        fields = _boolean_fields(schema) if schema is not None else frozenset()

        def bias(input_ids: Any, scores: Any) -> Any:
            if probe is not None:
                probe(input_ids, scores)
            if closer is not None:
                closer(input_ids, scores)
            return scores

        hard_limit = min(max_tokens + CLOSING_TOKENS, room) if closer else max_tokens
        with self._lock:
            llm = self._require_model()
            cached = min(self._reusable_prefix(tokens), len(tokens) - 1)
            vocab = llm._model.vocab
            sampler = (
                GrammarSampler(self._lib, vocab, llm.n_vocab(), grammar)
                if grammar is not None
                else None
            )
            if fields and sampler is not None:
                true_ids, false_ids = self._boolean_token_ids()
                probe = _BooleanProbe(fields, true_ids, false_ids, sampler)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
            pieces: list[bytes] = []
            completion = 0
            first_token_ms = 0.0
            finish_reason = "length"
            observe = bias if closer is not None else None
            for token in greedy_tokens(llm, self._lib, tokens, sampler, bias=observe):
                if not first_token_ms:
                    first_token_ms = (time.perf_counter() - start) * 1000.0
                if self._lib.llama_vocab_is_eog(vocab, token):
                    # A grammar ends only when the JSON is complete: then the model's stop token
                    # is the only one allowed.
                    finish_reason = "length" if closer and closer.active else "stop"
                    break
                completion += 1
                piece = llm.detokenize([token])
                pieces.append(piece)
                delta = decoder.decode(piece)
                if probe is not None and delta:
                    probe.text.append(delta)
                if delta and on_text is not None:
                    on_text(delta)
                if completion >= hard_limit:
                    break
                if closer is not None and completion >= max_tokens:
                    closer.active = True
            tail = decoder.decode(b"", final=True)
            if tail and on_text is not None:
                on_text(tail)
            if sampler is not None:
                sampler.close()
        total_ms = (time.perf_counter() - start) * 1000.0
        return Generation(
            text=b"".join(pieces).decode("utf-8", errors="ignore"),
            prompt_tokens=len(tokens),
            completion_tokens=completion,
            cached_tokens=cached,
            first_token_ms=first_token_ms or total_ms,
            total_ms=total_ms,
            finish_reason=finish_reason,
            boolean_margins=dict(probe.margins) if probe is not None else {},
        )

    def _boolean_token_ids(self) -> tuple[Any, Any]:
        """Tokens that begin the value ``true`` / ``false``: "t", " tr", ":true", ..."""
        if self._boolean_ids is None:
            import numpy as np

            model = self._require_model()._model
            found: dict[bytes, list[int]] = {b"true": [], b"false": []}
            for i in range(self._llm.n_vocab()):
                piece = model.token_to_piece(i).rstrip(b"\0").lstrip(b" \t\n:").rstrip(b" ")
                for word, ids in found.items():
                    if piece and word.startswith(piece):
                        ids.append(i)
            if not found[b"true"] or not found[b"false"]:
                raise LLMError(f"{self.name}: no token spells true/false")
            self._boolean_ids = (
                np.array(found[b"true"], dtype=np.intc),
                np.array(found[b"false"], dtype=np.intc),
            )
        return self._boolean_ids

    def _closing_token_ids(self) -> Any:
        if self._closing_ids is None:
            import numpy as np

            model = self._require_model()._model
            ids = [
                i
                for i in range(self._llm.n_vocab())
                if (piece := model.token_to_piece(i).rstrip(b"\0").strip(b" "))
                and set(piece) <= _CLOSING_CHARS
            ]
            self._closing_ids = np.array(ids, dtype=np.intc)
        return self._closing_ids

    def _reusable_prefix(self, tokens: list[int]) -> int:
        """How many prompt tokens the KV cache already holds for ``tokens``."""
        return _common_prefix(self._llm._input_ids.tolist(), tokens)

    # --- the cached prefix ----------------------------------------------------------------------
    def prime(self, messages: list[Message]) -> float:
        """Evaluate the fixed prefix of ``messages`` into the KV cache (from disk if saved).

        Returns the milliseconds spent; ``info()["prime"]`` tells how.
        """
        start = time.perf_counter()
        prefix = self.prefix_tokens(messages)
        self._closing_token_ids()  # a vocabulary scan: better at start-up than mid-answer
        with self._lock:
            llm = self._require_model()
            stats: dict[str, object] = {"prefix_tokens": len(prefix)}
            if _common_prefix(llm._input_ids.tolist(), prefix) == len(prefix):
                stats["source"] = "memory"
            else:
                state_file = self._state_file(prefix) if self.state_dir is not None else None
                if state_file is not None and self._load_state(state_file, prefix, stats):
                    stats["source"] = "disk"
                else:
                    self._evaluate(prefix, stats)
                    stats["source"] = "evaluated"
                    if state_file is not None:
                        self._save_state(state_file, prefix, stats)
            stats["total_ms"] = (time.perf_counter() - start) * 1000.0
            self._prime_stats = stats
        return float(stats["total_ms"])  # type: ignore[arg-type]

    def _evaluate(self, prefix: list[int], stats: dict[str, object]) -> None:
        llm = self._llm
        t0 = time.perf_counter()
        keep = min(_common_prefix(llm._input_ids.tolist(), prefix), len(prefix) - 1)
        llm.n_tokens = max(keep, 0)  # eval() drops the KV cells from n_tokens on
        llm.eval(prefix[llm.n_tokens :])
        stats["eval_ms"] = (time.perf_counter() - t0) * 1000.0
        stats["eval_tokens"] = len(prefix) - keep

    def _state_file(self, prefix: list[int]) -> Path:
        assert self.state_dir is not None
        st = self.model_path.stat()
        identity = {
            "model": str(self.model_path.resolve()),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "n_ctx": self.n_ctx,
            "n_batch": self.n_batch,
            "llama_cpp": self._lib.__version__,
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode())
        digest.update(b"".join(int(t).to_bytes(4, "little") for t in prefix))
        return self.state_dir / f"{self.model_path.stem}.{digest.hexdigest()[:32]}.kvstate"

    def _save_state(self, path: Path, prefix: list[int], stats: dict[str, object]) -> None:
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
        self._prune_state_files(path)

    def _prune_state_files(self, keep: Path) -> None:
        assert self.state_dir is not None
        older = sorted(
            (p for p in self.state_dir.glob(f"{self.model_path.stem}.*.kvstate") if p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in older[_STATE_FILES_KEPT - 1 :]:
            stale.unlink(missing_ok=True)

    def _load_state(self, path: Path, prefix: list[int], stats: dict[str, object]) -> bool:
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
            llm.reset()
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            path.unlink(missing_ok=True)
            stats["load_error"] = f"unusable state file {path}"
            return False
        # The same bookkeeping Llama.load_state does, for a state llama.cpp read itself.
        llm.input_ids[: len(loaded)] = loaded
        llm.n_tokens = len(loaded)
        llm._requires_eval = True
        stats["load_ms"] = (time.perf_counter() - t0) * 1000.0
        self._warm_up(len(loaded), stats)
        stats["state_bytes"] = path.stat().st_size
        stats["state_file"] = str(path)
        return True

    @property
    def prime_stats(self) -> dict[str, Any]:
        """How the last ``prime`` went: source ("memory", "disk" or "evaluated"), prefix_tokens,
        eval_ms / load_ms / save_ms, state_bytes, total_ms."""
        return dict(self._prime_stats)

    def clear_cache(self) -> None:
        """Forget the KV cache: the next call evaluates its whole prompt."""
        with self._lock:
            llm = self._require_model()
            llm.reset()
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)

    def _warm_up(self, position: int, stats: dict[str, object]) -> None:
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
            llm._ctx.kv_cache_seq_rm(0, position, -1)
        stats["warm_up_ms"] = (time.perf_counter() - t0) * 1000.0

    # --- misc ---------------------------------------------------------------------------------
    def info(self) -> dict[str, object]:
        llm = self._llm
        meta = llm.metadata if llm is not None else {}
        return {
            "backend": "local",
            "name": self.name,
            "model_path": str(self.model_path),
            "model_bytes": self.model_path.stat().st_size if self.model_path.exists() else 0,
            "architecture": meta.get("general.architecture", ""),
            "model_name": meta.get("general.name", ""),
            "chat_template": self.chat_template_source,
            "n_ctx": self.n_ctx,
            "n_batch": self.n_batch,
            "n_threads": self.n_threads,
            "load_ms": round(self.load_ms, 1),
            "kv_cache_tokens": int(llm.n_tokens) if llm is not None else 0,
            "prime": dict(self._prime_stats),
            "llama_cpp": self._lib.__version__,
        }

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    def __enter__(self) -> LocalLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_model(self) -> Any:
        if self._llm is None:
            raise LLMError(f"{self.name} is closed (create a new LocalLLM)")
        return self._llm


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
