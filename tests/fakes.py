"""Small deterministic stand-ins for the answer pipeline's parts, shared by the tests that build
a pipeline without the real model, index or embedding model."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.answering import SentenceRanker, sentence_text
from bot.answering.grounding import terms
from index.article import Article
from index.retrieval import Hit
from models.backend import Generation


@dataclass
class ScriptedRetriever:
    hits: list[Hit]
    queries: list[str] = field(default_factory=list)

    def search(self, question: str, k: int = 4) -> list[Hit]:
        self.queries.append(question)
        return self.hits[:k]


@dataclass
class ScriptedLLM:
    reply: Callable[[dict[str, Any]], dict[str, Any]]
    name: str = "scripted"
    margins: dict[str, float] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"  # "length": as if the token budget ran out

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
        on_text: Callable[[str], None] | None = None,
        opening_bias: Mapping[str, float] | None = None,
    ) -> Generation:
        assert schema is not None
        call = {"messages": messages, "schema": schema, "opening_bias": dict(opening_bias or {})}
        self.calls.append(call)
        text = json.dumps(self.reply(call))
        if on_text is not None:
            for i in range(0, len(text), 3):
                on_text(text[i : i + 3])
        return Generation(text, 100, 20, 90, 5.0, 50.0, self.finish_reason, dict(self.margins))

    def prime(self, messages: list[dict[str, str]]) -> float:
        return 0.0

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def info(self) -> dict[str, object]:
        return {}

    def close(self) -> None:
        pass


class WordCountEncoder:
    """A stand-in for the embedding model: hashed counts of stemmed content words, L2-normalised,
    so two texts are close in "meaning" exactly as far as they share words."""

    dims = 512

    def _one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dims, dtype=np.float32)
        for word in terms(text):
            vector[zlib.crc32(word.encode()) % self.dims] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self._one(text)


def word_ranker(article: Article) -> SentenceRanker:
    """The pipeline's sentence ranker over ``article``, with the word-count encoder."""
    return SentenceRanker(
        WordCountEncoder(), [sentence_text(article, s) for s in article.sentences]
    )
