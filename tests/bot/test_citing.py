"""Choosing the cited sentence with the real embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answering.citing import SentenceRanker
from bot.answering.prompt import sentence_text
from index.article import Article, load_article
from index.embeddings import Embedder


@pytest.fixture(scope="module")
def article() -> Article:
    return load_article()


@pytest.fixture(scope="module")
def ranker(article: Article) -> SentenceRanker:
    return SentenceRanker(Embedder(), [sentence_text(article, s) for s in article.sentences])


def index_of(article: Article, fragment: str) -> int:
    (found,) = [s.index for s in article.sentences if fragment in s.text]
    return found


def test_a_one_word_answer_is_cited_to_the_sentence_the_question_is_about(article, ranker):
    jd = index_of(article, "JD's supply chain FinTech")
    bytedance = index_of(article, "ByteDance laying the groundwork")
    # "JD" alone says little; the question points at the right sentence.
    question = "Whose supply chain FinTech is mentioned in the article?"
    best = ranker.best(question, "JD", [bytedance, jd])
    assert best == jd


def test_the_answer_decides_between_sentences_the_question_fits_equally(article, ranker):
    lose = index_of(article, "lose its previous advantages")
    revert = index_of(article, "inevitably revert to its traffic-centric path")
    question = "What will eventually happen to Alipay?"
    first = "It will lose its previous advantages and miss the next wave of payment innovation."
    second = "It will revert to its traffic-centric path when the AI hype subsides."
    assert ranker.best(question, first, [revert, lose]) == lose
    assert ranker.best(question, second, [lose, revert]) == revert


def test_only_candidates_can_be_chosen(article, ranker):
    jd = index_of(article, "JD's supply chain FinTech")
    others = [i for i in range(len(article.sentences)) if article.sentences[i].section == "I"]
    best = ranker.best("Whose supply chain FinTech is mentioned?", "JD's", others)
    assert best in others and best != jd
    assert ranker.best("anything", "anything", []) is None


def test_scores_are_the_sum_of_two_cosines(article, ranker):
    scores = ranker.scores("Who is Alipay?", "A payment app.", [0, 1, 2])
    assert len(scores) == 3
    assert all(-2.0 <= s <= 2.0 for s in scores)
    assert len(set(np.round(scores, 6))) == 3
