"""The checks that hold a model's answer to what the question asks, on a small made-up article:
the figure asked for, the question's own figures, who-questions, the title's names, and the
relevance gate on the article's own words."""

from __future__ import annotations

from typing import Any

import pytest

from bot.answering.answer import Answer
from bot.answering.pipeline import AnswerPipeline, PipelineConfig
from index.article import Article, parse_article
from index.passages import make_passages
from index.retrieval import Hit
from tests.fakes import ScriptedLLM, ScriptedRetriever, word_ranker

ARTICLE = """\
# The Pilots' Guild of Tellow

The Pilots' Guild of Tellow was a company of harbour pilots on the Orra estuary.

## Members

At its height in 1560 the guild had 212 sworn members. It was governed by a Master and a \
court of twelve. Its accounts were kept in the Master's house until 1421.

## Trade

Most of the guild's catch went inland to the market town of Marby, forty-two miles away. \
In 1520 the merchant Hugh Pell lent the guild the money to build a quay.

## The hall

The hall was built in 1518 by the mason Walter Emmet.

## The fire of 1587

Nobody died in the hall because the keeper, Ann Rook, had rung the bell early.
"""


@pytest.fixture(scope="module")
def article() -> Article:
    return parse_article(ARTICLE, "pilots.md")


def ask(
    article: Article, question: str, reply: str, *, dense: float = 0.6, **config: Any
) -> Answer:
    hits = [Hit(passage=p, score=dense, dense=dense, keyword=0.0) for p in make_passages(article)]
    pipeline = AnswerPipeline(
        article,
        ScriptedRetriever(hits),
        ScriptedLLM(lambda call: {"answer": reply, "answerable": True}),
        PipelineConfig(top_k=len(hits), **config),
        ranker=word_ranker(article),
    )
    return pipeline.answer(question)


def test_an_answer_with_a_figure_is_cited_to_the_sentence_about_the_question_that_gives_it(
    article: Article,
) -> None:
    answer = ask(article, "How many sworn members did the guild have at its height?", "212")
    assert not answer.refused and answer.text == "212"
    assert "212 sworn members" in answer.citations[0].quote


def test_a_figure_from_a_sentence_about_something_else_gives_way_to_the_sentence_asked_about(
    article: Article,
) -> None:
    # 1421 is in the article, but in a sentence about the accounts, not the court.
    answer = ask(article, "How large was the court?", "1421")
    assert not answer.refused and answer.basis == "quote"
    assert "court of twelve" in answer.text and "1421" not in answer.text


def test_an_answer_that_gives_no_figure_to_a_figure_question_quotes_the_sentence_with_one(
    article: Article,
) -> None:
    answer = ask(
        article,
        "How many sworn members did the guild have in 1560?",
        "In 1560 the guild was at its height.",
    )
    assert answer.basis == "quote" and "212" in answer.text


def test_a_year_the_question_gives_must_be_in_the_sentence_cited(article: Article) -> None:
    answer = ask(
        article, "What did Walter Emmet build in 1402?", "The hall was built by Walter Emmet."
    )
    assert answer.refused and answer.refusal_reason == "not_said"
    assert answer.text.startswith("The article doesn't say that for 1402.")
    # Nor does a figure from a sentence about another year answer a figure question.
    answer = ask(article, "How many sworn members did the guild have in 1402?", "In 1402.")
    assert answer.refused
    # The same question with the sentence's own year is answered.
    answer = ask(
        article, "What did Walter Emmet build in 1518?", "The hall was built by Walter Emmet."
    )
    assert not answer.refused


def test_a_year_beside_a_sentence_dated_with_another_year_is_not_given() -> None:
    harbour = parse_article(
        "# Harbour\n\n## Staff\n\nBy 1880 the harbour employed fourteen pilots. About 600 "
        "ships had called there by 1890.\n",
        "harbour.md",
    )
    answer = ask(harbour, "How many pilots did the harbour employ in 1890?", "fourteen")
    assert answer.refused
    assert answer.text.startswith("The article doesn't say that for 1890.")
    answer = ask(harbour, "How many pilots did the harbour employ in 1880?", "fourteen")
    assert not answer.refused and answer.text == "fourteen"


def test_a_year_in_the_section_title_counts_as_given(article: Article) -> None:
    answer = ask(article, "Who was the keeper during the fire of 1587?", "Ann Rook")
    assert not answer.refused and answer.text == "Ann Rook"


def test_a_who_question_answered_with_only_its_own_names_is_refused(article: Article) -> None:
    answer = ask(article, "Who lent Hugh Pell the money?", "Hugh Pell lent the guild the money.")
    assert answer.refused and answer.text.startswith("The article doesn't say who.")
    assert "Hugh Pell lent the guild" in answer.citations[0].quote


def test_the_titles_names_need_not_recur_in_the_sentence(article: Article) -> None:
    # The sentence does not repeat "Tellow", the article's subject; the figure is in words.
    answer = ask(article, "How far was Marby from Tellow?", "42 miles away")
    assert not answer.refused and answer.text == "42 miles away"
    assert "forty-two miles" in answer.citations[0].quote


