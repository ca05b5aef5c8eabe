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

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from models import llama_adapter as llama
from models.backend import Generation, JsonSchema, LLMError, Message, ModelLoadError
from models.chat_template import ChatTemplate
from models.decoding import CLOSING_TOKENS, SpecialTokens, decode
from models.greedy import common_prefix, on_row_group
from models.prompt_state import PromptState

__all__ = ["CLOSING_TOKENS", "LocalLLM"]


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
        self._prime_stats: dict[str, object] = {}
        self._primed: list[int] = []  # the fixed prefix last primed
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
            state_dir=state_dir,
        )

    # --- prompt -------------------------------------------------------------------------------
    def render_prompt(self, messages: list[Message]) -> str:
        """The prompt text the chat template makes of ``messages`` (ends with the assistant
        header)."""
        return self._template.render(messages)

    def prompt_tokens(self, messages: list[Message]) -> list[int]:
        return self._template.tokens(messages)

    def prefix_tokens(self, messages: list[Message]) -> list[int]:
        """Tokens of ``messages`` rendered up to where a following user message's text begins.

        A trailing user message in ``messages`` is treated as the variable part and left out.
        """
        return self._template.prefix_tokens(messages)

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
        with self._lock:
            llm = self._require_model()
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
        with self._lock:
            self._require_model()
            stats: dict[str, object] = {"prefix_tokens": len(prefix)}
            self._state.hold(prefix, stats)
            self._primed = prefix
            stats["total_ms"] = (time.perf_counter() - start) * 1000.0
            self._prime_stats = stats
        return float(stats["total_ms"])  # type: ignore[arg-type]

    @property
    def prime_stats(self) -> dict[str, Any]:
        """How the last ``prime`` went: source ("memory", "disk" or "evaluated"), prefix_tokens,
        eval_ms / load_ms / save_ms, state_bytes, total_ms."""
        return dict(self._prime_stats)

    def clear_cache(self) -> None:
        """Forget the KV cache: the next call evaluates its whole prompt."""
        with self._lock:
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
