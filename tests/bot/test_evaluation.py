"""Scoring of evaluation answers, with hand-made answers."""

from __future__ import annotations

import re

import pytest

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


def almost(question: str, distractor: str = "") -> EvalQuestion:
    return EvalQuestion(question, "almost", False, (), distractor=distractor)


def test_almost_answerable_questions_are_scored_apart_from_off_topic_ones():
    questions = [
        almost("Who did Tencent invest in?", "Alibaba"),
        almost("In what year did Alipay launch its assistant?", "2025"),
        almost("What is Alipay's market share?"),
        EvalQuestion("What is the capital of France?", "off_topic", False, ()),
    ]
    answers = [
        Answer(questions[0].question, "The article doesn't say.", True),
        cited(questions[1].question, "Alipay launched it in 2025."),
        cited(questions[2].question, "Its share is large."),
        Answer(questions[3].question, "The article doesn't cover that.", True),
    ]
    report = score(questions, answers, TEXT)
    assert report.counts["almost"] == 3 and report.counts["off_topic"] == 1
    assert report.metrics["almost_refused"] == 1 / 3
    assert report.metrics["almost_distractor"] == 1 / 3
    assert report.metrics["refusal_accuracy"] == 1.0
    assert [r.get("distractor", False) for r in report.rows] == [False, True, False, False]
    rendered = report.render()
    assert re.search(r"almost-answerable refused +0\.333\b", rendered)
    assert re.search(r"almost-answerable given distractor +0\.333\n", rendered)


def test_answered_correctly_needs_every_fact_and_counts_refusals_against():
    q = EvalQuestion("Who embraced what?", "section", True, ("III",), ("Tencent", "deepseek"))
    answers = [
        cited(q.question, "Tencent embraced deepseek."),
        cited(q.question, "Tencent embraced something."),
        Answer(q.question, "The article doesn't answer that.", True),
        cited(q.question, "TENCENT, with DeepSeek."),
    ]
    report = score([q] * 4, answers, TEXT)
    assert report.metrics["answered_correctly"] == 2 / 4
    assert report.metrics["false_refusals"] == 1 / 4
    assert "answerable answered correctly" in report.render()


def test_a_corrected_false_premise_is_not_counted_as_an_answerable_question_answered():
    q = EvalQuestion("Who embraced what?", "section", True, ("III",), ("Tencent",))
    p = premise("Why did Alipay embrace deepseek?", ("Tencent",))
    report = score(
        [q, p],
        [
            Answer(q.question, "The article doesn't answer that.", True),
            cited(p.question, "Tencent."),
        ],
        TEXT,
    )
    assert report.metrics["answered_correctly"] == 0.0
    assert report.metrics["false_premises_corrected"] == 1.0


def test_question_files_for_both_articles_are_well_formed():
    from pathlib import Path

    from bot.evaluation import load_questions
    from index.article import load_article

    root = Path(__file__).resolve().parents[2]
    causeway = load_article(root / "index" / "data" / "causeway.md")
    shipped = load_article()
    sets = {
        "causeway_dev.jsonl": causeway,
        "causeway_test.jsonl": causeway,
        "almost_questions.jsonl": shipped,
        "eval_questions.jsonl": shipped,
    }
    kinds: dict[str, int] = {}
    seen: set[str] = set()
    for name, article in sets.items():
        for q in load_questions(root / "bot" / "data" / name):
            if name.startswith("causeway"):
                assert q.question not in seen, q.question  # dev and test halves do not overlap
                seen.add(q.question)
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
            for label in q.sections:
                article.section(label)  # raises for a label the article does not have
            assert q.answerable == bool(q.sections) or q.kind == "injection", q.question
            if q.kind == "almost":
                assert not q.answerable and not q.facts
    dev = load_questions(root / "bot" / "data" / "causeway_dev.jsonl")
    test = load_questions(root / "bot" / "data" / "causeway_test.jsonl")
    assert len(dev) + len(test) >= 60
    assert kinds["almost"] >= 30
    for half in (dev, test):
        half_kinds = {q.kind for q in half}
        assert {"section", "paraphrase", "yesno", "multi", "off_topic", "almost"} <= half_kinds


@pytest.mark.parametrize("name", ["causeway", "brinewrights"])
def test_own_article_question_halves_hold_the_article_s_own_answers(name: str) -> None:
    """Each shipped own-article set: the halves do not overlap and split each kind evenly, every
    label is a section of the article, every gold answer (a fact's first alternative) is the
    article's own words, a yes/no fact opens with its polarity, and almost-answerable and
    off-topic questions name no section and no fact."""
    from pathlib import Path

    from bot.evaluation import load_questions
    from index.article import load_article

    root = Path(__file__).resolve().parents[2]
    article = load_article(root / "index" / "data" / f"{name}.md")
    text = article.text.lower()
    dev = load_questions(root / "bot" / "data" / f"{name}_dev.jsonl")
    test = load_questions(root / "bot" / "data" / f"{name}_test.jsonl")
    assert not {q.question for q in dev} & {q.question for q in test}
    for kind in {q.kind for q in dev + test}:
        n_dev = sum(q.kind == kind for q in dev)
        n_test = sum(q.kind == kind for q in test)
        assert abs(n_dev - n_test) <= 1, (kind, n_dev, n_test)
    for q in dev + test:
        for label in q.sections:
            article.section(label)  # raises for a label the article does not have
        if not q.answerable:
            assert not q.sections and not q.facts, q.question
            continue
        assert q.sections and q.facts, q.question
        for fact in q.facts:
            first, *others = [alt.strip().lower() for alt in fact.split("|")]
            if q.kind == "yesno":
                assert first in ("yes", "no") and first == (q.polarity or first), q.question
                assert any(alt in text for alt in others if alt != "not"), fact
            else:
                assert first in text, (q.question, fact)