def test_a_question_in_the_articles_own_rare_words_passes_the_relevance_gate(
    article: Article,
) -> None:
    answer = ask(article, "Who built the hall in 1518?", "Walter Emmet", dense=0.1)
    assert not answer.refused
    off_topic = ask(article, "What is the capital of France?", "Paris", dense=0.1)
    assert off_topic.refusal_reason == "off_topic"


def test_a_bare_figure_needs_a_sentence_about_what_is_asked(article: Article) -> None:
    # The year is Walter Emmet's, but of the hall's building, not of his death.
    answer = ask(article, "In what year did Walter Emmet die?", "1518")
    assert answer.refused and answer.text.startswith("The article doesn't say when.")
    answer = ask(article, "In what year was the hall built?", "1518")
    assert not answer.refused and answer.text == "1518"


def test_a_decade_in_the_question_is_no_figure_to_repeat(article: Article) -> None:
    answer = ask(article, "Who built the hall in the 1510s?", "Walter Emmet")
    assert not answer.refused and answer.text == "Walter Emmet"


def test_a_runaway_answer_cut_off_by_the_grammar_loses_its_broken_sentence(
    article: Article,
) -> None:
    whole = "The hall was built in 1518 by the mason Walter Emmet."
    runaway = (whole + " " + "The hall was built by the mason. " * 20)[:600] + "and"
    answer = ask(article, "Who built the hall?", runaway[:600])
    assert not answer.refused and answer.text.endswith(".")
    assert answer.text.startswith(whole)


def test_a_name_in_the_question_is_no_subject_for_a_bare_figure(article: Article) -> None:
    # "Emmet" (and its stem) must not count as what the question asks about.
    answer = ask(article, "In what year did Walter Emmets die?", "1518")
    assert answer.refused


FERRY = """\
# The Ferrymen of Sallow

The ferrymen of Sallow ran the boats across the river Tarn.

## The hall

The ferrymen's hall stood by the river. The hall of the ferrymen was rebuilt after the flood of \
the river.

## Stone

Its walls were of grey stone carried by cart from the quarries at Denby, Rell and Oston over \
many summers, with lime, sand, timber and slate for the roof and the floors.
"""


def test_a_bare_verdict_is_cited_to_the_sentence_most_likely_to_answer() -> None:
    # "Yes" has no words to match: the sentence that shares the most common words ("ferrymen",
    # "hall") is not the one that answers; the one with the question's rare word ("stone") is.
    ferry = parse_article(FERRY, "ferry.md")
    answer = ask(ferry, "Was the ferrymen's hall built of stone?", "Yes")
    assert not answer.refused
    assert answer.sections == ("Stone",)
    assert answer.text.startswith("Yes. The article says:")


def test_a_question_with_its_name_on_the_other_side_of_the_deed_is_refused_before_the_model(
    article: Article,
) -> None:
    # The article has Hugh Pell lend the guild money; nobody lends him any.
    answer = ask(article, "Who lent Hugh Pell the money to build a quay?", "The guild")
    assert answer.refused and answer.refusal_reason == "not_said"
    assert answer.text.startswith("The article doesn't say who.")
    assert "Hugh Pell lent the guild" in answer.citations[0].quote
    assert answer.usage["completion_tokens"] == 0
    # Asked the article's way round, the model answers.
    answer = ask(article, "Whom did Hugh Pell lend the money to build a quay?", "The guild")
    assert not answer.refused and answer.text == "The guild"


def test_a_sum_of_money_is_not_given_by_a_count_of_other_things(article: Article) -> None:
    answer = ask(article, "How much did it cost to build the hall?", "212")
    assert answer.refused and answer.text.startswith("The article doesn't give that figure.")


FIRE = """\
# The Fire

## The fire of 1587

The fire destroyed the boiling houses and the warehouse on the quay, but it spared the hall.

## The quay

The harbour board let the priory keep its pans on the quay until 1600.

## The chapel

The flames never reached the chapel on the hill, which stands to this day.
"""


def test_a_yes_that_joins_what_the_sentence_sets_apart_becomes_a_no() -> None:
    fire = parse_article(FIRE, "fire.md")
    answer = ask(fire, "Did the fire destroy the hall?", "Yes")
    assert not answer.refused
    assert answer.text.startswith('No. The article says: "The fire destroyed')
    # All of it on one side of the "but": the model's verdict stands.
    answer = ask(fire, "Did the fire destroy the warehouse on the quay?", "Yes")
    assert answer.text.startswith("Yes. The article says:")


def test_a_yes_no_answer_without_a_verdict_is_given_the_one_it_states() -> None:
    fire = parse_article(FIRE, "fire.md")
    question = "Was the priory allowed to keep its pans on the quay?"
    answer = ask(fire, question, "The priory could keep its pans on the quay until 1600.")
    assert answer.text == "Yes. The priory could keep its pans on the quay until 1600."


