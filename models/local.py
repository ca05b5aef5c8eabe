"""llama.cpp in this process: chat completion with JSON-schema grammars and a reused prompt prefix.

Speed on two cores comes from not evaluating the same tokens twice. The bot sends a long fixed
system message and a short question; the KV cache of the longest common token prefix with the
previous call is kept (``models.greedy``), so only the question's tokens are evaluated. ``prime``
evaluates that fixed prefix ahead of the first question and, with a ``state_dir``, saves the KV
cache to disk so the next process start loads it instead of recomputing it
(``models.prompt_state``). Decoding is greedy and asks the grammar only about the model's first
choice (``models.greedy``, ``models.decoding``); prompts and grammars come from
``models.chat_template``. What this reaches inside llama-cpp-python is in
``models.llama_adapter``, which checks the installed version first.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models import llama_adapter as llama
from models.backend import Generation, JsonSchema, LLMError, Message, ModelLoadError
from models.chat_template import ChatTemplate
from models.decoding import CLOSING_TOKENS, SpecialTokens, decode
from models.greedy import common_prefix, on_row_group
from models.heap import release_free_memory
from models.openings import OpeningStore
from models.prompt_state import PromptState

__all__ = ["CLOSING_TOKENS", "LocalLLM"]


@dataclass
class OpeningsRun:
    """How the last ``keep_openings`` went: openings asked for, found saved, saved now."""

    openings: int
    saved_before: int = 0
    saved: int = 0
    ms: float = 0.0
    done: bool = False
    stopped: bool = False
    error: str = ""


# The context that judges answers holds one short prompt (instructions, a sentence, a question
# and an answer: about 120 tokens); its compute buffers grow with the batch.
JUDGE_CTX = 512
JUDGE_BATCH = 128


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
        self._lib = llama.load_llama_cpp()
        self.model_path = Path(model_path)
        self.name = f"local:{self.model_path.name}"
        self.n_threads = n_threads
        self.n_batch = n_batch
        self.state_dir = state_dir
        self._lock = threading.Lock()
        # Calls waiting for the lock; saving openings in the background gives way to them.
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        self._openings_run = 0  # a newer keep_openings call stops an older one
        self._prime_stats: dict[str, object] = {}
        self._opening_stats = OpeningsRun(openings=0)
        self._primed: list[int] = []  # the fixed prefix last primed
        self._verdict_ids: tuple[Any, Any] | None = None  # tokens opening "Yes" and "No"
        self._judging: llama.SmallContext | None = None  # made at the first judge call
        self._judge_calls = 0
        self._judge_reused = 0  # judging prompts' tokens whose cells were kept
        if not self.model_path.is_file():
            raise ModelLoadError(
                f"Model file not found: {self.model_path} (set ARTICLE_BOT_MODEL_PATH to a "
                ".gguf file or unset it to use the packaged model)"
            )
        start = time.perf_counter()
        try:
            self._llm: Any = self._lib.Llama(
                model_path=str(self.model_path),
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_ubatch=n_batch,
                # Both set: llama.cpp's default for each is half the cores, which halves speed
                # on a two-core host.
                n_threads=n_threads,
                n_threads_batch=n_threads,
                # Read, not mapped: llama.cpp repacks most weights into its own buffers at load,
                # and mapped pages it read them from would stay resident beside the copies
                # (0.6 GB more peak memory for the 1.5B model).
                use_mmap=False,
                verbose=False,
            )
            llama.with_side_sequence(self._llm)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"Cannot load model {self.model_path}: {exc} (is it a complete llama.cpp GGUF? "
                "check the file or set ARTICLE_BOT_MODEL_PATH to another one)"
            ) from exc
        self.load_ms = (time.perf_counter() - start) * 1000.0
        self.n_ctx = int(self._llm.n_ctx())
        self._template = ChatTemplate(self._llm, self._lib)
        self.chat_template_source = self._template.source
        self._special = SpecialTokens(self._llm, self.name)
        self._state = PromptState(
            self._llm,
            self._lib,
            model_path=self.model_path,
            n_ctx=self.n_ctx,
            n_batch=n_batch,
            sequences=llama.sequences(self._llm),
            state_dir=state_dir,
        )
        self._openings = OpeningStore(self._llm, self._lib, state_dir)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """The model's lock, taken as a caller that background work gives way to."""
        with self._waiting_lock:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._waiting_lock:
                self._waiting -= 1
        try:
            yield
        finally:
            self._lock.release()
            release_free_memory()

    # --- prompt -------------------------------------------------------------------------------
    def render_prompt(self, messages: list[Message]) -> str:
        """The prompt text the chat template makes of ``messages`` (ends with the assistant
        header)."""
        return self._template.render(messages)

    def prompt_tokens(self, messages: list[Message]) -> list[int]:
        self._require_model()
        return self._template.tokens(messages)

    def prefix_tokens(self, messages: list[Message], opening: str = "") -> list[int]:
        """Tokens of ``messages`` rendered up to where a following user message's text begins,
        or, with ``opening``, up to where its text after ``opening`` begins.

        A trailing user message in ``messages`` is treated as the variable part and left out.
        """
        self._require_model()
        return self._template.prefix_tokens(messages, opening)

    def count_tokens(self, text: str) -> int:
        # Tokenizing reads only the vocabulary: safe while another thread generates.
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # --- generation ---------------------------------------------------------------------------
    def grammar_for(self, schema: JsonSchema) -> str:
        """The llama.cpp grammar (GBNF) for ``schema``, checked and cached; ``SchemaError`` if
        it has none."""
        self._require_model()
        return self._template.grammar(schema)

    def complete(
        self,
        messages: list[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 256,
        on_text: Callable[[str], None] | None = None,
        opening_bias: Mapping[str, float] | None = None,
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
        with self._turn():
            llm = self._require_model()
            self._openings.restore(tokens)
            primed = len(self._primed)
            fixed = primed if tokens[:primed] == self._primed else 0
            held = common_prefix(llama.held_tokens(llm).tolist(), tokens)
            cached = min(on_row_group(held, fixed), len(tokens) - 1)
            decoded = decode(
                llm,
                self._lib,
                tokens,
                grammar=grammar,
                schema=schema,
                special=self._special,
                max_tokens=max(1, min(max_tokens, room)),
                room=room,
                on_text=on_text,
                start=start,
                opening_bias=self._opening_ids(opening_bias),
                fixed=fixed,
            )
        total_ms = (time.perf_counter() - start) * 1000.0
        return Generation(
            text=decoded.text,
            prompt_tokens=len(tokens),
            completion_tokens=decoded.completion_tokens,
            cached_tokens=cached,
            first_token_ms=decoded.first_token_ms or total_ms,
            total_ms=total_ms,
            finish_reason=decoded.finish_reason,
            boolean_margins=decoded.boolean_margins,
        )

    def _opening_ids(self, bias: Mapping[str, float] | None) -> dict[int, float]:
        """``{word: logit}`` as ``{the word's first token, and each single token that spells a
        start of it: logit}``: a grammar that spells "Yes" as "Ye" "s" must not let the model
        write the word past its bias."""
        ids: dict[int, float] = {}
        for word, value in (bias or {}).items():
            starts = {
                int(t[0])
                for n in range(1, len(word) + 1)
                if len(t := self._tokens(word[:n])) == 1 or (n == len(word) and t)
            }
            for token in starts:
                ids[token] = ids.get(token, 0.0) + value
        return ids

    def _tokens(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # --- the cached prefix ----------------------------------------------------------------------
    def prime(self, messages: list[Message]) -> float:
        """Evaluate the fixed prefix of ``messages`` into the KV cache (from disk if saved).

        Returns the milliseconds spent; ``info()["prime"]`` tells how.
        """
        start = time.perf_counter()
        prefix = self.prefix_tokens(messages)
        self._special.closing()  # a vocabulary scan: better at start-up than mid-answer
        with self._turn():
            self._require_model()
            stats: dict[str, object] = {"prefix_tokens": len(prefix)}
            self._state.hold(prefix, stats)
            self._primed = prefix
            if self.state_dir is not None:
                self._openings.use_prefix(prefix, self._state.key(prefix))
            stats["total_ms"] = (time.perf_counter() - start) * 1000.0
            self._prime_stats = stats
        return float(stats["total_ms"])  # type: ignore[arg-type]

    @property
    def prime_stats(self) -> dict[str, Any]:
        """How the last ``prime`` went: source ("memory", "disk" or "evaluated"), prefix_tokens,
        eval_ms / load_ms / save_ms, state_bytes, total_ms."""
        return dict(self._prime_stats)

    # --- saved openings (models.openings) ---------------------------------------------------------
    def keep_openings(
        self, messages: list[Message], openings: Sequence[str], *, wait: bool = True
    ) -> None:
        """Save the KV cells of each text in ``openings`` (what a user message after the fixed
        prefix of ``messages`` may begin with) unless saved before, so that a prompt beginning
        with one evaluates only the rest. Call after ``prime``. With ``wait=False`` the work runs
        in a background thread that gives way to every other call between two openings (a
        call may wait for one opening, ~0.5 s); a later call stops it. ``info()["openings"]``
        tells how it went."""
        if not self._openings.enabled:
            return
        self._openings_run += 1
        run = self._openings_run
        texts = list(openings)
        if wait:
            self._keep_openings(messages, texts, run)
        else:
            threading.Thread(
                target=self._keep_openings,
                args=(messages, texts, run),
                name="keep-openings",
                daemon=True,
            ).start()

    def _keep_openings(self, messages: list[Message], texts: list[str], run: int) -> None:
        stats = OpeningsRun(openings=len(texts))
        self._opening_stats = stats
        try:
            self._save_openings(messages, texts, run, stats)
        except (LLMError, ValueError, RuntimeError, OSError) as exc:
            # Only speed is lost: questions evaluate their openings as before.
            stats.error = f"{type(exc).__name__}: {exc}"

    def _save_openings(
        self, messages: list[Message], texts: list[str], run: int, stats: OpeningsRun
    ) -> None:
        start = time.perf_counter()
        prefix = self.prefix_tokens(messages)
        for text in texts:
            if run != self._openings_run:
                stats.stopped = True
                break
            tokens = self.prefix_tokens(messages, text)
            opening = tokens[len(prefix) :]
            if tokens[: len(prefix)] != prefix or not opening:
                continue
            if self._openings.holds(opening):
                stats.saved_before += 1
                continue
            while self._waiting:
                time.sleep(0.01)
            with self._lock:
                if run != self._openings_run:
                    continue
                self._require_model()
                if self._openings.save(opening):
                    stats.saved += 1
        stats.ms = round((time.perf_counter() - start) * 1000.0, 1)
        stats.done = True

    def judge(self, messages: list[Message]) -> float | None:
        """The logit of the reply opening with "Yes" minus that of "No". Evaluated in a small
        context of its own on the same weights (``llama.SmallContext``), which keeps what the
        last such prompt began with (its instructions), cut on a row group, so that only the
        rest is evaluated and the result is that of the prompt evaluated whole."""
        tokens = self.prompt_tokens(messages)
        with self._turn():
            llm = self._require_model()
            if self._judging is None:
                self._judging = llama.SmallContext(llm, JUDGE_CTX, JUDGE_BATCH)
                yes, no = (
                    np.array(
                        sorted({self._tokens(w)[0] for w in (word, word.lower(), f" {word}")}),
                        dtype=np.intc,
                    )
                    for word in ("Yes", "No")
                )
                self._verdict_ids = (yes, no)
            judging, verdicts = self._judging, self._verdict_ids
            keep = min(on_row_group(common_prefix(judging.held, tokens), 0), len(tokens) - 1)
            logits = judging.logits_after(tokens, keep)
            self._judge_calls += 1
            self._judge_reused += keep if logits is not None else 0
        if logits is None or verdicts is None:
            return None
        yes, no = verdicts
        return float(logits[yes].max() - logits[no].max())

    def clear_cache(self) -> None:
        """Forget the KV cache: the next call evaluates its whole prompt."""
        with self._turn():
            llama.clear(self._require_model())

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
            "openings": {
                **asdict(self._opening_stats),
                "on_disk": len(self._openings),
                "restored": self._openings.restored,
                "restored_tokens": self._openings.restored_tokens,
                "errors": self._openings.errors[-3:],
            },
            "judged": {"calls": self._judge_calls, "reused_tokens": self._judge_reused},
            "llama_cpp": self._lib.__version__,
        }

    def close(self) -> None:
        self._openings_run += 1
        with self._turn():
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
