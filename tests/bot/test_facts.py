"""The claims check: names and figures of an answer against the sentence it is cited to."""

from __future__ import annotations

import pytest

from bot.answering.facts import (
    bare_names,
    claims,
    completed_at_quote,
    counts_other,
    figures_in,
    figures_missing,
    full_names,
    is_yes_no_question,
    misattributed,
    names_missing,
    stands_for,
    tidy,
    unsupported_claims,
    whole_sentences,
)
from bot.answering.grounding import support

KNOWN = ["tencent", "alibaba", "bytedance", "alipay"]
ENUMERATION = (
    "Against this backdrop, we see Tencent fully embracing deepseek, Alibaba investing heavily in "
    "AI, and ByteDance laying the groundwork in AI."
)
TWO_COMPANIES = (
    "The burgeoning demand for mobile payments flooded Alipay with traffic, and Alibaba's "
    "extensive ecosystem provided a continuous stream of users."
)


def test_names_are_capitalised_words_not_opening_a_sentence() -> None:
    found = claims("However, the bank relied on Northwind's ledger. Later it grew.")
    assert found.names == ("northwind",)


def test_the_article_opening_a_title_is_no_name() -> None:
    known = claims("He wrote to the journal The Optical Review.").names
    assert known == ("optical", "review")
    assert claims('Yes. The article says: "It was."', known).names == ()


def test_an_opening_word_is_a_name_when_known_or_written_with_an_inner_capital() -> None:
    assert claims("Tencent grew. WeChat grew. Growth slowed.", KNOWN).names == (
        "tencent",
        "wechat",
    )


def test_figures_are_normalised() -> None:
    assert claims("In 2025 it had 03 branches.").figures == ("2025", "3")


def test_a_name_the_sentence_lacks_is_unsupported() -> None:
    assert (
        unsupported_claims("ByteDance embraced deepseek.", [ENUMERATION], known_names=KNOWN) == []
    )
    found = unsupported_claims("Meituan embraced deepseek.", [ENUMERATION], known_names=["meituan"])
    assert found == ["meituan"]
    # A name opening the answer that the article never uses is left to the support check.
    assert unsupported_claims("Meituan embraced deepseek.", [ENUMERATION]) == []


def test_a_figure_the_sentence_lacks_is_unsupported() -> None:
    assert unsupported_claims("It was founded in 2004.", ["It was founded long ago."]) == ["2004"]


def test_the_question_lends_its_names_only_to_a_sentence_that_names_nobody() -> None:
    assert (
        unsupported_claims(
            "Alipay launched an assistant.",
            ["It launched an assistant."],
            also_allowed="What did Alipay launch?",
        )
        == []
    )
    assert unsupported_claims(
        "Alipay launched an assistant.",
        ["Tencent launched an assistant."],
        known_names=KNOWN,
        also_allowed="What did Alipay launch?",
    ) == ["alipay"]


def test_a_deed_given_to_another_name_of_the_sentence_is_misattributed() -> None:
    wrong = misattributed("ByteDance fully embraced deepseek.", ENUMERATION, known_names=KNOWN)
    assert "bytedance: deepseek" in wrong
    assert misattributed("Tencent embraced deepseek.", ENUMERATION, known_names=KNOWN) == []


def test_a_possession_given_to_the_wrong_company_is_misattributed() -> None:
    wrong = misattributed("Alipay's ecosystem provides users.", TWO_COMPANIES, known_names=KNOWN)
    assert "alipay: ecosystem" in wrong
    right = "Alibaba's ecosystem provided a continuous stream of users."
    assert misattributed(right, TWO_COMPANIES, known_names=KNOWN) == []


def test_an_answer_naming_both_holders_of_a_clause_is_not_misattributed() -> None:
    source = "Alipay cemented its position in the market, supported by Alibaba's vast ecosystem."
    answer = "Alipay was supported by Alibaba's ecosystem."
    assert misattributed(answer, source, known_names=KNOWN) == []


