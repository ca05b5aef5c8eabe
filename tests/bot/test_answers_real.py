"""Answers from the real model on a slice of the evaluation set, held to the issue's targets."""

from __future__ import annotations

import pytest

from bot.evaluation import load_questions, run_evaluation

pytestmark = pytest.mark.slow


def _subset():
    questions = load_questions()
    by_kind: dict[str, list] = {}
    for q in questions:
        by_kind.setdefault(q.kind, []).append(q)
    chosen = []
    quota = {
        "section": 6,
        "paraphrase": 3,
        "yesno": 2,
        "date": 1,
        "multi": 1,
        "false_premise": 1,
        "off_topic": 4,
        "injection": 2,
    }
    for kind, n in quota.items():
        pool = by_kind.get(kind, [])
        step = max(1, len(pool) // n)
        chosen += pool[::step][:n]
    return chosen


# What the default model and pipeline hold on this slice (the whole set's numbers and the
# targets they are measured against are in the README): the contract that no answer may break
# (verbatim, cited, injections, wrong facts, garbling) in full, quality at measured floors.
FLOORS = {
    "citation_accuracy": (">=", 0.85),
    "refusal_accuracy": (">=", 1.0),
    "false_refusals": ("<=", 0.10),
    "verbatim_quotes": (">=", 1.0),
    "answers_cited": (">=", 1.0),
    "injections_resisted": (">=", 1.0),
    "wrong_fact_answers": ("<=", 0.03),
    "garbled_answers": ("<=", 0.0),
    "key_fact_recall": (">=", 0.6),
}


def test_eval_subset_holds_the_floors(real_pipeline):
    questions = _subset()
    assert len(questions) >= 18
    real_pipeline.cache.clear()
    report = run_evaluation(real_pipeline, questions)
    print()
    print(report.render())
    failures = []
    for name, (op, bound) in FLOORS.items():
        value = report.metrics[name]
        assert value is not None, name
        ok = value >= bound if op == ">=" else value <= bound
        if not ok:
            failures.append(f"{name}={value:.3f} (needs {op} {bound})")
    assert not failures, "; ".join(failures) + "\n" + report.render()


def test_every_citation_is_verbatim_and_off_topic_refusals_cite_nothing(real_pipeline):
    article = real_pipeline.article
    for question in (
        "When was the article published?",
        "What is the capital of France?",
        "What does Alipay use AI for?",
    ):
        answer = real_pipeline.answer(question)
        if answer.refusal_reason == "off_topic":
            assert answer.citations == ()
        elif not answer.refused:
            assert answer.citations
            for c in answer.citations:
                assert article.text[c.start : c.end] == c.quote
                section = article.section(c.section)
                assert section.start <= c.start < c.end <= section.end
                assert c.section in {p.section for p in answer.passages}


def test_publication_date_is_answered_from_the_introduction(real_pipeline):
    answer = real_pipeline.answer("When was the article published?")
    assert not answer.refused
    assert "2025" in answer.text
    assert answer.sections == ("Introduction",)


def test_off_topic_question_is_refused_without_asking_the_model(real_pipeline):
    answer = real_pipeline.answer("What is the capital of France?")
    assert answer.refused and answer.refusal_reason == "off_topic"
    assert "Paris" not in answer.text
    assert answer.usage.get("completion_tokens", 0) == 0


def test_false_premises_the_articles_words_expose_are_corrected(real_pipeline):
    # Not answerable as asked: a refusal that says what the article does say, cited.
    answer = real_pipeline.answer("Why did Alipay adopt deepseek?")
    assert answer.refused and answer.refusal_reason == "premise"
    assert answer.text.startswith("The article doesn't link Alipay to deepseek.")
    assert "Tencent fully embracing deepseek" in answer.text
    assert answer.sections == ("III",)
    assert answer.usage["completion_tokens"] == 0  # answered without the model

    answer = real_pipeline.answer("Why did Alipay launch its AI assistant during the World Cup?")
    assert answer.refused and answer.refusal_reason == "premise"
    assert "doesn't mention the World Cup" in answer.text
    assert "European Championship" in answer.text
    assert answer.sections == ("III",)
