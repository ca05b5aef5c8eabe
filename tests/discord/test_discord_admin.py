"""Admin commands over the emulator: who may use them, /gaps, /stats, /config, /reindex."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from bot.discord_app.client import ArticleBot
from bot.discord_app.cogs.admin import NOT_ADMIN
from bot.records import GuildConfig, RecordStore
from bot.records_report import render_stats
from bot.reindexing import ReindexOutcome
from index.article import Article
from tests.discord.fake_answerer import RecordingAnswerer
from tests.discord.helpers import TIMEOUT, ask, click, messages_of, settle
from tests.discord_emulator import DiscordEmulator, Message, User
from tests.discord_emulator.control import interaction_done
from tests.discord_emulator.model import EPHEMERAL

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def reply_to(
    emulator: DiscordEmulator, command: str, user: User | None = None, **options: object
) -> Message:
    """Run an admin command and return the bot's reply: its response, or its first follow-up
    when the response was a deferral."""
    interaction = await emulator.slash(command, dict(options), user=user)

    def reply() -> Message | None:
        if emulator.followups(interaction):
            return emulator.followups(interaction)[0]
        original = emulator.original(interaction)
        return original if original is not None and not original.state.loading else None

    message: Message = await emulator.wait_for(reply, TIMEOUT)
    return message


@pytest.fixture
def fresh_config(bot: ArticleBot, emulator: DiscordEmulator) -> Iterator[None]:
    bot.set_guild_config(emulator.guild.id, GuildConfig())
    yield
    bot.set_guild_config(emulator.guild.id, GuildConfig())


async def test_a_member_without_manage_server_is_refused_politely(
    emulator: DiscordEmulator, bot: ArticleBot
) -> None:
    member = emulator.add_member("gus")
    for command in ("gaps", "stats", "reindex", "config"):
        message = await reply_to(emulator, command, member)
        assert message.flags & EPHEMERAL
        assert message.content == NOT_ADMIN.format(command=command, roles="")


async def test_a_role_named_in_the_settings_makes_an_admin(
    emulator: DiscordEmulator, bot: ArticleBot, tuned: object, records: RecordStore
) -> None:
    helper = emulator.add_member("hana", role_ids=[emulator.admin_role])
    tuned(admin_roles=["Article Admins"])  # type: ignore[operator]
    message = await reply_to(emulator, "stats", helper)
    assert message.flags & EPHEMERAL
    assert message.content == render_stats(records.stats(emulator.guild.id))
    tuned(admin_roles=[])  # type: ignore[operator]
    refused = await reply_to(emulator, "stats", helper)
    assert refused.content.startswith("Sorry, only this server's admins")


async def test_gaps_lists_refused_questions_and_answers_marked_wrong(
    emulator: DiscordEmulator, bot: ArticleBot, using_fake: RecordingAnswerer
) -> None:
    for _ in range(2):
        await ask(emulator, bot, "Did France win the cup?")
    await ask(emulator, bot, "What about France's banks?")
    wrong = await ask(emulator, bot, "What about the B-end, marked wrong?")
    *_, last = messages_of(emulator, wrong)
    await click(emulator, emulator.add_member("ivan"), last, "down")
    await click(emulator, emulator.add_member("jun"), last, "wrong_source")

    message = await reply_to(emulator, "gaps")  # alice owns the server: Manage Server
    assert message.flags & EPHEMERAL
    text = message.content
    print(text)
    assert "**Questions the article could not answer**" in text
    assert "2× Did France win the cup?" in text and "1× What about France's banks?" in text
    assert text.index("2× Did France") < text.index("1× What about France")
    assert "2× What about the B-end, marked wrong? — 👎 1 · wrong source 1" in text

    stats = (await reply_to(emulator, "stats")).content
    assert "Refusal rate:" in stats and "👍 share:" in stats and "Latency p50 / p95:" in stats


async def test_config_shows_sets_and_checks_per_server_settings(
    emulator: DiscordEmulator, bot: ArticleBot, fresh_config: None, records: RecordStore
) -> None:
    shown = (await reply_to(emulator, "config")).content
    assert "Allowed channels: every channel" in shown and "Ask channels: none" in shown
    ask_here = emulator.add_channel(emulator.guild, "ask-here")
    # The bot learns of a channel made after it connected only from an event; use known ones.
    saved = await reply_to(
        emulator,
        "config",
        ask_channels=f"<#{emulator.no_threads.id}>",
        rate_per_minute=2.0,
        rate_burst=2,
    )
    assert saved.content.startswith("Saved.")
    assert f"Ask channels: <#{emulator.no_threads.id}>" in saved.content
    assert "Rate limit: 2 questions a minute, 2 in a row" in saved.content
    assert bot.rate(emulator.guild.id) == (2.0, 2)
    assert bot.is_ask_channel(emulator.no_threads.id)
    # Persisted: read back from the records file, not only the bot's memory.
    assert records.guild_config(emulator.guild.id).ask_channels == [emulator.no_threads.id]
    bad = await reply_to(emulator, "config", allowed_channels=f"<#{ask_here.id}>, general")
    assert bad.content.startswith("Not a channel: 'general'")
    unknown = await reply_to(emulator, "config", allowed_channels="123456789")
    assert unknown.content.startswith("123456789 is not a channel of this server")
    cleared = await reply_to(emulator, "config", ask_channels="default")
    assert "Ask channels: none" in cleared.content


class SlowReindexer:
    """Stands in for the index rebuild: takes its time on the worker thread, says what changed."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.release = threading.Event()
        self.started = threading.Event()

    def reindex(self) -> ReindexOutcome:
        self.started.set()
        assert self.release.wait(30)
        return ReindexOutcome(self.article, added=3, removed=1, passages=42, rebuilt=True)


async def test_reindex_says_what_changed_and_loses_no_question(
    emulator: DiscordEmulator, bot: ArticleBot, using_fake: RecordingAnswerer, article: Article
) -> None:
    reindexer = SlowReindexer(article)
    bot.reindexer = reindexer
    try:
        command = await emulator.slash("reindex", {})
        await asyncio.to_thread(reindexer.started.wait, 30)
        meanwhile = await emulator.slash("ask", {"question": "B-end, asked during reindex"})
        await emulator.wait_for(lambda: bot.queue.waiting == 1, TIMEOUT)
        reindexer.release.set()
        await settle(emulator, bot, lambda: interaction_done(emulator, meanwhile))
        (done,) = await emulator.wait_for(lambda: emulator.followups(command), TIMEOUT)
        assert done.flags & EPHEMERAL
        assert (
            done.content
            == "Rebuilt the index from the article file: 42 passages, 3 added, 1 removed."
        )
        assert using_fake.calls[-1].question == "B-end, asked during reindex"
        assert emulator.original(meanwhile).embeds  # type: ignore[union-attr]
    finally:
        bot.reindexer = None
