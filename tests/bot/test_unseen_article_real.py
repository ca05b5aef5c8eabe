"""The sixth article with the real index, embedding model and GGUF model: questions built to look
answerable are refused with what the article does not say, and the paraphrased ones it does answer
are answered with their fact, every quote verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each asks for something the article does not give: a father where it gives a nephew, a second
# volume of three, a span where it gives a year, a reason it says is not explained, and a share
# of costs it gives for another building.
ALMOST = [
    "Who was Julian Harrow's father?",
    "In which year was the second volume of the Tarrowmere Catalogue published?",
    "How long did Per Lindqvist take to re-grind the lens?",
    "Why was the Jupiter programme stopped in 1939?",
    "What share of the 1955 running costs went on the Meridian House?",
]
# Answerable in other words than the article's ("612-metre", "cistern … no spring", "40 percent").
ANSWERABLE = [
    ("How high is Callow Pike?", "612"),
    ("Why did the hilltop site have to store its water in an underground tank?", "spring"),
    ("What share of the double-star readings did Clara Fenwick take herself?", "40"),
]


@pytest.mark.slow
def test_the_observatory_questions_are_refused_or_answered_with_their_fact(tmp_path: Path) -> None:
    from bot.settings import load_settings
    from bot.wiring import build_answerer, resolve_model_path

    settings = load_settings()
    pipeline = build_answerer(
        load_settings(
            article_path=ROOT / "index" / "data" / "tarrowmere.md",
            data_dir=tmp_path / "data",
            model_path=resolve_model_path(settings),
        ),
        # A fresh data dir: saving the openings would cost a minute and buy only speed.
        openings="off",
    )
    article = pipeline.article
    refused = 0
    for question in ALMOST:
        answer = pipeline.answer(question)
        for c in answer.citations:
            assert article.text[c.start : c.end] == c.quote
        if answer.refused:
            refused += 1
            assert answer.text.startswith("The article doesn't"), answer.text
    answered = 0
    for question, fact in ANSWERABLE:
        answer = pipeline.answer(question)
        for c in answer.citations:
            assert article.text[c.start : c.end] == c.quote
        if not answer.refused and fact in answer.text:
            answered += 1
            assert answer.citations, answer.text
    # Measured: all five refused and all three answered. A floor of one less each leaves room
    # for another CPU's rounding to tip one greedy choice, not for a check to stop working.
    assert refused >= len(ALMOST) - 1
    assert answered >= len(ANSWERABLE) - 1
