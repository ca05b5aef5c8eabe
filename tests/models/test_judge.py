"""The model's yes-or-no judgement (``LocalLLM.judge``) on the real default model: it leaves the
primed prefix and the question before it as they were, and tells a sentence that answers from
one that only shares the question's words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.answering.prompt import judge_messages
from models.backend import Judges
from models.local import LocalLLM

pytestmark = pytest.mark.slow

Ask = Callable[..., list[dict[str, str]]]


def test_judging_leaves_the_cached_prompt_and_the_next_answer_as_they_were(
    default_model_path: Path, ask: Ask
) -> None:
    messages = ask('Question: "When did Alipay start?"')
    with LocalLLM(default_model_path, n_threads=2, n_ctx=1024) as llm:
        assert isinstance(llm, Judges)
        llm.prime(messages[:1])
        before = llm.complete(messages, max_tokens=16)
        margin = llm.judge(
            judge_messages(
                "When did Alipay start?",
                "Alipay started in 2004 as the payment service of Taobao.",
                "2004",
            )
        )
        after = llm.complete(messages, max_tokens=16)
    assert margin is not None
    assert after.text == before.text
    # Everything up to the question's last row group was still held: only the rest was evaluated.
    assert after.cached_tokens >= after.prompt_tokens - 8


def test_a_sentence_that_answers_is_judged_above_one_that_only_shares_the_words(
    default_model_path: Path,
) -> None:
    question = "Who was the first woman elected to the town council?"
    with LocalLLM(default_model_path, n_threads=2, n_ctx=1024) as llm:
        says = llm.judge(
            judge_messages(
                question,
                "In 1919 Agnes Marrow became the first woman elected to the town council.",
                "Agnes Marrow",
            )
        )
        not_said = llm.judge(
            judge_messages(
                question,
                "The causeway was first proposed by Agnes Marrow, a schoolteacher on the island.",
                "Agnes Marrow",
            )
        )
    assert says is not None and not_said is not None
    assert says > 0 > not_said


def test_a_judgement_is_the_same_whatever_was_judged_before(default_model_path: Path) -> None:
    """The instructions' cells kept from the call before give the very margin of evaluating
    the prompt whole."""
    first = judge_messages("When did Alipay start?", "Alipay started in 2004.", "2004")
    second = judge_messages(
        "Who owns Taobao?", "Taobao is the online market of Alibaba.", "Alibaba"
    )
    with LocalLLM(default_model_path, n_threads=2, n_ctx=1024) as llm:
        alone = [llm.judge(first), llm.judge(second)]
    with LocalLLM(default_model_path, n_threads=2, n_ctx=1024) as llm:
        llm.judge(second)
        after = [llm.judge(first), llm.judge(second)]
        judged = llm.info()["judged"]
        llm.clear_cache()
        cleared = llm.judge(first)
    assert alone == after
    # Both later prompts began with the instructions the one before had left.
    assert judged["calls"] == 3 and judged["reused_tokens"] >= 2 * 40
    assert cleared == alone[0]


def test_a_prompt_too_long_for_the_judging_context_gets_no_judgement(
    default_model_path: Path,
) -> None:
    long_quote = "The pans were made of lead. " * 200
    with LocalLLM(default_model_path, n_threads=2, n_ctx=1024) as llm:
        assert llm.judge(judge_messages("What were the pans made of?", long_quote, "lead")) is None
        # The context is still good for the next one.
        again = llm.judge(judge_messages("What were the pans made of?", "Pans of lead.", "lead"))
        assert again is not None
