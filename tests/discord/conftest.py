"""Shared fixtures: the article, the answerer, the local Discord emulator and a bot connected to it.

The emulator and the bot are shared by the whole session (starting them costs seconds); tests
that need other settings adjust the running bot through ``tuned`` and get them restored after.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import discord
import pytest
import pytest_asyncio
import yarl
from discord.gateway import DiscordWebSocket

from bot.answer_queue import AnswerQueue
from bot.discord_app.client import ArticleBot
from bot.records import RecordStore
from index.article import Article, load_article
from tests.discord.fake_answerer import FakeAnswerer, RecordingAnswerer
from tests.discord.helpers import make_settings
from tests.discord_emulator import DiscordEmulator

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def article() -> Article:
    return load_article()


def real_answerer_everywhere() -> bool:
    """``ARTICLE_BOT_DISCORD_TESTS_ANSWERER=real`` runs every end-to-end test on the real pipeline.

    By default they run on the deterministic answerer (fast, and able to show long answers,
    faults and slowness on demand); ``test_discord_real_pipeline.py`` runs the main flows on the
    real pipeline in any case.
    """
    return os.environ.get("ARTICLE_BOT_DISCORD_TESTS_ANSWERER", "").lower() == "real"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not real_answerer_everywhere():
        return
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here) and "answerer" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def build_real_answerer() -> RecordingAnswerer:
    from bot.settings import load_settings
    from bot.wiring import build_answerer

    return RecordingAnswerer(build_answerer(load_settings(), openings="wait"))


@pytest.fixture(scope="session")
def fake_answerer(article: Article) -> RecordingAnswerer:
    """The deterministic answerer, for tests of behaviour a real model cannot be made to show."""
    return RecordingAnswerer(FakeAnswerer(article))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def real_answerer() -> RecordingAnswerer:
    """The real answering pipeline (index, embedder, model), loaded once, off the event loop."""
    return await asyncio.to_thread(build_real_answerer)


@pytest.fixture(scope="session")
def answerer(article: Article) -> RecordingAnswerer:
    """The answerer behind the bot in end-to-end tests (the one place to switch it)."""
    if real_answerer_everywhere():
        return build_real_answerer()
    return RecordingAnswerer(FakeAnswerer(article))


@contextlib.asynccontextmanager
async def emulated_discord() -> AsyncIterator[DiscordEmulator]:
    """An emulator that discord.py talks to until the block ends."""
    emu = await DiscordEmulator().start()
    old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = emu.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    try:
        yield emu
    finally:
        await emu.stop()
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def emulator() -> AsyncIterator[DiscordEmulator]:
    async with emulated_discord() as emu:
        yield emu


@pytest.fixture(scope="session")
def records(tmp_path_factory: pytest.TempPathFactory) -> RecordStore:
    return RecordStore(tmp_path_factory.mktemp("records") / "records.sqlite3")


@contextlib.asynccontextmanager
async def running_bot(
    emulator: DiscordEmulator,
    answerer: Any,
    article: Article,
    records: RecordStore | None,
    **settings: Any,
) -> AsyncIterator[ArticleBot]:
    """A bot connected to the emulator until the block ends (a restart is two blocks)."""
    config = make_settings(**settings)
    queue = AnswerQueue(answerer, config.max_queue, max_per_member=config.max_waiting_per_member)
    client = ArticleBot(config, queue, article, records=records, guild_ready_timeout=0.1)
    await client.login(emulator.token)
    task = asyncio.get_running_loop().create_task(client.connect())
    await asyncio.wait_for(client.commands_synced.wait(), 20)
    try:
        yield client
    finally:
        await queue.close(cancel_pending=True, wait_s=5)
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def bot(
    emulator: DiscordEmulator, answerer: RecordingAnswerer, article: Article, records: RecordStore
) -> AsyncIterator[ArticleBot]:
    async with running_bot(emulator, answerer, article, records) as client:
        yield client


@pytest.fixture
def tuned(bot: ArticleBot) -> Iterator[Any]:
    """Change the running bot's settings for one test: ``tuned(rate_limit_burst=1,
    max_queue=1)``; the members' token buckets start full."""
    saved_settings = bot.settings
    saved_max = bot.queue.max_size
    saved_per_member = bot.queue.max_per_member

    def tune(**changes: Any) -> None:
        bot.settings = saved_settings.model_copy(update=changes)
        bot._buckets.clear()
        if "max_queue" in changes:
            bot.queue.max_size = changes["max_queue"]
        if "max_waiting_per_member" in changes:
            bot.queue.max_per_member = changes["max_waiting_per_member"]

    yield tune
    bot.settings = saved_settings
    bot._buckets.clear()
    bot.queue.max_size = saved_max
    bot.queue.max_per_member = saved_per_member


@pytest.fixture
def using_fake(bot: ArticleBot, fake_answerer: RecordingAnswerer) -> Iterator[RecordingAnswerer]:
    """Answer with the deterministic answerer for one test (long answers, faults, slowness)."""
    assert not bot.queue.busy
    saved = bot.queue.answerer
    bot.queue.answerer = fake_answerer
    yield fake_answerer
    bot.queue.answerer = saved


@pytest.fixture
def using_real(bot: ArticleBot, real_answerer: RecordingAnswerer) -> Iterator[RecordingAnswerer]:
    """Answer with the real pipeline for one test."""
    assert not bot.queue.busy
    saved = bot.queue.answerer
    bot.queue.answerer = real_answerer
    yield real_answerer
    bot.queue.answerer = saved
