"""A sentence read as its reader reads it: names from its heading and, behind a pronoun, from the
article's title and the sentences before it in its paragraph."""

from __future__ import annotations

import pytest

from bot.answering.answer import Answer
from bot.answering.context import points_back, reading_contexts, within_reach
from bot.answering.pipeline import AnswerPipeline, PipelineConfig
from bot.answering.premises import PremiseChecker
from index.article import Article, parse_article
from index.embeddings import Embedder
from index.passages import make_passages
from index.retrieval import Hit
from tests.fakes import ScriptedLLM, ScriptedRetriever, word_ranker

TEXT = """# Ida Marchetti

## Early life

Ida Marchetti (3 May 1862 – 9 June 1931) was a glassblower from Verrin. Her uncle Tomas \
Brell taught her the trade in his furnace shop. In 1879 she won a medal with a blown \
hourglass at the Lamby Fair. From 1880 Marchetti worked for Paolo Sarn, a glazier and \
optician in the town of Lamby.

Later that year the Verrin Guild bought a lehr for annealing.

Marchetti never married. From 1900 her niece Cora Vell ran the furnace shop.

In 1910 the shop passed to her cousin Enzo Pell, the son of her aunt Rina. She went on \
blowing small flasks until 1925.

## The Harlow chandelier

The crystal drops were cut by the Osk brothers of Lamby. It took four years to finish.
"""


@pytest.fixture(scope="module")
def article() -> Article:
    return parse_article(TEXT, "ida.md")


def lines(article: Article) -> list[str]:
    return [s.text for s in article.sentences]


def index_of(article: Article, fragment: str) -> int:
    (found,) = [s.index for s in article.sentences if fragment in s.text]
    return found


def test_a_sentence_is_read_with_its_heading_and_behind_a_pronoun_its_paragraph(article):
    contexts = reading_contexts(article, lines(article))
    medal = contexts[index_of(article, "she won a medal")]
    assert "Early life" in medal and "Ida Marchetti (3 May 1862" in medal
    # No pronoun: the heading only, not the sentences before it.
    drops = contexts[index_of(article, "crystal drops")]
    assert drops == "The Harlow chandelier"
    # A new paragraph does not reach back into the one before it.
    lehr = contexts[index_of(article, "bought a lehr")]
    assert lehr == "Early life"
    assert points_back("It took four years") and not points_back("The drops were cut")


def test_a_pronoun_ties_a_term_to_the_name_its_paragraph_gives(article):
    checker = PremiseChecker(article, Embedder().is_whole_word)
    # "she won a medal with a blown hourglass": she is Ida Marchetti.
    assert checker.check("Why did Marchetti make an hourglass?") is None
    # A name after the term ("an optician in the town of Lamby") does not take it from hers.
    assert checker.check("Which optician did Marchetti work for?") is None
    # The guild bought the lehr, in a paragraph that says nothing of Brell.
    issue = checker.check("Why did Brell buy a lehr?")
    assert issue is not None and issue.name == "Brell"


def ask(article: Article, question: str, reply: str) -> Answer:
    hits = [Hit(passage=p, score=0.6, dense=0.6, keyword=0.0) for p in make_passages(article)]
    pipeline = AnswerPipeline(
        article,
        ScriptedRetriever(hits),
        ScriptedLLM(lambda call: {"answer": reply, "answerable": True}),
        PipelineConfig(top_k=len(hits)),
        ranker=word_ranker(article),
    )
    return pipeline.answer(question)


def test_an_answer_from_a_sentence_that_says_she_is_not_refused_for_lacking_her_name(article):
    # "In 1879 she won a medal … at the Lamby Fair" names Lamby, and Marchetti only as "she".
    answer = ask(article, "In what year did Marchetti win a medal?", "1879")
    assert not answer.refused
    assert answer.text == "1879"
    assert "she won a medal" in answer.citations[0].quote


def test_the_sentence_before_lends_what_a_pronoun_means_not_what_is_done(article):
    # "From 1900 her niece Cora Vell ran the shop": the marrying is in the sentence before.
    answer = ask(article, "In what year did Cora Vell marry?", "1900")
    assert answer.refused
    assert answer.text.startswith("The article doesn't say when.")


def test_the_sentence_that_says_who_she_is_is_cited_with_the_answer(article):
    # "Her uncle Tomas Brell taught her the trade": the answer names Marchetti, whom the
    # sentence before names.
    answer = ask(article, "Who taught Marchetti her trade?", "Tomas Brell taught Marchetti.")
    assert not answer.refused and answer.basis == "model"
    quotes = [c.quote for c in answer.citations]
    assert any("Brell taught her the trade" in q for q in quotes)
    assert any("Ida Marchetti (3 May 1862" in q for q in quotes)


def test_a_name_in_a_prepositional_phrase_is_out_of_a_pronoun_s_reach():
    sentence = "In 1910 the shop passed to her cousin Enzo Pell, the son of her aunt Rina."
    assert within_reach(sentence) == "In 1910 the shop passed to her cousin , the son of her aunt ."
    # Names that hold small words stay whole; a subject after a dated opening stays.
    kept = "In 1855 Silas Orbell joined the Society for Practical Optics and Fenwright & Sons."
    assert (
        within_reach(kept) == "In 1855 Silas Orbell joined the Society for Practical Optics and "
        "Fenwright & Sons."
    )


def test_a_deed_behind_she_is_not_given_to_a_name_in_a_phrase_before_it(article):
    # "She went on blowing small flasks": she is Marchetti, not her aunt Rina.
    answer = ask(
        article, "What did Rina do until 1925?", "Rina went on blowing small flasks until 1925."
    )
    assert answer.basis != "model" and "Rina went on" not in answer.text
    answer = ask(
        article,
        "What did Marchetti do until 1925?",
        "Marchetti went on blowing small flasks until 1925.",
    )
    assert not answer.refused and answer.basis == "model"


def test_a_deed_done_by_she_is_hers_not_the_other_name_s_in_the_sentence(article):
    # "In 1879 she won a medal … at the Lamby Fair": the winning is Marchetti's.
    reply = "Marchetti won a medal with a blown hourglass in 1879."
    answer = ask(article, "What did Marchetti win in 1879?", reply)
    assert not answer.refused and answer.text == reply and answer.basis == "model"
    # Given to someone the paragraph does not put within the "she"'s reach, it is not.
    answer = ask(article, "What did Sarn win in 1879?", "Paolo Sarn won a medal in 1879.")
    assert answer.basis != "model"
