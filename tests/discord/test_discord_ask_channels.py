"""Ask channels and forums: questions answered without a mention, other messages left alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.discord_app.client import ArticleBot
from bot.discord_app.questions import is_question
from bot.records import GuildConfig
from tests.discord.fake_answerer import RecordingAnswerer
from tests.discord.helpers import settle
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def ask_channels(bot: ArticleBot, emulator: DiscordEmulator) -> Iterator[dict[str, object]]:
    """#ask (text) and #ask-forum (forum), set as this server's ask channels with /config's
    storage; both exist before the bot connects so it knows them from GUILD_CREATE."""
    world = emulator_world(emulator)
    bot.set_guild_config(
        emulator.guild.id, GuildConfig(ask_channels=[world["ask"].id, world["forum"].id])
    )
    yield world
    bot.set_guild_config(emulator.guild.id, GuildConfig())


def emulator_world(emulator: DiscordEmulator) -> dict[str, object]:
    return {"ask": emulator.ask_channel, "forum": emulator.ask_forum}


async def test_what_counts_as_a_question() -> None:
    assert is_question("What is the B-end?")
    assert is_question("why does the author criticise the super app")
    assert is_question("B-end?")
    assert not is_question("thanks, that helps!")
    assert not is_question("lol")
    assert not is_question("Is")
    assert not is_question("")


async def test_a_question_in_an_ask_channel_is_answered_in_a_thread_without_a_mention(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    ask_channels: dict[str, object],
    using_fake: RecordingAnswerer,
) -> None:
    channel = ask_channels["ask"]
    chatter = await emulator.send_message(emulator.alice, channel, "good morning all")  # type: ignore[arg-type]
    question = await emulator.send_message(
        emulator.alice,
        channel,
        "What does the author say about the B-end?",  # type: ignore[arg-type]
    )
    await settle(emulator, bot, lambda: question.id in emulator.channels)
    thread = emulator.channels[question.id]
    await settle(emulator, bot, lambda: emulator.bot_messages(thread))
    (answer,) = emulator.bot_messages(thread)
    assert answer.embeds and len(answer.custom_ids()) == 3
    # The greeting came first and was handled first: it got no thread and no reply.
    assert chatter.id not in emulator.channels
    assert not [m for m in emulator.bot_messages(channel) if m.reference_id == chatter.id]  # type: ignore[arg-type]
    assert "good morning all" not in [c.question for c in using_fake.calls]


async def test_a_new_forum_post_gets_a_first_answer_and_questions_after_it_too(
    emulator: DiscordEmulator,
    bot: ArticleBot,
    ask_channels: dict[str, object],
    using_fake: RecordingAnswerer,
) -> None:
    forum = ask_channels["forum"]
    post = await emulator.forum_post(
        emulator.alice,
        forum,
        "B-end strategy",
        "I don't get the part on businesses.",  # type: ignore[arg-type]
    )
    await settle(emulator, bot, lambda: emulator.bot_messages(post))
    (first,) = emulator.bot_messages(post)
    assert first.embeds
    assert using_fake.calls[-1].question == "B-end strategy: I don't get the part on businesses."
    await emulator.send_message(emulator.alice, post, "ok thanks")
    follow_up = await emulator.send_message(emulator.alice, post, "And why does it matter?")
    await settle(emulator, bot, lambda: len(emulator.bot_messages(post)) == 2)
    second = emulator.bot_messages(post)[-1]
    assert second.reference_id == follow_up.id
    assert "ok thanks" not in [c.question for c in using_fake.calls]
    assert using_fake.calls[-1].history[-1].question.startswith("B-end strategy")
