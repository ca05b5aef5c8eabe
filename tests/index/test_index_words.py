"""The one stemmer and stopword list that retrieval and the answer checks share."""

from __future__ import annotations

import pytest

from bot.answering import grounding
from index import keywords
from index.words import STOPWORDS, stem


@pytest.mark.parametrize(
    "forms",
    [
        ("payment", "payments"),
        ("company", "companies"),
        ("serve", "serves", "served", "serving"),
        ("change", "changed", "changes", "changing"),
        ("challenge", "challenged", "challenges"),
        ("business", "businesses"),
        ("launch", "launched", "launching"),
        ("sell", "sold", "sells", "selling"),
        ("pay", "paid", "pays"),
        ("die", "died", "dies", "dying"),
        ("begin", "began", "begun"),
        # British and American spellings
        ("metre", "metres", "meter", "meters"),
        ("programme", "programmes", "program"),
        ("colour", "colours", "color"),
        ("organised", "organized"),
        ("catalogue", "catalog"),
        ("travelled", "traveled"),
    ],
)
def test_the_forms_of_a_word_meet(forms: tuple[str, ...]) -> None:
    assert len({stem(w) for w in forms}) == 1, {w: stem(w) for w in forms}


@pytest.mark.parametrize(
    "word", ["found", "left", "business", "class", "strategy", "data", "ai", "2025", "b-end"]
)
def test_words_without_a_suffix_stay(word: str) -> None:
    assert stem(word) == word


def test_retrieval_and_the_answer_checks_use_the_same_words() -> None:
    assert grounding.stem is stem and grounding.STOPWORDS is STOPWORDS
    assert keywords.tokenize("the author says payments serve") == ["payment", "serv"]
    assert grounding.content_words("the author says payments serve") == ["payments", "serve"]


def test_a_noun_meets_its_verb_where_their_forms_differ() -> None:
    assert stem("loan") == stem("lent") == "lend"
    assert stem("birth") == stem("born") and stem("death") == stem("died")
    assert stem("married") == stem("marry") == stem("marriage")
    assert stem("carried") == "carry"
