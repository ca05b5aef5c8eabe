"""BM25 keyword scoring and its tokenizer."""

from __future__ import annotations

import pytest

from index.keywords import BM25, tokenize


def test_tokenize() -> None:
    assert tokenize("The payments were embracing B-end markets!") == [
        "payment",
        "embrac",
        "b-end",
        "end",
        "market",
    ]
    assert tokenize("Alipay's AI") == ["alipay", "ai"]
    assert tokenize("the and of") == []


def test_bm25_ranks_matching_documents_first() -> None:
    docs = [
        "Alipay builds a super app for payments.",
        "Tencent invests in artificial intelligence and AI models.",
        "JD integrates its supply chain with finance.",
    ]
    bm25 = BM25(docs)
    scores = bm25.scores("Which company invests in AI?")
    assert scores.index(max(scores)) == 1
    assert scores[0] == 0.0 and scores[2] == 0.0
    norm = bm25.normalised_scores("supply chain finance")
    assert norm[2] == 1.0 and all(0.0 <= s <= 1.0 for s in norm)
    assert bm25.normalised_scores("chocolate cake") == [0.0, 0.0, 0.0]


def test_rare_terms_weigh_more() -> None:
    docs = ["payment payment apps", "payment apps", "payment deepseek"]
    bm25 = BM25(docs)
    scores = bm25.scores("payment deepseek")
    assert scores[2] > scores[0] and scores[2] > scores[1]


def test_longer_documents_are_damped() -> None:
    bm25 = BM25(["traffic", "traffic " + "filler words here " * 20])
    short, long = bm25.scores("traffic")
    assert short > long > 0


def test_empty_corpus() -> None:
    assert BM25([]).scores("anything") == []
    assert BM25([]).normalised_scores("anything") == []


@pytest.mark.parametrize("query", ["", "   ", "?!"])
def test_empty_queries_score_zero(query: str) -> None:
    assert BM25(["some text here"]).normalised_scores(query) == [0.0]
