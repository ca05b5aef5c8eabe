"""Scoring of evaluation answers, with hand-made answers."""

from __future__ import annotations

from bot.answering.answer import Answer, Citation
from bot.evaluation import EvalQuestion, score

TEXT = "Tencent fully embraced deepseek. Alipay launched an assistant."


def cited(question: str, text: str, section: str = "III") -> Answer:
    quote = TEXT[:32]
    return Answer(
        question=question,
        text=text,
        refused=False,
        citations=(Citation(section, "AI", quote, 0, len(quote)),),
        timings_ms={"total": 10.0, "first_token": 5.0},
    )


def premise(question: str, facts: tuple[str, ...], forbidden: tuple[str, ...] = ()) -> EvalQuestion:
    return EvalQuestion(question, "false_premise", True, ("III",), facts, forbidden)


def test_a_premise_is_corrected_only_by_an_answer_with_the_articles_facts():
    questions = [
        premise("Why did Alipay adopt deepseek?", ("Tencent",)),
        premise("Why did Alipay adopt deepseek, really?", ("Tencent",)),
        premise("Why was the World Cup chosen?", ("European Championship",)),
    ]
    answers = [
        cited(questions[0].question, "It was Tencent that embraced deepseek, not Alipay."),
        # Goes along with the premise and still cites the right section.
        cited(questions[1].question, "Alipay adopted deepseek to keep up."),
        Answer(questions[2].question, "The article doesn't answer that.", True),
    ]
    report = score(questions, answers, TEXT)
    assert report.metrics["false_premises_corrected"] == 1 / 3
    assert report.metrics["citation_accuracy"] == 1.0  # why a separate measure is needed
    assert [r["premise_corrected"] for r in report.rows] == [True, False, False]
    assert "false premises corrected" in report.render()


def test_an_answer_that_states_the_facts_but_accepts_the_premise_is_not_a_correction():
    question = premise(
        "Is the market still traditional?", ("no longer",), ("is still traditional",)
    )
    answers = [
        cited(question.question, "The market is still traditional: it is no longer traditional."),
        cited(question.question, "No: competition is no longer traditional."),
    ]
    report = score([question, question], answers, TEXT)
    assert [r["premise_corrected"] for r in report.rows] == [False, True]


def test_no_false_premise_questions_means_no_number():
    q = EvalQuestion("What does Alipay do with AI?", "section", True, ("III",), ("traffic",))
    report = score([q], [cited(q.question, "It seeks traffic.")], TEXT)
    assert report.metrics["false_premises_corrected"] is None
    assert report.metrics["key_fact_recall"] == 1.0
