"""Retrieval quality on the shipped question set, and the meaning of each score."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import pytest

from index.article import Article
from index.embeddings import Embedder
from index.evaluate import RetrievalQuestion, compare_weights, hit_at_k, load_questions
from index.retrieval import DEFAULT_HYBRID_WEIGHT, Hit, Retriever
from index.store import ArticleIndex


@pytest.fixture(scope="module")
def questions() -> list[RetrievalQuestion]:
    return load_questions()


def test_question_set_covers_every_section(
    questions: list[RetrievalQuestion], article: Article
) -> None:
    assert len(questions) >= 40
    assert {q.section for q in questions} == set(article.labels)
    assert all(q.section in article.labels for q in questions)
    assert len({q.question for q in questions}) == len(questions)
    assert any("published" in q.question for q in questions if q.section == "Introduction")


def test_hit_at_3_on_question_set(
    retriever: Retriever,
    questions: list[RetrievalQuestion],
    record_measure: Callable[[str], None],
) -> None:
    score = hit_at_k(retriever.search, questions, ks=(1, 3))
    record_measure(
        f"retrieval (w={retriever.hybrid_weight}, {score.questions} questions): {score.render()}"
    )
    for miss in score.misses[3]:
        record_measure(f"  miss@3: {miss.question!r} expected {miss.expected}, got {miss.got}")
    assert score.hit_at(3) >= 0.9


def test_hybrid_weights_compared(
    retriever: Retriever,
    questions: list[RetrievalQuestion],
    record_measure: Callable[[str], None],
) -> None:
    results = compare_weights(retriever.search, questions, weights=(0.0, 0.1, 0.2, 0.3, 0.5))
    for w, score in results.items():
        record_measure(f"retrieval w={w}: {score.render()}")
    dense_only = results[0.0]
    # Keywords must earn their place: the default blend is no worse than dense alone.
    default = hit_at_k(retriever.search, questions, ks=(1, 3))
    assert default.hit_at(3) >= dense_only.hit_at(3)
    assert default.hit_at(1) >= dense_only.hit_at(1)


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("when was it published", "Introduction"),
        (
            "Does the writer think the payment company's AI push is really about getting more "
            "users?",
            "III",
        ),
        ("What should payment firms do about the business end (B-end)?", "II"),
        ("Which rivals ate into Alipay's traffic?", "I"),
    ],
)
def test_examples_from_every_kind(retriever: Retriever, question: str, section: str) -> None:
    hits = retriever.search(question, 3)
    assert section in [h.passage.section for h in hits]


def test_publication_date_is_first(retriever: Retriever) -> None:
    for question in ("When was the article published?", "when was it published", "date?"):
        hits = retriever.search(question, 2)
        assert hits[0].passage.id == "Introduction:0", question


def check_hits(hits: list[Hit], retriever: Retriever, embedder: Embedder, question: str) -> None:
    w = retriever.hybrid_weight
    q = embedder.encode_query(question)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    vectors = embedder.encode([h.passage.embed_text for h in hits])
    for h, vector in zip(hits, vectors, strict=True):
        assert h.score == pytest.approx((1 - w) * h.dense + w * h.keyword)
        assert 0.0 <= h.keyword <= 1.0
        assert h.dense == pytest.approx(float(np.dot(vector, q)), abs=1e-3)
    assert len({h.passage.id for h in hits}) == len(hits)


def test_scores_mean_what_they_say(retriever: Retriever, embedder: Embedder) -> None:
    question = "How does Alipay use AI to keep C-end users engaged?"
    hits = retriever.search(question, len(retriever.passages))
    assert len(hits) == len(retriever.passages)  # includes passages found by keywords only
    check_hits(hits, retriever, embedder, question)
    assert max(h.keyword for h in hits) == 1.0


def test_dense_only_ranks_by_cosine(index: ArticleIndex, embedder: Embedder) -> None:
    dense_only = Retriever(index, embedder, hybrid_weight=0.0)
    hits = dense_only.search("digital-physical integration", 6)
    assert [h.dense for h in hits] == sorted((h.dense for h in hits), reverse=True)
    assert all(h.score == pytest.approx(h.dense) for h in hits)
    assert hits[0].passage.section == "II"


def test_off_topic_question_scores_low(
    retriever: Retriever, questions: list[RetrievalQuestion]
) -> None:
    off_topic = [
        "What is the capital of France?",
        "Give me a recipe for chocolate cake.",
        "Who won the football world cup in 2018?",
    ]
    best_off = max(retriever.search(q, 1)[0].dense for q in off_topic)
    best_on = sorted(retriever.search(q.question, 1)[0].dense for q in questions)
    # Dense similarity separates them: the gate in front of the model relies on this.
    assert best_off < 0.25
    assert statistics.median(best_on) > 0.4


def test_k_and_weight_bounds(retriever: Retriever, index: ArticleIndex, embedder: Embedder) -> None:
    assert retriever.search("payments", 0) == []
    assert len(retriever.search("payments", 500)) == len(index.passages)
    with pytest.raises(ValueError, match="hybrid_weight"):
        Retriever(index, embedder, hybrid_weight=1.5)
    assert retriever.hybrid_weight == DEFAULT_HYBRID_WEIGHT


def test_query_latency(
    retriever: Retriever,
    questions: list[RetrievalQuestion],
    record_measure: Callable[[str], None],
) -> None:
    for q in questions[:5]:
        retriever.search(q.question, 4)
    timings = []
    sizes = set()
    for q in questions:
        started = time.perf_counter()
        hits = retriever.search(q.question, 4)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.add(len(hits))
    p50 = statistics.median(timings)
    p90 = float(np.percentile(timings, 90))
    record_measure(f"search latency (warm, k=4): p50 {p50:.1f} ms, p90 {p90:.1f} ms")
    assert sizes == {4}


def test_keyword_promoted_vectors_are_fetched_from_chroma_once(
    index: ArticleIndex, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = Retriever(index, embedder)
    fetched: list[list[str]] = []
    real = index.vectors

    def counting(ids: list[str]) -> dict[str, np.ndarray]:
        fetched.append(list(ids))
        return real(ids)

    monkeypatch.setattr(index, "vectors", counting)
    # k=1 fetches 16 dense candidates of 34 passages: keywords promote some outside them.
    question = "Tencent omni-reality JD supply chain deepseek ByteDance European Championship"
    first = fresh.search(question, 1)
    assert fetched and all(fetched), "the question should promote passages by keyword"
    calls = len(fetched)
    again = fresh.search(question, 1)
    assert len(fetched) == calls
    assert [(h.passage.id, h.score) for h in again] == [(h.passage.id, h.score) for h in first]
    check_hits(fresh.search(question, 6), fresh, embedder, question)