def test_an_answer_cited_to_a_sentence_about_someone_else_is_refused(article: Article) -> None:
    # The article has Walter Emmet build the hall; it says nothing of Hugh Pell building one.
    answer = ask(article, "In what year did Hugh Pell build the hall?", "1518")
    assert answer.refused
    assert answer.text.startswith("The article doesn't say that of Hugh Pell.")
    assert "Walter Emmet" in answer.citations[0].quote


def test_a_yes_no_question_the_model_will_not_answer_gets_its_restating_sentences_verdict() -> None:
    fire = parse_article(FIRE, "fire.md")
    unsaid = "The article doesn't say."
    answer = ask(fire, "Did the flames reach the chapel on the hill?", unsaid)
    assert not answer.refused
    assert answer.text.startswith('No. The article says: "The flames never reached the chapel')
    answer = ask(fire, "Did the harbour board let the priory keep its pans on the quay?", unsaid)
    assert answer.text.startswith('Yes. The article says: "The harbour board let the priory')
    # A sentence that restates less of the question, or not its year: the refusal stands.
    assert ask(fire, "Did the bishop bless the chapel on the hill?", unsaid).refused
    assert ask(fire, "Did the flames reach the chapel on the hill in 1650?", unsaid).refused


def test_a_quote_given_for_an_answer_must_speak_of_the_questions_names(article: Article) -> None:
    # The answer gives no figure: the sentence with one is quoted, but it says nothing of Emmet.
    answer = ask(
        article,
        "How many sworn members did Walter Emmet's guild have?",
        "Walter Emmet's guild had many sworn members.",
    )
    assert answer.refused and answer.text.startswith("The article doesn't say that.")
    assert "212 sworn members" in answer.citations[0].quote
    answer = ask(
        article,
        "How many sworn members did the guild have at its height?",
        "The guild had many sworn members at its height.",
    )
    assert not answer.refused and "212 sworn members" in answer.text


def test_a_sentence_quoted_in_place_of_an_answer_must_hold_the_kind_of_fact_asked_for(
    article: Article,
) -> None:
    # The answer's cause is not the sentence's; the sentence, quoted instead, gives no date.
    answer = ask(
        article,
        "When did the keeper of the hall ring the bell?",
        "The keeper rang the bell early so that the guild's members and the court of twelve "
        "left the hall.",
    )
    assert answer.refused and answer.text.startswith("The article doesn't say when.")
    assert "Ann Rook" in answer.citations[0].quote


class JudgingLLM(ScriptedLLM):
    """A scripted model that also judges, with a set margin, and notes what it was asked."""

    def __init__(self, reply: str, margin: float | None) -> None:
        super().__init__(lambda call: {"answer": reply, "answerable": True})
        self.margin = margin
        self.judged: list[str] = []

    def judge(self, messages: list[dict[str, str]]) -> float | None:
        self.judged.append(messages[-1]["content"])
        return self.margin


def judged(
    article: Article, question: str, reply: str, margin: float | None, **config: Any
) -> tuple[Answer, JudgingLLM]:
    hits = [Hit(passage=p, score=0.6, dense=0.6, keyword=0.0) for p in make_passages(article)]
    llm = JudgingLLM(reply, margin)
    pipeline = AnswerPipeline(
        article,
        ScriptedRetriever(hits),
        llm,
        PipelineConfig(top_k=len(hits), **config),
        ranker=word_ranker(article),
    )
    return pipeline.answer(question), llm


def test_an_answer_the_model_does_not_find_in_its_quote_becomes_what_the_article_says(
    article: Article,
) -> None:
    question = "Who built the hall for the guild?"
    kept, llm = judged(article, question, "Walter Emmet", 1.5)
    assert not kept.refused and kept.text == "Walter Emmet"
    # The model is shown the question, the quote and the answer, and nothing else.
    (asked,) = llm.judged
    assert question in asked and "Walter Emmet" in asked and "mason" in asked
    assert "Hugh Pell" not in asked
    assert kept.timings_ms["judge"] >= 0
    doubted, _ = judged(article, question, "Walter Emmet", -0.5)
    assert doubted.refused and doubted.refusal_reason == "not_said"
    assert doubted.text.startswith("The article doesn't say who.")
    assert doubted.citations == kept.citations
    assert f'"{kept.citations[0].quote}"' in doubted.text


def test_only_answers_to_a_question_after_one_fact_are_judged(article: Article) -> None:
    for question, reply in [
        ("Why did nobody die in the hall in 1587?", "The keeper had rung the bell early."),
        ("Did Ann Rook ring the bell early?", "Yes. The keeper, Ann Rook, rang it early."),
    ]:
        answer, llm = judged(article, question, reply, -5.0)
        assert not answer.refused and not llm.judged, question
    answer, llm = judged(article, "In what year was the hall built?", "1518", -5.0)
    assert answer.refused and llm.judged


def test_judging_can_be_turned_off_and_a_backend_without_it_is_not_asked(
    article: Article,
) -> None:
    answer, llm = judged(
        article, "Who built the hall for the guild?", "Walter Emmet", -5.0, min_judged_margin=None
    )
    assert not answer.refused and not llm.judged
    answer, _ = judged(article, "Who built the hall for the guild?", "Walter Emmet", None)
    assert not answer.refused
