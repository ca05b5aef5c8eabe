"""Answers that need no model skip the line: while the model is busy with one member's question,
another's off-topic or repeated question is posted at once, in its final form, as the first
response; a question for the model still waits in line and says so."""

from __future__ import annotations

import pytest

from bot.discord_app.client import ArticleBot
from bot.discord_app.format import PROGRESS_MARK, position_text
from bot.records import RecordStore
from index.article import Article
from tests.discord.fake_answerer import FakeAnswerer, RecordingAnswerer
from tests.discord.helpers import (
    TIMEOUT,
    assert_shows_answer,
    errors_of,
    last_thread,
    messages_of,
    settle,
)
from tests.discord_emulator import DiscordEmulator, Message
from tests.discord_emulator.control import interaction_done

pytestmark = pytest.mark.asyncio(loop_scope="session")


def shown_once(message: Message) -> None:
    """Posted in its final form: one state, no placeholder before it, no edit after."""
    assert len(message.states) == 1, [s.content for s in message.states]
    assert not message.states[0].content.startswith(PROGRESS_MARK)


async def test_answers_without_the_model_do_not_wait_for_it(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    using_fake: RecordingAnswerer,
    article: Article,
    records: RecordStore,
) -> None:
    fake = using_fake.inner
    assert isinstance(fake, FakeAnswerer)
    start = len(emulator.requests)
    bob, carol, dave, erin = (emulator.add_user(n) for n in ("bob", "carol", "dave", "erin"))
    held_question = "What about the B-end, held up?"
    release = fake.hold(held_question)
    repeat = "What is the article about, once more?"
    fake.model_free.add(repeat)
    try:
        running = await emulator.slash("ask", {"question": held_question}, user=bob)
        await emulator.wait_for(lambda: bot.queue.busy and using_fake.calls, TIMEOUT)
        await emulator.wait_for(lambda: using_fake.last(held_question), TIMEOUT)
        before = records.stats()

        off_topic = await emulator.slash("ask", {"question": "Who won in France?"}, user=carol)
        cached = await emulator.slash("ask", {"question": repeat}, user=dave)
        mention = await emulator.mention(
            carol, emulator.general, f"{emulator.bot_user.mention} Is France in the article?"
        )
        await emulator.wait_for(
            lambda: (
                emulator.original(off_topic)
                and emulator.original(cached)
                and mention.id in emulator.channels
                and emulator.bot_messages(emulator.channels[mention.id])
            ),
            TIMEOUT,
        )
        # All three were answered while the model was still on the first question.
        assert not release.is_set() and not interaction_done(emulator, running)
        assert bot.queue.busy and bot.queue.waiting == 0
        for interaction, question in ((off_topic, "Who won in France?"), (cached, repeat)):
            call = using_fake.last(question)
            assert not call.model and call.answer is not None
            original = emulator.original(interaction)
            assert original is not None
            shown_once(original)
            assert_shows_answer(messages_of(emulator, interaction), call.answer, article)
            # Recorded like any other answer, so it carries the feedback buttons.
            assert any(c.startswith("answer:") for c in original.custom_ids())
        (reply,) = emulator.bot_messages(last_thread(emulator, emulator.general))
        shown_once(reply)
        assert_shows_answer([reply], using_fake.last("Is France in the article?").answer, article)
        after = records.stats()
        assert (after.answered - before.answered, after.refused - before.refused) == (3, 2)

        # A question for the model still takes its place in line and shows it at once.
        queued = await emulator.slash("ask", {"question": "And the B-end, in line?"}, user=erin)
        await emulator.wait_for(lambda: emulator.original(queued), TIMEOUT)
        waiting = emulator.original(queued)
        assert waiting is not None and waiting.states[0].content == position_text(1)
    finally:
        release.set()
        fake.held.pop(held_question, None)
        fake.model_free.discard(repeat)
    await settle(emulator, bot, lambda: interaction_done(emulator, queued))
    for interaction, question in ((running, held_question), (queued, "And the B-end, in line?")):
        call = using_fake.last(question)
        assert call.model and call.answer is not None
        assert_shows_answer(messages_of(emulator, interaction), call.answer, article)
    assert errors_of(emulator, start) == []
