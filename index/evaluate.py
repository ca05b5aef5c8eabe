"""Retrieval quality: hit@k of the right section over a question set.

A question "hits at k" when any of the top ``k`` passages comes from the section that answers it.
The shipped set is ``index/data/retrieval_questions.jsonl``: one ``{"question", "section"}`` per
line, covering every section, many of them paraphrases that share few words with the article.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from index.retrieval import Hit

Search = Callable[[str, int], list[Hit]]


@dataclass(frozen=True)
class RetrievalQuestion:
    question: str
    section: str  # label of the section that answers it


@dataclass(frozen=True)
class Miss:
    question: str
    expected: str
    got: tuple[str, ...]  # sections of the top hits, best first


@dataclass(frozen=True)
class RetrievalScore:
    questions: int
    hits: dict[int, float]  # k -> fraction of questions whose section is in the top k
    misses: dict[int, tuple[Miss, ...]] = field(default_factory=dict)

    def hit_at(self, k: int) -> float:
        return self.hits[k]

    def render(self) -> str:
        return ", ".join(f"hit@{k} {v:.3f}" for k, v in sorted(self.hits.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            **{f"hit@{k}": round(v, 4) for k, v in sorted(self.hits.items())},
        }


def load_questions(path: Path | str | None = None) -> list[RetrievalQuestion]:
    """Read a JSONL question set; ``None`` reads the one shipped with the package."""
    if path is None:
        text = resources.files("index").joinpath("data/retrieval_questions.jsonl").read_text()
        source = "index/data/retrieval_questions.jsonl"
    else:
        source = str(path)
        text = Path(path).read_text(encoding="utf-8")
    questions = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(RetrievalQuestion(str(row["question"]), str(row["section"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f'{source}:{n}: expected {{"question": ..., "section": ...}} ({exc})'
            ) from None
    return questions


def hit_at_k(
    search: Search, questions: Iterable[RetrievalQuestion], ks: Sequence[int] = (1, 3)
) -> RetrievalScore:
    """hit@k for each k in ``ks``; ``search(question, k)`` returns hits best first."""
    if not ks or min(ks) < 1:
        raise ValueError(f"ks={list(ks)}: need at least one k >= 1")
    deepest = max(ks)
    counts = dict.fromkeys(ks, 0)
    misses: dict[int, list[Miss]] = {k: [] for k in ks}
    total = 0
    for q in questions:
        total += 1
        sections = tuple(h.passage.section for h in search(q.question, deepest))
        for k in ks:
            if q.section in sections[:k]:
                counts[k] += 1
            else:
                misses[k].append(Miss(q.question, q.section, sections[:k]))
    if total == 0:
        raise ValueError("no questions to evaluate")
    return RetrievalScore(
        questions=total,
        hits={k: counts[k] / total for k in ks},
        misses={k: tuple(m) for k, m in misses.items()},
    )


def compare_weights(
    search: Callable[[str, int, float], list[Hit]],
    questions: Sequence[RetrievalQuestion],
    weights: Sequence[float] = (0.0, 0.2, 0.3, 0.5),
    ks: Sequence[int] = (1, 3),
) -> dict[float, RetrievalScore]:
    """hit@k per hybrid weight; ``search(question, k, weight)`` (e.g. ``Retriever.search``)."""

    def at_weight(w: float) -> Search:
        return lambda question, k: search(question, k, w)

    return {w: hit_at_k(at_weight(w), questions, ks) for w in weights}
