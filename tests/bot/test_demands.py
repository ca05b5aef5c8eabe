"""What a question asks for, and whether a sentence holds it."""

from __future__ import annotations

import pytest

from bot.answering.demands import Demand, demands, met


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("How many labourers died?", ["figure"]),
        ("What is the bank's market share?", ["figure"]),
        ("In what year was the bell hung?", ["date"]),
        ("When did the ferry stop running?", ["date"]),
        ("Which is the longest span?", ["superlative"]),
        ("Which app has the most users?", ["superlative"]),
        ("Who was the second honorary member?", ["ordinal"]),
        ("When did he first sail?", ["date"]),
        ("What does the author suggest about interest rates?", []),
        ("When will the hype fade?", []),
        ("Why did the council vote for it?", []),
    ],
)
def test_what_a_question_asks_for(question: str, kinds: list[str]) -> None:
    assert [d.kind for d in demands(question)] == kinds


def test_a_figure_is_met_by_digits_or_number_words_the_question_does_not_give() -> None:
    figure = Demand("figure")
    assert met(figure, "Three labourers died.")
    assert met(figure, "It cost 2,000 pounds.")
    assert not met(figure, "Many labourers died.")
    assert met(figure, "The market town lay forty-two miles away.")
    assert not met(
        figure, "During the 1933 rebuilding, labourers died.", "during the 1933 rebuilding"
    )


def test_a_date_is_met_by_a_year_or_a_month() -> None:
    date = Demand("date")
    assert met(date, "The bell was hung in 1896.")
    assert met(date, "It opened in March.")
    assert not met(date, "Once the competition concluded, it grew.")


def test_a_superlative_must_be_stated() -> None:
    assert met(Demand("superlative", "longest"), "The longest span measured ninety feet.")
    assert not met(Demand("superlative", "longest"), "The span measured ninety feet.")
    assert met(Demand("superlative", "most users"), "It has the most users.")


def test_a_superlative_the_question_gives_is_met_by_the_sentence_that_states_it() -> None:
    question = "Who was the guild's best customer?"
    [best] = demands(question)
    assert met(best, "The guild's best customer was the abbey.", question)
    assert not met(best, "The guild's largest customer was the abbey.", question)


def test_unmet_demands_say_what_the_article_does_not() -> None:
    assert Demand("date").unmet() == "The article doesn't say when."
    assert "largest" in Demand("superlative", "largest").unmet()


def test_a_question_asking_for_an_exception_needs_a_sentence_with_a_negation() -> None:
    question = "Which port did the guild not keep a warehouse in?"
    assert Demand("negation") in demands(question)
    [negation] = [d for d in demands(question) if d.kind == "negation"]
    assert not met(negation, "The guild kept a warehouse in Arnholm.", question)
    assert met(negation, "The guild never kept a warehouse in Tarrow.", question)
    assert met(negation, "It didn't keep one in Tarrow.", question)
    assert negation.unmet() == "The article doesn't say that."


def test_a_not_in_a_reported_clause_asks_for_no_exception() -> None:
    question = "How did the guild show that it had not broken the charter?"
    assert all(d.kind != "negation" for d in demands(question))


def test_only_a_wh_question_asks_for_an_exception() -> None:
    # A yes/no question with "not" asks whether, and is answered yes or no.
    assert not any(d.kind == "negation" for d in demands("Did the guild not keep a warehouse?"))
    assert not any(d.kind == "negation" for d in demands("Which port did the guild use?"))


def test_an_amount_is_not_met_by_a_year_that_dates_something() -> None:
    question = "How much did the council pay for the hall in 1922?"
    [amount] = demands(question)
    assert amount == Demand("figure", "money") and amount.amount
    assert not met(amount, "The council bought the hall in 1922 and opened it in 1929.", question)
    assert not met(amount, "It burned on 9 March 1587, between 1585 and 1590.", question)
    assert met(amount, "The council paid 140 pounds for the hall in 1922.", question)
    assert met(amount, "It paid half its price.", question)
    # "How long" may be answered with years.
    [span] = demands("How long did Pellam hold the office?")
    assert span == Demand("figure") and met(span, "He held it from 1531 to 1553.")


