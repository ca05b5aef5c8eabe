"""End to end: the real discord.py client, REST and gateway code against the local emulator."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import discord
import pytest

from bot.answer_queue import FAILED_TEXT
from bot.discord_app.client import BUSY, NOT_HERE, RATE_LIMITED, ArticleBot
from bot.discord_app.format import CURSOR, PROGRESS_MARK, SOURCES_HEADING
from index.article import Article
from tests.discord.fake_answerer import RecordingAnswerer
from tests.discord.helpers import (
    TIMEOUT,
    ask,
    assert_shows_answer,
    errors_of,
    messages_of,
    settle,
    squeeze,
)
from tests.discord_emulator import DiscordEmulator, Message
from tests.discord_emulator.control import interaction_done
from tests.discord_emulator.model import EPHEMERAL

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_commands_are_registered(
    emulator: DiscordEmulator, bot: ArticleBot, article: Article
) -> None:
    commands = {c["name"]: c for c in emulator.all_commands()}
    assert set(commands) == {"ask", "outline", "section", "gaps", "stats", "reindex", "config"}
    (question,) = commands["ask"]["options"]
    assert question["name"] == "question" and question["type"] == 3 and question["required"]
    (name,) = commands["section"]["options"]
    assert [c["value"] for c in name["choices"]] == list(article.labels)
    assert all(len(c["name"]) <= 100 for c in name["choices"])


async def test_ask_defers_streams_and_cites_the_section(
    emulator: DiscordEmulator, bot: ArticleBot, article: Article, answerer: RecordingAnswerer
) -> None:
    start = len(emulator.requests)
    question = "What does the author say Alipay should do about the B-end? Explain slowly."
    interaction = await ask(emulator, bot, question)
    answer = answerer.last(question).answer
    assert answer is not None and not answer.refused
    requests = emulator.interaction_requests(interaction)
    # Answered within a second by a response showing the question's place, then only edits.
    first = requests[0]
    assert first.path.endswith("/callback") and first.body["type"] == 4
    assert first.at - interaction.created < 3.0
    assert all(r.path.endswith("/messages/@original") for r in requests[1:])
    original = emulator.original(interaction)
    assert original is not None
    states = original.states
    assert not states[0].loading
    assert states[0].content.startswith(PROGRESS_MARK) or states[0].content.endswith(CURSOR)
    # The answer streamed into the message before the final version replaced it.
    streamed = [s.content.removesuffix(CURSOR) for s in states if s.content.endswith(CURSOR)]
    assert len(streamed) >= 2, [s.content for s in states]
    assert all(b.startswith(a.rstrip()) for a, b in itertools.pairwise(streamed))
    # At most one edit per stream interval.
    edits = [r.at for r in requests[1:]]
    gaps = [b - a for a, b in itertools.pairwise(edits)]
    print(f"edit gaps (s): {[round(g, 2) for g in gaps]}")
    assert min(gaps) >= bot.settings.stream_interval_s * 0.9
    # The final message is the embed: the answer, then the cited sections with verbatim quotes.
    assert_shows_answer(messages_of(emulator, interaction), answer, article)
    assert original.embeds[-1]["description"].endswith(SOURCES_HEADING)
    assert original.embeds[-1]["footer"]["text"].startswith("Sections " + answer.sections[0])
    assert errors_of(emulator, start) == []


async def test_a_refusal_is_plain_text_without_sources(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, article: Article
) -> None:
    question = "What is the capital of France?"
    interaction = await ask(emulator, bot, question)
    answer = answerer.last(question).answer
    assert answer is not None and answer.refused
    final = emulator.original(interaction)
    assert final is not None and final.embeds == () and "Sources" not in final.content
    assert_shows_answer(messages_of(emulator, interaction), answer, article)


async def test_a_long_answer_is_split_across_messages(
    emulator: DiscordEmulator, bot: ArticleBot, using_fake: RecordingAnswerer, article: Article
) -> None:
    start = len(emulator.requests)
    interaction = await ask(emulator, bot, "Give me the long version")
    assert errors_of(emulator, start) == []  # in particular no 50035 for an oversized message
    messages = messages_of(emulator, interaction)
    assert len(messages) >= 2
    answer = using_fake.last("Give me the long version").answer
    assert answer is not None and len(answer.text) > 4096
    assert_shows_answer(messages, answer, article)
    fields = [f for m in messages for e in m.embeds for f in e.get("fields", [])]
    assert [f["name"].split(" — ")[0] for f in fields] == ["§I", "§III"]


QUESTIONS = [
    "Who competes with Alipay in mobile payments?",
    "What does the author think of Alipay's AI experiments?",
    "What should FinTech players shift their focus to?",
    "When was the article published?",
    "What is Alipay's grandiose dream?",
]


async def test_five_concurrent_questions_are_answered_in_order(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, article: Article
) -> None:
    users = [emulator.add_user(f"reader{i}") for i in range(5)]
    calls_before = len(answerer.calls)
    interactions = []
    for question, user in zip(QUESTIONS, users, strict=True):
        interactions.append(await emulator.slash("ask", {"question": question}, user=user))
    await settle(emulator, bot, lambda: all(interaction_done(emulator, it) for it in interactions))
    calls = answerer.calls[calls_before:]
    assert [c.question for c in calls] == QUESTIONS
    assert answerer.max_active == 1
    for i, (it, call) in enumerate(zip(interactions, calls, strict=True)):
        original = emulator.original(it)
        assert original is not None
        shown = [s.content for s in original.states]
        if i >= 1:
            # Each asker saw how many questions were ahead of theirs.
            noun = "question" if i == 1 else "questions"
            assert any(f"{i} {noun} ahead of yours" in s for s in shown), shown
        assert call.answer is not None
        assert_shows_answer(messages_of(emulator, it), call.answer, article)
        assert it.callback_at is not None and it.callback_at - it.created < 3.0


async def test_a_rate_limited_edit_is_retried(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, article: Article
) -> None:
    rule = emulator.rate_limit(
        r"^/webhooks/\d+/[^/]+/messages/@original$", 1, method="PATCH", retry_after=0.3
    )
    # Slow enough to stream: an answer ready within the first second is posted, never edited.
    question = "Why does the author say traffic is not enough for Alipay? Explain slowly."
    interaction = await ask(emulator, bot, question)
    assert rule.hits == 1
    statuses = [r.status for r in emulator.interaction_requests(interaction)]
    assert 429 in statuses
    assert statuses[statuses.index(429) + 1] == 200  # the same edit, retried
    answer = answerer.last(question).answer
    assert_shows_answer(messages_of(emulator, interaction), answer, article)


async def test_a_dropped_gateway_is_resumed(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, article: Article
) -> None:
    resumes = emulator.gateway.resumes
    assert await emulator.drop_gateway(4000) == 1
    # A question asked while the bot is away is replayed when it resumes.
    question = "What does the article say about WeChat Pay?"
    interaction = await emulator.slash("ask", {"question": question})
    await emulator.wait_for(lambda: emulator.gateway.resumes > resumes, TIMEOUT)
    await settle(emulator, bot, lambda: interaction_done(emulator, interaction))
    assert interaction.callback_at is not None
    answer = answerer.last(question).answer
    assert_shows_answer(messages_of(emulator, interaction), answer, article)


async def test_reconnect_request_and_invalidated_session(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, article: Article
) -> None:
    resumes, identifies = emulator.gateway.resumes, emulator.gateway.identifies
    assert await emulator.request_reconnect() == 1
    await emulator.wait_for(lambda: emulator.gateway.resumes > resumes, TIMEOUT)
    assert await emulator.invalidate_sessions(resumable=False) == 1
    await emulator.wait_for(lambda: emulator.gateway.identifies > identifies, TIMEOUT)
    await emulator.wait_ready()
    question = "What does the conclusion say?"
    interaction = await ask(emulator, bot, question)
    answer = answerer.last(question).answer
    assert_shows_answer(messages_of(emulator, interaction), answer, article)


async def test_a_mention_gets_a_thread_and_follow_ups_keep_context(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, article: Article
) -> None:
    start = len(emulator.requests)
    text = "What does the author say about B-end services?"
    question = await emulator.mention(emulator.alice, emulator.general, text)
    await settle(emulator, bot, lambda: question.id in emulator.channels)
    thread = emulator.channels[question.id]  # a thread started from a message shares its id
    assert thread.name == text and thread.parent_id == emulator.general.id
    await settle(emulator, bot, lambda: emulator.bot_messages(thread))
    (reply,) = emulator.bot_messages(thread)
    first = answerer.last(text).answer
    assert first is not None and not first.refused
    assert_shows_answer([reply], first, article)
    # Posted in its final form when ready within the first second, else progress came first.
    assert len(reply.states) == 1 or reply.states[0].content.startswith(PROGRESS_MARK)

    follow_up = "Why does the author think that matters?"
    await emulator.send_message(emulator.alice, thread, follow_up)  # no mention needed
    await settle(emulator, bot, lambda: len(emulator.bot_messages(thread)) == 2)
    call = answerer.last(follow_up)
    assert [(t.question, t.answer) for t in call.history] == [(text, first.text)]
    second = emulator.bot_messages(thread)[-1]
    assert second.reference_id is not None
    assert_shows_answer([second], call.answer, article)
    assert errors_of(emulator, start) == []


async def test_follow_ups_in_an_older_thread_read_its_history(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer
) -> None:
    text = "What does the author think of Alipay's platform strategy?"
    question = await emulator.mention(emulator.alice, emulator.general, text)
    await settle(emulator, bot, lambda: question.id in emulator.channels)
    thread = emulator.channels[question.id]
    await settle(emulator, bot, lambda: emulator.bot_messages(thread))
    first = answerer.last(text).answer
    assert first is not None and not first.refused
    mention = bot.get_cog("MentionCog")
    mention.turns.clear()  # type: ignore[union-attr]  # as after a restart
    follow_up = "Is there any evidence for that?"
    await emulator.send_message(emulator.alice, thread, follow_up)
    await settle(emulator, bot, lambda: len(emulator.bot_messages(thread)) == 2)
    (turn,) = answerer.last(follow_up).history
    assert turn.question == text
    assert squeeze(turn.answer) == squeeze(first.text)
    assert any(
        r.method == "GET" and r.path == f"/channels/{thread.id}/messages" for r in emulator.requests
    )


async def test_without_thread_permission_the_answer_is_a_reply(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer, article: Article
) -> None:
    text = "Who owns Alipay?"
    question = await emulator.mention(emulator.alice, emulator.no_threads, text)
    await settle(emulator, bot, lambda: emulator.bot_messages(emulator.no_threads))
    refused = [r for r in emulator.requests if r.path.endswith("/threads")][-1]
    assert refused.status == 403 and refused.response["code"] == 50013
    (reply,) = emulator.bot_messages(emulator.no_threads)
    assert reply.reference_id == question.id
    assert_shows_answer([reply], answerer.last(text).answer, article)
    assert emulator.threads_of(emulator.no_threads) == []


async def test_a_direct_message_is_answered(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    answerer: RecordingAnswerer,
    article: Article,
    tuned: Callable[..., None],
) -> None:
    text = "What is the article about?"
    dm = await emulator.send_dm(emulator.alice, text)
    channel = emulator.channels[dm.channel_id]
    await settle(emulator, bot, lambda: emulator.bot_messages(channel))
    (reply,) = emulator.bot_messages(channel)
    assert reply.reference_id == dm.id
    assert_shows_answer([reply], answerer.last(text).answer, article)

    tuned(answer_dms=False)
    calls = len(answerer.calls)
    await emulator.send_dm(emulator.alice, "Are DMs off now?")
    # A question the bot does answer, sent after it: once that one is asked, the DM before it
    # has been handled (the gateway delivers events in order).
    await emulator.mention(emulator.alice, emulator.general, "What about the B-end?")
    await settle(emulator, bot, lambda: len(answerer.calls) > calls)
    assert [c.question for c in answerer.calls[calls:]] == ["What about the B-end?"]
    assert len(emulator.bot_messages(channel)) == 1


async def test_a_bare_mention_gets_help(emulator: DiscordEmulator, bot: ArticleBot) -> None:
    threads = len(emulator.threads_of(emulator.general))
    question = await emulator.send_message(
        emulator.alice, emulator.general, emulator.bot_user.mention
    )

    def replies() -> list[Message]:
        return [m for m in emulator.bot_messages(emulator.general) if m.reference_id == question.id]

    await settle(emulator, bot, replies)
    (message,) = replies()
    assert "/ask" in message.content and "§II" in message.content
    assert len(emulator.threads_of(emulator.general)) == threads


async def test_an_empty_token_bucket_and_a_full_queue_answer_privately(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    using_fake: RecordingAnswerer,
    tuned: Callable[..., None],
) -> None:
    tuned(rate_limit_per_minute=1.0, rate_limit_burst=1)
    await ask(emulator, bot, "B-end, first")
    second = await emulator.slash("ask", {"question": "B-end, second"})
    await settle(emulator, bot, lambda: emulator.original(second))
    message = emulator.original(second)
    assert message is not None and second.response_type == 4
    assert message.flags & EPHEMERAL
    assert message.content.startswith(RATE_LIMITED.split("{")[0])
    # One token a minute: the next comes just under 60 s after the first question took it.
    assert 55 <= int(message.content.split()[2]) <= 60, message.content
    assert using_fake.calls[-1].question == "B-end, first"

    tuned(max_queue=1)
    bob, carol, dave = (emulator.add_user(n) for n in ("bob", "carol", "dave"))
    running = await emulator.slash("ask", {"question": "B-end slow one"}, user=bob)
    await emulator.wait_for(lambda: bot.queue.busy, TIMEOUT)
    waiting = await emulator.slash("ask", {"question": "B-end waiting"}, user=carol)
    await emulator.wait_for(lambda: bot.queue.waiting == 1, TIMEOUT)
    rejected = await emulator.slash("ask", {"question": "B-end rejected"}, user=dave)
    await emulator.wait_for(lambda: emulator.original(rejected), TIMEOUT)
    message = emulator.original(rejected)
    assert message is not None and message.flags & EPHEMERAL
    assert message.content == BUSY.format(n=2)
    await settle(
        emulator,
        bot,
        lambda: all(interaction_done(emulator, i) for i in (running, waiting)),
    )
    assert "B-end rejected" not in [c.question for c in using_fake.calls]


async def test_a_channel_outside_the_allowed_list_is_declined(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    answerer: RecordingAnswerer,
    tuned: Callable[..., None],
) -> None:
    tuned(allowed_channels=[emulator.no_threads.id])
    calls = len(answerer.calls)
    interaction = await emulator.slash("ask", {"question": "Anything?"}, channel=emulator.general)
    await settle(emulator, bot, lambda: emulator.original(interaction))
    message = emulator.original(interaction)
    assert message is not None and message.flags & EPHEMERAL and message.content == NOT_HERE
    assert len(answerer.calls) == calls
    allowed = await ask(emulator, bot, "What about Meituan Pay?", channel=emulator.no_threads)
    assert interaction_done(emulator, allowed) and len(answerer.calls) == calls + 1


async def test_a_fault_in_the_answerer_is_reported_and_the_bot_goes_on(
    emulator: DiscordEmulator, bot: ArticleBot, using_fake: RecordingAnswerer
) -> None:
    broken = await ask(emulator, bot, "boom")
    assert emulator.original(broken).content == FAILED_TEXT  # type: ignore[union-attr]
    fine = await ask(emulator, bot, "B-end after the fault?")
    assert emulator.original(fine).embeds  # type: ignore[union-attr]


async def test_outline_and_section(
    emulator: DiscordEmulator, bot: ArticleBot, article: Article
) -> None:
    outline = await emulator.slash("outline")
    await settle(emulator, bot, lambda: emulator.original(outline))
    text = emulator.original(outline).content  # type: ignore[union-attr]
    for s in article.sections:
        assert f"§{s.label}** — {s.title}" in text

    section = await emulator.slash("section", {"name": "II"})
    await settle(emulator, bot, lambda: len(messages_of(emulator, section)) == 2)
    messages = messages_of(emulator, section)
    assert all(m.flags & EPHEMERAL for m in messages)
    body = "".join(m.content for m in messages)
    assert body.startswith(f"**§II — {article.section('II').title}**")
    assert squeeze(article.section("II").body) in squeeze(body)


async def test_other_bots_are_ignored(
    emulator: DiscordEmulator, bot: ArticleBot, answerer: RecordingAnswerer
) -> None:
    other = emulator.add_user("another-bot", bot=True)
    calls = len(answerer.calls)
    ignored = await emulator.mention(other, emulator.general, "What about the B-end?")
    # A member's question after it: once that one is asked, the bot's has been handled.
    await emulator.mention(emulator.alice, emulator.general, "What about AI?")
    await settle(emulator, bot, lambda: len(answerer.calls) > calls)
    assert [c.question for c in answerer.calls[calls:]] == ["What about AI?"]
    assert not [m for m in emulator.bot_messages(emulator.general) if m.reference_id == ignored.id]


async def test_commands_can_be_synced_to_one_guild(
    emulator: DiscordEmulator, bot: ArticleBot
) -> None:
    bot.sync_guild_id = emulator.guild.id
    try:
        await bot.sync_commands()
        names = {c["name"] for c in emulator.guild_commands[emulator.guild.id]}
        assert names == {"ask", "outline", "section", "gaps", "stats", "reindex", "config"}
    finally:
        bot.sync_guild_id = None
        bot.tree.clear_commands(guild=discord.Object(emulator.guild.id))
        emulator.guild_commands.clear()
