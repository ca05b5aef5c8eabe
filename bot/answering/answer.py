"""The typed result of answering one question: the answer carries its citations and passages.

Formatting for Discord or the terminal happens elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Citation:
    """A cited section with a verbatim quote: ``article[start:end] == quote``."""

    section: str  # "Introduction", "I", "II", "III", "Conclusion"
    heading: str  # display heading of the section
    quote: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "heading": self.heading,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class SourcePassage:
    """A retrieved passage that was shown to the model."""

    id: str  # "II:3"
    section: str
    score: float
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "score": round(self.score, 4),
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Turn:
    """One earlier question and answer of a conversation (thread follow-ups)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[SourcePassage, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)  # retrieve, first_token, total
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens
    refusal_reason: str | None = None  # "empty", "too_long", "off_topic", "model", ...
    cached: bool = False
    # Whose words the answer is: "model" (the language model's), "quote" (the cited sentence,
    # quoted because the model's answer misstated it) or "correction" (a false premise named).
    basis: str = "model"

    @property
    def sections(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.citations:
            seen.setdefault(c.section, None)
        return tuple(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "passages": [p.to_json() for p in self.passages],
            "timings_ms": {
                k: round(self.timings_ms.get(k, 0.0), 1)
                for k in ("retrieve", "first_token", "total")
            },
            "usage": {k: int(self.usage.get(k, 0)) for k in ("prompt_tokens", "completion_tokens")},
        }


class Answerer(Protocol):
    """The answering core as the CLI, the queue and the Discord layer see it: blocking, not
    thread-safe; ``on_text`` gets each new piece of the answer text as it is generated."""

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer: ...


class InstantAnswerer(Answerer, Protocol):
    """An answerer that can also give, without its model, the answers that need none."""

    def answer_now(self, question: str, *, history: Sequence[Turn] = ()) -> Answer | None:
        """The final answer if no model is needed for it (None: only the model can answer).
        Never waits for the model, so it may run beside an answer in progress."""
        ...


def answer_without_model(
    answerer: Answerer, question: str, history: Sequence[Turn] = ()
) -> Answer | None:
    """``answerer.answer_now`` where the answerer offers it (it is optional, so that simple
    answerers need not have it); None otherwise."""
    answer_now = getattr(answerer, "answer_now", None)
    if answer_now is None:
        return None
    result: Answer | None = answer_now(question, history=history)
    return result