def test_words_the_source_gives_to_nobody_are_free() -> None:
    source = "Its content creation and social networking attempts are manifestations of this."
    assert misattributed("Alipay's social networking attempts.", source, known_names=KNOWN) == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Does the bank explore integration?", True),
        ("Is competition still traditional?", True),
        ("Should apps target consumers or businesses?", False),
        ("What does the bank explore?", False),
        ("Why did it fail?", False),
    ],
)
def test_yes_no_questions(question: str, expected: bool) -> None:
    assert is_yes_no_question(question) is expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("challenges and challenges", "challenges"),
        ("Alibaba, Alibaba and ByteDance", "Alibaba and ByteDance"),
        ('It grew."}', "It grew."),
        ("The mill grew fast.", "The mill grew fast."),
        ("It had had enough of the the river", "It had enough of the river"),
        (
            "A furnace set fire to the stores. A furnace set fire to the stores. It burned.",
            "A furnace set fire to the stores. It burned.",
        ),
        ("It grew. It grew.", "It grew. It grew."),
    ],
)
def test_tidy_removes_repeats_and_json_leftovers(raw: str, clean: str) -> None:
    assert tidy(raw) == clean


def test_tidy_keeps_a_quote_the_answer_closes_itself() -> None:
    quoted = 'What the article says: "It grew."'
    assert tidy(quoted) == quoted
    assert tidy(quoted + '"}') == quoted


def test_an_answer_of_names_only() -> None:
    assert bare_names("ByteDance", KNOWN) == ["bytedance"]
    assert bare_names("Tencent and Alibaba.", KNOWN) == ["tencent", "alibaba"]
    assert bare_names("Alipay views AI as a tool.", KNOWN) == []


def test_a_name_answers_only_where_its_clause_holds_what_is_asked() -> None:
    assert not stands_for(["bytedance"], "What did Tencent invest heavily in?", ENUMERATION)
    assert stands_for(["alibaba"], "Who invested heavily in AI?", ENUMERATION)
    assert stands_for(["tencent"], "Who embraced deepseek fully?", ENUMERATION)


def test_an_appositive_name_stands_with_the_clause_before_it() -> None:
    source = (
        "Nobody was on the causeway that night because the keeper, Samuel Orde, had rung the "
        "bell early and closed the gates."
    )
    assert stands_for(["samuel", "orde"], "Who was the keeper that night?", source)


def test_a_name_set_off_alone_stands_with_the_clause_after_it() -> None:
    source = (
        "A smaller part went by sea to the herring ports of the north, chiefly Arnholm, "
        "where the guild kept a warehouse from 1488."
    )
    question = "In which herring port did the guild keep a warehouse?"
    assert stands_for(["arnholm"], question, source)
    # A name with a clause of its own answers only for what that clause says.
    enumeration = (
        "Initech embraced deepseek, Globex invested heavily in AI, and Umbrella laid rails."
    )
    assert not stands_for(["umbrella"], "Who invested heavily in AI?", enumeration)


def test_a_new_name_for_what_the_clause_before_ends_with_stands_with_that_clause() -> None:
    source = "The prize is still awarded by the school, later known as Wexcombe Grammar."
    question = "What is the former Free School called today?"
    assert stands_for(["wexcombe", "grammar"], question, source)
    # Another name after a comma, with a deed of its own, does not.
    other = "The prize is awarded by the school, and Wexcombe Grammar hosts the prize-giving."
    assert not stands_for(["wexcombe", "grammar"], question, other)


def test_a_name_stands_with_the_relative_clause_after_it() -> None:
    source = (
        "He was apprenticed at fourteen to the voicer Samuel Prentiss, under whom he learned "
        "pipe-making."
    )
    question = "Under whom did Tobias learn to make organ pipes?"
    assert stands_for(["samuel", "prentiss"], question, source, known_names=["tobias"])
    assert not stands_for(["samuel", "prentiss"], question, source.replace("under whom", "and"))


def test_figures_match_in_words_or_digits() -> None:
    assert figures_in("It is two miles and 03 carts.") == {"2", "3"}
    assert unsupported_claims("It is 2 miles.", ["It is two miles long."]) == []
    assert figures_in("It lay forty-two miles away.") == {"42"}
    assert unsupported_claims("It is 42 miles away.", ["It lay forty-two miles away."]) == []
    assert support("forty-two miles", ["It is 42 miles away."]).ratio == 1.0


def test_figures_missing_from_every_source_are_listed_once() -> None:
    sources = ["It had 03 carts.", "Two miles of it opened."]
    assert figures_missing("In 2025, 3 carts ran 2 miles; 2025 again.", sources) == ["2025"]
    assert figures_missing("No figure at all.", []) == []


