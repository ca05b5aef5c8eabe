"""What every language-model backend offers the bot: one chat completion at a time.

Two backends exist: ``LocalLLM`` (llama.cpp in this process) and ``ServerLLM`` (an
OpenAI-compatible llama.cpp server). The bot holds one backend behind one queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Generation:
    text: str  # full raw output (JSON text when a schema was given)
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int  # prompt tokens reused from the KV cache
    first_token_ms: float  # from call start to the first generated token
    total_ms: float
    finish_reason: str  # "stop" | "length"
    # For each boolean field of the schema: the logit of ``true`` minus that of ``false`` where
    # the model chose its value (its confidence, for callers that set their own threshold).
    # Only backends that see the logits fill it.
    boolean_margins: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        """Generation speed after the first token."""
        gen_ms = self.total_ms - self.first_token_ms
        return (self.completion_tokens - 1) * 1000.0 / gen_ms if gen_ms > 0 else 0.0


@runtime_checkable
class LLMBackend(Protocol):
    name: str

    def complete(
        self,
        messages: list[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 256,
        on_text: Callable[[str], None] | None = None,
        opening_bias: Mapping[str, float] | None = None,
    ) -> Generation:
        """Greedy chat completion. With ``schema``, the text is JSON valid against it whenever
        ``finish_reason == "stop"``; ``on_text`` gets each text delta as it is generated.

        ``opening_bias``: logits added, at the first token of the answer text only, to the first
        token of each given word (``{"Yes": -2.0}``: the answer opens with "Yes" only when the
        model prefers it by more than 2). Backends that do not see the logits ignore it."""
        ...

    def prime(self, messages: list[Message]) -> float:
        """Evaluate and cache the fixed prefix of ``messages``; returns milliseconds spent."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def info(self) -> dict[str, object]: ...

    def close(self) -> None: ...


@runtime_checkable
class KeepsOpenings(Protocol):
    """A backend that can save the KV cells of texts a question's prompt begins with."""

    def keep_openings(
        self, messages: list[Message], openings: Sequence[str], *, wait: bool = True
    ) -> None:
        """Save the cells of each of ``openings`` after the fixed prefix of ``messages``; with
        ``wait=False``, in the background."""
        ...


@runtime_checkable
class Judges(Protocol):
    """A backend that can tell how sure the model is of a yes-or-no reply."""

    def judge(self, messages: list[Message]) -> float | None:
        """The logit of the reply to ``messages`` opening with "Yes" minus that of "No"; None
        when it cannot be had. Leaves the cached prompt prefix as it was."""
        ...


class LLMError(RuntimeError):
    """A backend failed; the message names the cause and the fix."""


class ModelLoadError(LLMError):
    """The GGUF file could not be loaded."""


class LLMServerError(LLMError):
    """The OpenAI-compatible server could not be reached or answered with an error."""


class SchemaError(ValueError):
    """A JSON schema that llama.cpp's grammar converter cannot turn into a grammar."""
