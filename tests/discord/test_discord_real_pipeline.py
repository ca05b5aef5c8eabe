"""The main flows with the real answering pipeline (index, embedder, GGUF model) behind the bot.

Whatever the model answers, the bot must respond at once (with progress, or with the final answer
when it needs no model), and deliver exactly that answer: a refusal as plain text, an answer as
embeds citing sections with verbatim quotes.
"""

from __future__ import annotations

import pytest

from bot.discord_app.client import ArticleBot
from bot.discord_app.format import CURSOR, PROGRESS_MARK
from index.article import Article
from tests.discord.fake_answerer import RecordingAnswerer
from tests.discord.helpers import ask, assert_shows_answer, errors_of, messages_of, settle
from tests.discord_emulator import DiscordEmulator

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]


async def test_ask_with_the_real_pipeline(
    emulator: DiscordEmulator, bot: ArticleBot, using_real: RecordingAnswerer, article: Article
) -> None:
    start = len(emulator.requests)
    question = "What does the author think Alipay gets wrong about AI?"
    interaction = await ask(emulator, bot, question)
    call = using_real.last(question)
    assert call.answer is not None
    print(
        f"real answer ({call.answer.timings_ms.get('total', 0) / 1000:.1f} s): {call.answer.text!r}"
    )
    assert interaction.callback_at is not None and interaction.callback_at - interaction.created < 3
    original = emulator.original(interaction)
    assert original is not None
    first = original.states[0]
    assert (
        first.content.startswith(PROGRESS_MARK)
        or first.content.endswith(CURSOR)
        or len(original.states) == 1  # an answer that needed no model, posted as it is
    ), [s.content for s in original.states]
    streamed = [s for s in original.states if s.content.endswith(CURSOR)]
    if streamed:
        assert not call.answer.refused
    assert_shows_answer(messages_of(emulator, interaction), call.answer, article)
    assert errors_of(emulator, start) == []


async def test_mention_thread_and_follow_up_with_the_real_pipeline(
    emulator: DiscordEmulator, bot: ArticleBot, using_real: RecordingAnswerer, article: Article
) -> None:
    text = "Which competitors does the article name besides WeChat Pay?"
    question = await emulator.mention(emulator.alice, emulator.general, text)
    await settle(emulator, bot, lambda: question.id in emulator.channels)
    thread = emulator.channels[question.id]
    await settle(emulator, bot, lambda: emulator.bot_messages(thread))
    first = using_real.last(text).answer
    assert first is not None
    assert_shows_answer(emulator.bot_messages(thread), first, article)

    follow_up = "And what does the author want Alipay to do about them?"
    await emulator.send_message(emulator.alice, thread, follow_up)
    await settle(emulator, bot, lambda: len(emulator.bot_messages(thread)) == 2)
    call = using_real.last(follow_up)
    # Answered turns become context; refusals do not.
    expected = () if first.refused else ((text, first.text),)
    assert tuple((t.question, t.answer) for t in call.history) == expected
    assert_shows_answer(emulator.bot_messages(thread)[-1:], call.answer, article)


async def test_answers_without_the_model_come_first_and_final_with_the_real_pipeline(
    emulator: DiscordEmulator, bot: ArticleBot, using_real: RecordingAnswerer, article: Article
) -> None:
    start = len(emulator.requests)
    # Off topic (the retrieval gate refuses it), then the same question again (the answer cache).
    for question, cached in (
        ("What is the capital of France?", None),
        ("  what is the capital of FRANCE ", True),
    ):
        interaction = await ask(emulator, bot, question)
        call = using_real.last(question)
        assert not call.model and call.answer is not None, "the question waited for the model"
        assert call.answer.refusal_reason == "off_topic"
        if cached:
            assert call.answer.cached
        original = emulator.original(interaction)
        assert original is not None and len(original.states) == 1, original and [
            s.content for s in original.states
        ]
        assert_shows_answer(messages_of(emulator, interaction), call.answer, article)
    assert errors_of(emulator, start) == []
