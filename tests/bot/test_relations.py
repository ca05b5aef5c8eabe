"""Which side of a deed a question puts its name on, and which side the article puts it on."""

from __future__ import annotations

import pytest

from bot.answering.relations import Relation, asked_relation, reversed_in, roles

SALT_CELLAR = "Its most valuable object is a silver salt cellar that Roger Tamsin gave the guild."
WIDOW = (
    "Their first warden was a widow, Marget Ashby, who owned six pans and who lent the "
    "fraternity the money to dig the well."
)
FEALTY = "In return, the earls swore fealty to King Osric at Dunhallow."
SALE = "The last Master, Samuel Greaves, sold the remaining pans to the Marland Salt Company."
TOLL = "The toll at Coldbeck Bridge, charged by the Lords of Ravensholt, was a heavy expense."


@pytest.mark.parametrize(
    ("question", "relation"),
    [
        (
            "Who gave Roger Tamsin a salt cellar?",
            Relation("give", frozenset({"roger", "tamsin"}), "object"),
        ),
        ("Who sold the larch to Lord Fenwick?", Relation("sell", frozenset({"fenwick"}), "object")),
        (
            "Whom did King Osric swear fealty to?",
            Relation("swear", frozenset({"osric"}), "subject"),
        ),
        (
            "To whom did Samuel Greaves sell the pans?",
            Relation("sell", frozenset({"samuel", "greaves"}), "subject"),
        ),
        ("Which company bought Globex?", Relation("buy", frozenset({"globex"}), "object")),
        (
            "Who was excommunicated by Prior Anselm?",
            Relation("excommunicat", frozenset({"anselm"}), "subject"),
        ),
    ],
)
def test_the_deed_and_the_side_a_question_names(question: str, relation: Relation) -> None:
    assert asked_relation(question) == relation


@pytest.mark.parametrize(
    "question",
    [
        "Who charged the toll at Coldbeck Bridge?",  # a place, not the deed's object
        "Who expelled Thomas Reddish's son?",  # the son is the object
        "Whom did Agnes Marrow marry?",  # a deed that runs both ways
        "Who was the first warden?",
        "Why did Acme sell the mill?",
        "What does the author say about Acme?",
    ],
)
def test_questions_not_read_as_one_named_side_of_a_deed(question: str) -> None:
    assert asked_relation(question) is None


def test_the_side_a_sentence_puts_a_name_on() -> None:
    give = Relation("give", frozenset({"tamsin"}), "object")
    assert roles(give, SALT_CELLAR) == {"subject"}
    lend = Relation("lend", frozenset({"ashby"}), "object")
    assert roles(lend, WIDOW) == {"subject"}
    swear = Relation("swear", frozenset({"osric"}), "subject")
    assert roles(swear, FEALTY) == {"object"}
    charge = Relation("charg", frozenset({"ravensholt"}), "object")
    assert roles(charge, TOLL) == {"subject"}  # "charged by the Lords of Ravensholt"
    assert roles(give, "The guild kept its accounts in her house.") == set()
    # Someone of the name's did it: the sentence cannot be read either way.
    assert roles(give, "Roger Tamsin's nephew gave the guild a cellar.") is None


def test_a_question_is_turned_round_only_when_every_sentence_with_its_deed_is() -> None:
    article = [SALT_CELLAR, WIDOW, FEALTY, SALE]
    assert reversed_in("Who gave Roger Tamsin a silver salt cellar?", article) == 0
    assert reversed_in("Who lent Marget Ashby the money?", article) == 1
    assert reversed_in("Whom did King Osric swear fealty to?", article) == 2
    assert reversed_in("Who sold the remaining pans to Samuel Greaves?", article) == 3
    # Asked the article's way round.
    assert reversed_in("Who swore fealty to King Osric?", article) is None
    assert reversed_in("To whom did Samuel Greaves sell the remaining pans?", article) is None
    assert reversed_in("What did Roger Tamsin give the guild?", article) is None
    # One sentence the question's way round is enough.
    both = [*article, "In 1420 the prior gave Roger Tamsin a cellar of his own."]
    assert reversed_in("Who gave Roger Tamsin a silver salt cellar?", both) is None
    # No sentence holds the name beside the deed: for the other checks to judge.
    assert reversed_in("Who gave Marget Ashby a cellar?", article) is None


def test_a_deed_told_from_the_other_end_swaps_its_sides() -> None:
    larch = "The timber was larch, cut on the estate of Lord Fenwick, who sold it to the council."
    # Fenwick sold it: he was paid, he did not pay, and the council bought it from him.
    assert reversed_in("How much did Lord Fenwick pay the council for the larch?", [larch]) == 0
    assert reversed_in("Who bought the larch from Lord Fenwick?", [larch]) is None
    assert reversed_in("Who paid Lord Fenwick for the larch?", [larch]) is None
    assert asked_relation("How many pans did Samuel Greaves sell?") == Relation(
        "sell", frozenset({"samuel", "greaves"}), "subject"
    )


def test_a_place_beside_the_name_and_a_noun_like_the_verb_are_read_as_such() -> None:
    abbey = (
        "Its best customer was the Abbey of St Ione at Brenford, which bought about 600 bushels "
        "a year."
    )
    # The abbey bought: it did not sell.
    assert reversed_in("What did the Abbey of St Ione sell to the guild?", [abbey]) == 0
    canal = "The opening of the Marland Navigation in 1702 brought that salt to Brenford."
    assert reversed_in("In what year did the Marland Navigation open?", [canal]) is None
    road = "The Kellwick causeway is a raised road; the causeway links the town to the island."
    assert asked_relation("What does the Kellwick causeway connect?") is None
    assert reversed_in("What does the Kellwick causeway connect?", [road]) is None


def test_a_possessive_name_is_not_the_deeds_side() -> None:
    assert asked_relation("What did Agnes Marrow's brother sell to the council?") is None


def test_a_reversed_deed_must_be_about_the_same_matter() -> None:
    kept = ["Brell lent her two books, which Marchetti kept until her death."]
    # Marchetti keeps the books; what kept her from a journey is another keeping.
    assert reversed_in("What kept Marchetti from joining the voyage to Sicily?", kept) is None
    lent = ["Marchetti lent Brell two books on glass."]
    assert reversed_in("Who lent Marchetti two books on glass?", lent) == 0
