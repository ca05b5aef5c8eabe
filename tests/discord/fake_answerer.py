"""A small deterministic answerer for the Discord layer's tests.

It behaves like the real one at its boundary (blocking, streamed pieces through ``on_text``, no
``on_text`` for refusals, citations that are verbatim slices of the real article) so the bot's
queueing, streaming, splitting and formatting are exercised without loading a model:
- a question with "B-end" is answered from section II;
- a question with "France" is refused as off-topic, without the model (``answer_now``);
- a question in ``model_free`` is answered without the model too, as a repeat from the cache;
- a question in ``held`` streams its first piece, then waits until its event is set;
- a question with "long" gets a 5,000-character answer citing I and III;
- a question with "slow" streams slowly (for queue and shutdown tests);
- a question with "boom" raises, as an internal fault would;
- anything else is answered from the Introduction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.answering.answer import Answer, Citation, Turn
from index.article import Article

OFF_TOPIC = "The article doesn't cover that. Ask me about Alipay's strategy."


class FakeAnswerer:
    def __init__(self, article: Article, *, piece_delay: float = 0.05, slow_delay: float = 0.4):
        self.article = article
        self.piece_delay = piece_delay
        self.slow_delay = slow_delay
        self.model_free: set[str] = set()
        self.held: dict[str, threading.Event] = {}

    def hold(self, question: str) -> threading.Event:
        """Make ``question`` keep the model busy until the returned event is set."""
        return self.held.setdefault(question, threading.Event())

    def answer_now(self, question: str, *, history: Sequence[Turn] = ()) -> Answer | None:
        if "France" in question:
            return Answer(
                question=question, text=OFF_TOPIC, refused=True, refusal_reason="off_topic"
            )
        if question in self.model_free:
            text = "The article argues that Alipay is chasing scale and platforms."
            return Answer(
                question=question,
                text=text,
                refused=False,
                citations=(self.citation("Introduction", 0),),
                cached=True,
            )
        return None

    def citation(self, label: str, nth: int = 0) -> Citation:
        sentence = [s for s in self.article.sentences_of(label) if not s.header][nth]
        section = self.article.section(label)
        return Citation(
            section=label,
            heading=section.heading or section.label,
            quote=sentence.text,
            start=sentence.start,
            end=sentence.end,
        )

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        started = time.perf_counter()
        if "boom" in question:
            raise RuntimeError("simulated failure inside the answerer")
        if "France" in question:
            return Answer(
                question=question, text=OFF_TOPIC, refused=True, refusal_reason="off_topic"
            )
        delay = self.slow_delay if "slow" in question else self.piece_delay
        if "long" in question:
            paragraph = (
                "Alipay keeps expanding its platform instead of deepening its payment core. "
                "The author returns to this point again and again, with examples from "
                "traffic, content and services. "
            ) * 4
            text = "\n\n".join(f"Part {i + 1}. {paragraph.strip()}" for i in range(16))
            text = text[:5000].rsplit(" ", 1)[0] + "."
            citations: tuple[Citation, ...] = (self.citation("I"), self.citation("III", 5))
            pieces = [text[i : i + 250] for i in range(0, len(text), 250)]
        else:
            if "B-end" in question:
                citations = (self.citation("II", 6),)
                text = "The author says Alipay should serve the B-end, businesses, not only users."
            else:
                citations = (self.citation("Introduction", 0),)
                text = "The article argues that Alipay is chasing scale and platforms."
            if history:
                text += f" (Earlier you asked: {history[-1].question})"
            pieces = [w + " " for w in text.split(" ")]
            pieces[-1] = pieces[-1].rstrip()
        first = None
        held = self.held.get(question)
        for i, piece in enumerate(pieces):
            time.sleep(delay)
            first = first or time.perf_counter()
            if on_text is not None:
                on_text(piece)
            if i == 0 and held is not None:
                assert held.wait(60), f"the test never released {question!r}"
        total = (time.perf_counter() - started) * 1000
        return Answer(
            question=question,
            text="".join(pieces),
            refused=False,
            citations=citations,
            timings_ms={
                "retrieve": 1.0,
                "first_token": ((first or started) - started) * 1000,
                "total": total,
            },
            usage={"prompt_tokens": 100, "completion_tokens": len(pieces)},
        )


@dataclass
class Call:
    question: str
    history: tuple[Turn, ...]
    thread: int
    answer: Answer | None = None  # None while answering, or when the answerer raised
    model: bool = True  # False: answered by ``answer_now``, without the model


class RecordingAnswerer:
    """Wraps an answerer (the real pipeline or the fake) and records each call and its answer."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[Call] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        call = Call(question, tuple(history), threading.get_ident())
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls.append(call)
        try:
            call.answer = self.inner.answer(question, history=history, on_text=on_text)
            return call.answer
        finally:
            with self._lock:
                self.active -= 1

    def answer_now(self, question: str, *, history: Sequence[Turn] = ()) -> Answer | None:
        answer_now = getattr(self.inner, "answer_now", None)
        answer = None if answer_now is None else answer_now(question, history=history)
        if answer is not None:
            with self._lock:
                self.calls.append(
                    Call(question, tuple(history), threading.get_ident(), answer, model=False)
                )
        return answer

    def last(self, question: str) -> Call:
        matches = [c for c in self.calls if c.question == question]
        assert matches, f"the answerer was never asked {question!r}"
        return matches[-1]
