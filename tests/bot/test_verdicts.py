"""The verdict a yes/no answer opens with, read against its sentence."""

from __future__ import annotations

from bot.answering.verdicts import implied_verdict, restated_verdict, set_against

FIRE = (
    "The fire destroyed 23 of the 46 boiling houses and the guild's warehouse on the quay, but it "
    "spared the hall, which was built of stone."
)


def test_a_yes_joining_what_a_contrast_keeps_apart_is_seen() -> None:
    assert set_against("Did the fire of 1587 destroy the guild's hall?", FIRE)
    # Everything the question asks stands on one side of the "but".
    assert not set_against("Did the fire destroy the guild's warehouse?", FIRE)
    women = "Women could own pans, but after 1460 they could not hold office."
    assert not set_against("Could women own pans?", women)
    assert not set_against("Did the fire destroy the hall?", "The fire destroyed the hall.")


def test_an_answer_without_a_verdict_states_one_by_restating_the_question() -> None:
    question = "Was the priory allowed to keep its pans at Hallam Ness?"
    assert implied_verdict("The priory could keep its pans but must sell its salt.", question) == (
        "Yes"
    )
    assert implied_verdict("The priory could not keep its pans at Hallam Ness.", question) == "No"
    # Already opened, too little of the question, or a negative question: left alone.
    assert implied_verdict("Yes, it could keep them.", question) is None
    assert implied_verdict("The tribunal met in 1420.", question) is None
    assert (
        implied_verdict("It kept its pans.", "Wasn't the priory allowed to keep its pans?") is None
    )


def test_a_sentence_restating_nearly_all_of_a_question_answers_it_by_its_polarity() -> None:
    question = "Will the mobile payment market stay the same when the dream awakens?"
    sentence = "When the dream awakens, the mobile payment market may no longer be the same."
    assert restated_verdict(question, sentence) == "No"
    assert (
        restated_verdict(
            question, "When the dream awakens, the mobile payment market will stay the same."
        )
        == "Yes"
    )
    # "no exaggeration" affirms; too little restated, or a negative question: no verdict.
    assert (
        restated_verdict(
            "Does Acme reign supreme in payments?",
            "It's no exaggeration to say that Acme reigns supreme in payments.",
        )
        == "Yes"
    )
    assert restated_verdict(question, "The dream is grandiose.") is None
    assert restated_verdict("Won't the market stay the same?", sentence) is None