def test_a_sum_of_money_needs_a_currency_or_a_share_of_a_price() -> None:
    question = "How much did it cost to build the hall?"
    [money] = demands(question)
    assert money == Demand("figure", "money")
    assert not met(money, "The fire destroyed 23 of the 46 boiling houses.", question)
    assert met(money, "A cart paid sixpence to cross.", question)
    assert met(money, "The hall cost £1,200.", question)
    assert met(money, "It was built for 300 pounds.", question)
    assert met(money, "Islanders crossed for free on Sundays.", question)
    price = "What was the price of a bushel of Lady salt?"
    assert demands(price) == [Demand("figure", "money")]
    assert not met(demands(price)[0], "Lady salt fetched the highest price.", price)
    # Without a word of paying, "how much" asks for any amount.
    [amount] = demands("How much salt did the abbey buy?")
    assert amount == Demand("figure", "amount")
    assert met(
        amount, "The abbey bought about 600 bushels a year.", "How much salt did the abbey buy?"
    )


def test_a_count_of_things_is_not_met_by_a_span_of_time() -> None:
    question = "How many people died in the fire of 1587?"
    [count] = demands(question)
    assert not met(
        count, "Sixteen years later, on 9 March 1587, a furnace set fire to the stores.", question
    )
    assert met(count, "Sixteen years later the fire killed eleven people.", question)
    years = "How many years did an apprentice serve?"
    [span] = demands(years)
    assert met(span, "An apprentice served seven years before he was sworn.", years)


def test_an_ordinal_is_met_only_by_a_sentence_that_counts_so() -> None:
    (second,) = demands("Who wrote the second volume?")
    assert second.unmet() == "The article doesn't say which was the second volume."
    assert not met(second, "It was published in three volumes between 1903 and 1919.")
    assert met(second, "The second volume was written by Ida Fenwick.")
    assert met(second, "It became the second-largest refractor in the province.")


def test_a_span_of_time_is_met_by_a_count_of_time_or_two_years() -> None:
    (span,) = demands("How long did the repair of the lens take?")
    assert span.word == "span"
    assert not met(span, "In 1934 the lens was cracked and re-ground, which reduced it to 68 cm.")
    assert met(span, "He ground the lens over a period of nearly three years.")
    assert met(span, "He held the post from 1874 until his retirement in 1898.")
    assert demands("How long was the tramway?")[0].word == ""


def test_an_age_is_met_by_a_number_that_is_not_a_date_or_by_two_years() -> None:
    question = "How old was Rosamund Fenwright when she took over the business?"
    (age,) = demands(question)
    assert age.word == "age" and age.amount
    assert not met(age, "From 1905 the business was taken over by his niece Rosamund.", question)
    assert met(age, "He joined him in 1868 at the age of sixteen.", question)
    assert met(age, "Rosamund, then 24, took over the business.", question)
    assert met(age, "Born in 1881, she took over the business in 1905.", question)


def test_the_earliest_is_met_by_the_first() -> None:
    question = "Which craftsman taught the factory's earliest trainees?"
    (earliest,) = demands(question)
    assert earliest == Demand("superlative", "earliest")
    assert met(earliest, "He trained the works' first eight apprentices.", question)
    assert not met(earliest, "He trained eight apprentices.", question)


def test_a_date_is_a_year_a_month_or_a_day_beside_its_month_not_any_small_number() -> None:
    question = "What year were the Cullet Row cottages built?"
    (date,) = demands(question)
    assert not met(date, "She built a terrace of 36 cottages at a rent of two shillings.", question)
    assert met(date, "She built a terrace of 36 cottages in 1868.", question)
    assert not met(date, "The cottages were built in the 1860s.", question)
    assert met(date, "They were finished on 14 March.", question)
    assert met(date, "They were finished in the spring.", question)
