"""Answers that need no model skip the line: while the model is busy with one member's question,
another's off-topic or repeated question is posted at once, in its final form, as the first
response, even when the line is full or the asker has 2 questions waiting; a question for the
model still waits in line and says so, or is turned away as before. Every question spends a token
from the asker's bucket, an instant answer too; one the line turned away gives it back."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.answering import Answer
from bot.discord_app.client import BUSY, RATE_LIMITED, TOO_MANY_WAITING, ArticleBot
from bot.discord_app.format import PROGRESS_MARK, position_text
from bot.records import GuildConfig, RecordStore
from index.article import Article
from tests.discord.fake_answerer import OFF_TOPIC, FakeAnswerer, RecordingAnswerer
from tests.discord.helpers import (
    TIMEOUT,
    assert_shows_answer,
    errors_of,
    last_thread,
    messages_of,
    settle,
)
from tests.discord_emulator import DiscordEmulator, Interaction, Message, User
from tests.discord_emulator.control import interaction_done
from tests.discord_emulator.model import EPHEMERAL

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
        await response_of(emulator, queued)
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


async def test_a_full_line_and_two_questions_waiting_hold_back_only_questions_for_the_model(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    using_fake: RecordingAnswerer,
    article: Article,
    tuned: Callable[..., None],
) -> None:
    fake = using_fake.inner
    assert isinstance(fake, FakeAnswerer)
    start = len(emulator.requests)
    frank, erin, gus = (emulator.add_member(n) for n in ("frank", "erin", "gus"))
    held_question = "What about the B-end, holding the line?"
    release = fake.hold(held_question)
    repeat = "What is the article about, for erin?"
    fake.model_free.add(repeat)
    bot.set_guild_config(emulator.guild.id, GuildConfig(ask_channels=[emulator.ask_channel.id]))
    queued: list[Interaction] = []
    try:
        running = await emulator.slash("ask", {"question": held_question}, user=frank)
        await emulator.wait_for(
            lambda: any(c.question == held_question for c in using_fake.calls), TIMEOUT
        )
        queued = [
            await emulator.slash("ask", {"question": f"B-end, erin waiting {n}"}, user=erin)
            for n in (1, 2)
        ]
        await emulator.wait_for(lambda: bot.queue.waiting_of(erin.id) == 2, TIMEOUT)

        # Erin has 2 questions waiting: what needs no model is answered at once all the same,
        # whichever way she asks.
        for question in ("Who won in France, erin?", repeat):
            interaction = await emulator.slash("ask", {"question": question}, user=erin)
            original = await response_of(emulator, interaction)
            shown_once(original)
            assert not original.flags & EPHEMERAL
            assert_shows_answer(
                messages_of(emulator, interaction), instant_answer(using_fake, question), article
            )
        mentioned = await emulator.mention(
            erin, emulator.general, f"{emulator.bot_user.mention} Is France in it, erin?"
        )
        in_ask_channel = await emulator.send_message(
            erin, emulator.ask_channel, "Is France in the article, erin?"
        )
        for message in (mentioned, in_ask_channel):
            reply = await thread_reply(emulator, message)
            shown_once(reply)
            assert reply.content == OFF_TOPIC
        # ... while a question for the model is turned away as before, only she sees why.
        third = await emulator.slash("ask", {"question": "B-end, erin 3"}, user=erin)
        original = await response_of(emulator, third)
        assert original.flags & EPHEMERAL
        assert original.content == TOO_MANY_WAITING.format(n=2)
        fourth = await emulator.mention(
            erin, emulator.general, f"{emulator.bot_user.mention} What about the B-end, erin 4?"
        )
        notice = await emulator.wait_for(lambda: notices(emulator, fourth), TIMEOUT)
        assert [m.content for m in notice] == [TOO_MANY_WAITING.format(n=2)]
        assert fourth.id not in emulator.channels  # no thread for a question not taken
        assert not release.is_set() and bot.queue.waiting_of(erin.id) == 2

        # The line is full now. Gus has 2 tokens; the question the line turns away gives its
        # token back, each instant answer spends one, the third is rate limited.
        tuned(max_queue=2, rate_limit_per_minute=0.1, rate_limit_burst=2)
        busy = await emulator.slash("ask", {"question": "B-end, gus"}, user=gus)
        original = await response_of(emulator, busy)
        assert original.flags & EPHEMERAL and original.content == BUSY.format(n=3)
        await answered_at_once(emulator, gus, using_fake, "Is France in it, gus?")
        interaction = await emulator.slash("ask", {"question": "Who won in France, gus?"}, user=gus)
        original = await response_of(emulator, interaction)
        shown_once(original)
        assert original.content == OFF_TOPIC
        instant_answer(using_fake, "Who won in France, gus?")
        limited = await emulator.slash("ask", {"question": "France again, gus?"}, user=gus)
        original = await response_of(emulator, limited)
        assert original.flags & EPHEMERAL
        assert original.content.startswith(RATE_LIMITED.split("{")[0])
        again = await emulator.mention(
            gus, emulator.general, f"{emulator.bot_user.mention} France once more, gus?"
        )
        notice = await emulator.wait_for(lambda: notices(emulator, again), TIMEOUT)
        assert notice[0].content.startswith(RATE_LIMITED.split("{")[0])
        assert not release.is_set()
    finally:
        release.set()
        fake.held.pop(held_question, None)
        fake.model_free.discard(repeat)
        bot.set_guild_config(emulator.guild.id, GuildConfig())
    await settle(
        emulator, bot, lambda: all(interaction_done(emulator, i) for i in (running, *queued))
    )
    asked = [c.question for c in using_fake.calls]
    for question in ("B-end, erin 3", "What about the B-end, erin 4?", "B-end, gus"):
        assert question not in asked
    for question in ("France again, gus?", "France once more, gus?"):
        assert question not in asked
    for interaction in (running, *queued):
        call = using_fake.last(interaction.options["question"])
        assert call.model and call.answer is not None
        assert_shows_answer(messages_of(emulator, interaction), call.answer, article)
    assert errors_of(emulator, start) == []


def instant_answer(answerer: RecordingAnswerer, question: str) -> Answer:
    call = answerer.last(question)
    assert not call.model and call.answer is not None
    return call.answer


async def response_of(emulator: DiscordEmulator, interaction: Interaction) -> Message:
    message: Message = await emulator.wait_for(lambda: emulator.original(interaction), TIMEOUT)
    return message


async def thread_reply(emulator: DiscordEmulator, message: Message) -> Message:
    """The bot's one message in the thread started from ``message``."""

    def replies() -> list[Message]:
        thread = emulator.channels.get(message.id)
        return emulator.bot_messages(thread) if thread is not None else []

    (reply,) = await emulator.wait_for(replies, TIMEOUT)
    return reply


def notices(emulator: DiscordEmulator, message: Message) -> list[Message]:
    """The bot's replies to ``message`` in its own channel (not in a thread)."""
    return [m for m in emulator.bot_messages(message.channel_id) if m.reference_id == message.id]


async def answered_at_once(
    emulator: DiscordEmulator, user: User, answerer: RecordingAnswerer, question: str
) -> None:
    message = await emulator.mention(
        user, emulator.general, f"{emulator.bot_user.mention} {question}"
    )
    reply = await thread_reply(emulator, message)
    shown_once(reply)
    assert reply.content == OFF_TOPIC
    instant_answer(answerer, question)