def test_eval_command_runs_a_question_file_against_the_chosen_article(
    monkeypatch, capsys, tmp_path
):
    """`article-bot eval FILE --article FILE`: the settings name the chosen article, and the
    report has the almost-answerable and answered-correctly lines (scripted model)."""
    from pathlib import Path

    import bot.wiring
    from bot.answering.pipeline import AnswerPipeline, PipelineConfig
    from bot.cli import main
    from index.article import load_article
    from index.passages import make_passages
    from index.retrieval import Hit
    from tests.fakes import ScriptedLLM, ScriptedRetriever, word_ranker

    root = Path(__file__).resolve().parents[2]
    path = root / "index" / "data" / "causeway.md"
    chosen: list[Path] = []

    def build_answerer(settings, **kwargs):
        chosen.append(settings.article_path)
        article = load_article(settings.article_path)
        hits = [Hit(p, 0.6, 0.6, 0.0) for p in make_passages(article)[:2]]
        llm = ScriptedLLM(lambda call: {"answer": "The article doesn't say.", "answerable": False})
        return AnswerPipeline(
            article, ScriptedRetriever(hits), llm, PipelineConfig(), ranker=word_ranker(article)
        )

    monkeypatch.setattr(bot.wiring, "build_answerer", build_answerer)
    monkeypatch.setenv("ARTICLE_BOT_DATA_DIR", str(tmp_path))
    questions = root / "bot" / "data" / "causeway_dev.jsonl"
    assert main(["eval", str(questions), "--article", str(path), "--quiet"]) == 0
    assert chosen == [path]
    out = capsys.readouterr().out
    assert "Evaluated 35 questions" in out
    assert re.search(r"almost-answerable refused +1\.000\b", out)
    assert re.search(r"answerable answered correctly +0\.000\b", out)


def test_a_key_fact_counts_however_its_number_is_written():
    from bot.evaluation import _contains_any

    assert _contains_any("The crossing is 2 miles long.", "two miles")
    assert _contains_any("It had forty-two members.", "42 members|42")
    assert not _contains_any("The crossing is 3 miles long.", "two miles")


def test_the_biography_sets_hold_the_article_s_own_answers() -> None:
    """The fourth article's dev set (tuned on) and test set (measured only): no question in both,
    every label a section, every gold answer the article's own words, and the kinds the issue
    asks for, with almost-answerable questions naming no section or fact."""
    from pathlib import Path

    from bot.evaluation import load_questions
    from index.article import load_article

    root = Path(__file__).resolve().parents[2]
    article = load_article(root / "index" / "data" / "fenwright.md")
    text = article.text.lower()
    dev = load_questions(root / "bot" / "data" / "fenwright_dev.jsonl")
    test = load_questions(root / "bot" / "data" / "fenwright_test.jsonl")
    assert not {q.question for q in dev} & {q.question for q in test}
    assert len(dev) + len(test) >= 100
    for half in (dev, test):
        assert {"section", "paraphrase", "yesno", "almost"} <= {q.kind for q in half}
    for q in dev + test:
        for label in q.sections:
            article.section(label)  # raises for a label the article does not have
        if not q.answerable:
            assert not q.sections and not q.facts, q.question
        elif q.kind != "yesno":
            assert all(f.split("|")[0].strip().lower() in text for f in q.facts), q.question


@pytest.mark.parametrize(
    ("article_file", "questions_file", "count"),
    [
        ("aldgrave.md", "aldgrave_test.jsonl", 44),
        ("tarrowmere.md", "tarrowmere_test.jsonl", 60),
        ("corvane.md", "corvane_test.jsonl", 60),
    ],
)
def test_the_unseen_sets_hold_their_article_s_own_answers(
    article_file: str, questions_file: str, count: int
) -> None:
    """The fifth, sixth and seventh articles' sets, each written unseen and first run unseen:
    every label a section, every gold answer and distractor the article's own words,
    almost-answerable questions naming no section or fact, and yes/no questions of both
    polarities."""
    from pathlib import Path

    from bot.evaluation import load_questions
    from index.article import load_article

    root = Path(__file__).resolve().parents[2]
    article = load_article(root / "index" / "data" / article_file)
    text = article.text.lower()
    questions = load_questions(root / "bot" / "data" / questions_file)
    assert len(questions) == count
    assert {"section", "paraphrase", "yesno", "almost"} == {q.kind for q in questions}
    assert {q.facts[0] for q in questions if q.kind == "yesno"} == {"yes", "no"}
    for q in questions:
        for label in q.sections:
            article.section(label)
        if not q.answerable:
            assert not q.sections and not q.facts, q.question
            assert q.distractor.lower() in text, q.question
        elif q.kind != "yesno":
            for fact in q.facts:
                assert any(alt.strip().lower() in text for alt in fact.split("|")), q.question
