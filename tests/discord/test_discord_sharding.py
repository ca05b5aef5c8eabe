"""Sharding needs no code: with Discord recommending two shards, each serves its own guilds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bot.answer_queue import AnswerQueue
from bot.discord_app.client import ArticleBot
from index.article import Article
from tests.discord.fake_answerer import FakeAnswerer, RecordingAnswerer
from tests.discord.helpers import ask, assert_shows_answer, make_settings, messages_of, settle
from tests.discord_emulator import DiscordEmulator


@pytest.fixture
def discord_globals() -> Iterator[None]:
    saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def test_two_shards_each_answer_their_guilds(article: Article, discord_globals: None) -> None:
    async with DiscordEmulator(recommended_shards=2) as emu:
        discord.http.Route.BASE = emu.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
        # One more guild than the default, until the two sit on different shards.
        other = emu.add_guild("Second Guild")
        while (other.id >> 22) % 2 == (emu.guild.id >> 22) % 2:
            await asyncio.sleep(0.002)
            del emu.guilds[other.id]
            other = emu.add_guild("Second Guild")
        channel = emu.add_channel(other, "lounge")
        answerer = RecordingAnswerer(FakeAnswerer(article))
        bot = ArticleBot(
            make_settings(), AnswerQueue(answerer, 20), article, guild_ready_timeout=0.1
        )
        await bot.login(emu.token)
        task = asyncio.get_running_loop().create_task(bot.connect())
        try:
            await emu.wait_ready(shards=2, timeout=60)
            await asyncio.wait_for(bot.commands_synced.wait(), 60)
            assert bot.shard_count == 2
            assert sorted(s.shard for s in emu.gateway.sessions.values()) == [(0, 2), (1, 2)]
            for where in (emu.general, channel):
                question = f"What about the B-end in #{where.name}?"
                interaction = await ask(emu, bot, question, channel=where)
                assert_shows_answer(
                    messages_of(emu, interaction), answerer.last(question).answer, article
                )
            await settle(emu, bot)
        finally:
            await bot.queue.close(wait_s=1)
            await bot.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
