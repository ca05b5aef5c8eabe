"""Which family tie a question asks about, and whether a sentence gives that tie or another."""

from __future__ import annotations

import pytest

from bot.answering.kinship import asked_tie, gives_other_tie, not_said


@pytest.mark.parametrize(
    ("question", "tie"),
    [
        ("Who was Julian Harrow's father?", "father"),
        ("Whom did his sons marry?", "son"),
        ("Who was the brother-in-law of the mayor?", "brother-in-law"),
        ("Who was the son of Edmund's brother?", None),  # two ties: not judged
        ("Who succeeded Edmund Harrow?", None),
    ],
)
def test_the_tie_a_question_asks_about(question: str, tie: str | None) -> None:
    assert asked_tie(question) == tie


def test_a_sentence_gives_the_tie_itself_its_other_side_or_none() -> None:
    nephew = ["Fenwick was followed by Julian Harrow, Edmund's nephew."]
    assert gives_other_tie("father", nephew)
    assert not gives_other_tie("uncle", nephew)  # a nephew's uncle is the same tie
    assert not gives_other_tie("nephew", nephew)
    assert not gives_other_tie("wife", ["Control passed to his widow, Edith."])
    assert not gives_other_tie("father", ["He was succeeded in 1898."])  # names no tie
    assert gives_other_tie("mother", ["He was apprenticed to his father Samuel."])


def test_the_refusal_names_whose_tie_is_not_given() -> None:
    assert (
        not_said("Who was Julian Harrow's father?", "father")
        == "The article doesn't say who Julian Harrow's father was."
    )
    assert (
        not_said("Who was Clara Fenwick's older sister?", "sister")
        == "The article doesn't say who Clara Fenwick's older sister was."
    )
    assert not_said("Who was the father?", "father") == "The article doesn't say who that was."