def test_a_full_name_stands_for_the_surname_its_sentence_uses() -> None:
    article = "The council hired the engineer Tobias Venn. Venn changed the design in 1892."
    names = full_names(article)
    source = ["Venn changed the design in 1892."]
    answer = "The engineer Tobias Venn changed the design in 1892."
    assert unsupported_claims(answer, source, article_names=names) == []
    # Without the article's full name, "Tobias" is a name the sentence lacks.
    assert unsupported_claims(answer, source) == ["tobias"]
    # A first name joined to another person's surname is no name the article uses.
    assert unsupported_claims("It was Agnes Venn.", source, article_names=names) == ["agnes"]


def test_a_broken_last_sentence_goes_when_a_whole_one_comes_before_it() -> None:
    assert whole_sentences("It grew. It then leveraged its platform and") == "It grew."
    assert whole_sentences("It grew. It shrank.") == "It grew. It shrank."
    assert whole_sentences("It grew and") == "It grew and"


def test_an_answer_cut_at_a_quoted_phrase_it_copies_gets_the_rest_of_its_sentence() -> None:
    sentences = [
        'The neglect of integration plunges Globex into a new "grandiose dream."',
        "Globex is a platform.",
    ]
    cut = "The neglect of integration plunges Globex into a new"
    assert completed_at_quote(cut, sentences) == sentences[0]
    assert completed_at_quote("It plunges Globex into a new", sentences) == (
        'It plunges Globex into a new "grandiose dream."'
    )
    # Whole, not copied, or not stopped at a quote: unchanged.
    assert completed_at_quote("Globex is a platform.", sentences) == "Globex is a platform."
    assert completed_at_quote("Globex chases a new dream", sentences) == "Globex chases a new dream"
    assert completed_at_quote("The neglect of integration plunges", sentences) == (
        "The neglect of integration plunges"
    )


def test_a_passive_deed_and_a_title_stand_for_the_name_that_follows_them() -> None:
    paid = "The fee was paid not by his father, whose shop was failing, but by his aunt Vera Lusk."
    assert stands_for(["vera", "lusk"], "Who paid the fee?", paid, known_names=["vera", "lusk"])
    book = "The only biography, The Quiet Kiln by Anna Fay, appeared in 1950."
    known = ["quiet", "kiln", "anna", "fay"]
    assert stands_for(["anna", "fay"], "Who wrote The Quiet Kiln?", book, known_names=known)
    # Neither the deed nor the question's own name beside the answer's: no answer.
    other = "The critic Anna Fay later praised its glaze."
    assert not stands_for(["anna", "fay"], "Who built The Quiet Kiln?", other, known_names=known)


@pytest.mark.parametrize(
    ("answer", "question", "source", "other"),
    [
        ("68", "How many organs did the firm build?", "an organ of 68 stops for the hall.", True),
        (
            "The guild kept trains of thirty to fifty animals",
            "How many horses did the guild own?",
            "The guild kept packhorse trains of thirty to fifty animals.",
            True,
        ),
        (
            "312 sworn members",
            "How many sworn members did it have?",
            "It had 312 sworn members.",
            False,
        ),
        (
            "312",
            "How many pairs of stars are listed?",
            "It lists 312 pairs of double stars.",
            False,
        ),
        ("71", "How many of its members died?", "The plague killed 71 of its members.", False),
        ("1,800", "How many people attended?", "before an audience said to number 1,800.", False),
        ("Seven", "By how many votes did it pass?", "It passed by seven votes to four.", False),
        ("68", "What did the organ cost?", "an organ of 68 stops for the hall.", False),
    ],
)
def test_a_count_must_count_what_the_question_asks_about(answer, question, source, other):
    assert counts_other(answer, question, source) is other


def test_names_that_describe_the_one_asked_for_need_not_be_in_the_sentence() -> None:
    sentence = "In 1846 Tobias Corvane hired the Bohemian glassblower Anton Reisz."
    assert (
        names_missing("Which Central European craftsman did Tobias Corvane hire?", sentence) == []
    )
    assert names_missing("What French glassblower did Tobias Corvane hire?", sentence) == []
    # Whom the question is about must still be there.
    assert names_missing("Whom did Samuel Flett hire in 1846?", sentence) == ["Samuel Flett"]
