"""hit@k bookkeeping and question-set loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.evaluate import RetrievalQuestion, compare_weights, hit_at_k, load_questions
from index.passages import Passage
from index.retrieval import Hit


def _hit(section: str) -> Hit:
    passage = Passage(f"{section}:0", section, 0, 1, "x", (0,), "x")
    return Hit(passage=passage, score=1.0, dense=1.0, keyword=0.0)


RANKINGS = {
    "first": ["A", "B", "C"],
    "third": ["B", "C", "A"],
    "never": ["B", "C", "B"],
}


def fixed_search(question: str, k: int) -> list[Hit]:
    return [_hit(s) for s in RANKINGS[question][:k]]


def test_hit_at_k_counts() -> None:
    questions = [RetrievalQuestion(q, "A") for q in RANKINGS]
    score = hit_at_k(fixed_search, questions, ks=(1, 2, 3))
    assert score.questions == 3
    assert score.hits == {1: pytest.approx(1 / 3), 2: pytest.approx(1 / 3), 3: pytest.approx(2 / 3)}
    assert [m.question for m in score.misses[3]] == ["never"]
    assert score.misses[3][0].got == ("B", "C", "B")
    assert score.render() == "hit@1 0.333, hit@2 0.333, hit@3 0.667"
    assert score.to_json()["hit@3"] == pytest.approx(0.6667)


def test_hit_at_k_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="no questions"):
        hit_at_k(fixed_search, [], ks=(1,))
    with pytest.raises(ValueError, match="k >= 1"):
        hit_at_k(fixed_search, [RetrievalQuestion("first", "A")], ks=(0,))


def test_compare_weights_passes_the_weight() -> None:
    seen: list[float] = []

    def search(question: str, k: int, w: float) -> list[Hit]:
        seen.append(w)
        return [_hit("A" if w > 0.2 else "B")]

    results = compare_weights(search, [RetrievalQuestion("q", "A")], weights=(0.0, 0.5), ks=(1,))
    assert results[0.0].hit_at(1) == 0.0 and results[0.5].hit_at(1) == 1.0
    assert seen == [0.0, 0.5]


def test_load_questions_from_file(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"question": "Why?", "section": "II"}\n\n{"question": "How?", "section": "I"}\n'
    )
    assert load_questions(path) == [RetrievalQuestion("Why?", "II"), RetrievalQuestion("How?", "I")]
    path.write_text('{"question": "Why?"}\n')
    with pytest.raises(ValueError, match=r"q\.jsonl:1"):
        load_questions(path)


def test_shipped_questions_load() -> None:
    questions = load_questions()
    assert len(questions) >= 40
    assert all(q.question.strip() and q.section for q in questions)
