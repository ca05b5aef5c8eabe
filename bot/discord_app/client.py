"""The Discord client: an auto-sharded bot that owns the answer queue and loads the cogs."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer_queue import AnswerQueue, Cooldown, MetricsSink, QueueFull
from bot.answering import Answer, Turn
from bot.discord_app.format import (
    CONTENT_LIMIT,
    answer_embeds,
    refusal_messages,
    section_titles,
)
from bot.discord_app.live import LiveAnswer, Payload, ReplyTarget
from bot.discord_app.text_split import shorten
from bot.settings import Settings
from index.article import Article

log = logging.getLogger(__name__)
question_log = logging.getLogger("bot.questions")

SHUTTING_DOWN = "The bot is shutting down and not taking questions; please ask again later."
BUSY = "I'm answering {n} questions already; please ask again in a minute."
COOLDOWN = "Please wait {s:.0f} more second{plural} before asking again."
NOT_HERE = "I don't answer questions in this channel."
FAILED = "Something went wrong while answering. Please try again."


def bot_intents() -> discord.Intents:
    """Guilds, guild messages, DMs, and message content (privileged: needed to read mentions)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True
    return intents


def hash_user(user_id: int, salt: int | None) -> str:
    """A stable pseudonym for logs: who asked is not recorded, only that it was the same person."""
    return hashlib.sha256(f"{salt or 0}:{user_id}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Gate:
    """Why a question is not taken now, as a message for the asker (None: it is taken)."""

    message: str | None


class ArticleBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        queue: AnswerQueue,
        article: Article,
        *,
        metrics: MetricsSink | None = None,
        sync_guild_id: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            shard_count=settings.shard_count,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.queue = queue
        self.article = article
        self.titles = section_titles(article)
        self.metrics = metrics
        self.cooldown = Cooldown(settings.cooldown_s)
        self.sync_guild_id = sync_guild_id
        self.accepting = True
        self.commands_synced = asyncio.Event()
        self._answer_tasks: set[asyncio.Task[Any]] = set()
        self.tree.on_error = self._on_app_command_error  # type: ignore[method-assign]

    # -- start-up ----------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        from bot.discord_app.cogs import load_cogs

        await load_cogs(self)

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info(
            "connected as %s (id %s) to %d guild(s) over %d shard(s)",
            self.user,
            self.user.id,
            len(self.guilds),
            self.shard_count or 1,
        )
        if self.metrics is not None:
            self.metrics.set_state(discord_connected=True)
        if not self.commands_synced.is_set():
            await self.sync_commands()

    async def sync_commands(self) -> None:
        try:
            if self.sync_guild_id:
                guild = discord.Object(id=self.sync_guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                where = f"guild {self.sync_guild_id}"
            else:
                synced = await self.tree.sync()
                where = "all guilds (global commands may take a while to appear)"
            log.info("synced %d slash command(s) to %s", len(synced), where)
        except discord.HTTPException as exc:
            log.error("could not sync slash commands: %s", exc)
        finally:
            self.commands_synced.set()

    async def on_resumed(self) -> None:
        if self.metrics is not None:
            self.metrics.set_state(discord_connected=True)

    async def on_disconnect(self) -> None:
        if self.metrics is not None:
            self.metrics.set_state(discord_connected=False)

    async def on_message(self, message: discord.Message) -> None:
        # Text commands are not used; the mention cog listens to messages itself.
        return

    # -- taking a question -------------------------------------------------------------------------
    def channel_allowed(self, channel: object) -> bool:
        """DMs follow ``answer_dms``; guild channels and their threads ``allowed_channels``."""
        if isinstance(channel, discord.DMChannel | discord.GroupChannel):
            return self.settings.answer_dms
        allowed = self.settings.allowed_channels
        if not allowed:
            return True
        channel_id = getattr(channel, "id", None)
        parent_id = getattr(channel, "parent_id", None)
        return channel_id in allowed or (parent_id is not None and parent_id in allowed)

    def gate(self, user_id: int, channel: object) -> Gate:
        """Check a new question: shutdown, channel, queue length, then the user's cooldown."""
        if not self.accepting or self.queue.closed:
            return Gate(SHUTTING_DOWN)
        if not self.channel_allowed(channel):
            return Gate(NOT_HERE)
        if self.queue.waiting >= self.queue.max_size:
            return Gate(BUSY.format(n=len(self.queue)))
        left = self.cooldown.try_acquire(user_id)
        if left > 0:
            seconds = max(1.0, left)
            return Gate(COOLDOWN.format(s=seconds, plural="" if round(seconds) == 1 else "s"))
        return Gate(None)

    def user_hash(self, user_id: int) -> str:
        return hash_user(user_id, self.user.id if self.user else None)

    async def answer_into(
        self,
        target: ReplyTarget,
        *,
        question: str,
        user_id: int,
        history: tuple[Turn, ...] = (),
        via: str,
    ) -> Answer | None:
        """Queue ``question``, stream its progress into ``target`` and leave the final answer there.

        Returns the answer, or None when it could not be queued.
        """
        started = time.perf_counter()
        live = LiveAnswer(target, self.settings.stream_interval_s)
        try:
            answer = await self.queue.submit(
                question,
                history,
                user_id,
                on_text=live.add_text,
                on_position=live.set_position,
            )
        except QueueFull:
            await live.finish([Payload(content=BUSY.format(n=len(self.queue)))])
            return None
        except asyncio.CancelledError:
            await live.abort()
            raise
        await live.finish(self.answer_payloads(answer))
        latency_ms = (time.perf_counter() - started) * 1000
        question_log.info(
            "question user=%s via=%s latency_ms=%.0f queue_wait_ms=%.0f sections=%s refused=%s%s "
            "edits=%d",
            self.user_hash(user_id),
            via,
            latency_ms,
            answer.timings_ms.get("queue_wait", 0.0),
            ",".join(answer.sections) or "-",
            answer.refused,
            f" reason={answer.refusal_reason}" if answer.refused else "",
            live.edits,
        )
        return answer

    def answer_payloads(self, answer: Answer) -> list[Payload]:
        if answer.refused or not answer.citations:
            # A refusal (or, defensively, an answer without sources) is plain text, sourceless.
            return [Payload(content=p) for p in refusal_messages(answer)]
        return [Payload(embed=e) for e in answer_embeds(answer, self.titles)]

    # -- handler tasks -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Whether a question is still being answered or delivered."""
        return bool(self._answer_tasks) or len(self.queue) > 0

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a handler as a task the shutdown can wait for."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._answer_tasks.add(task)
        task.add_done_callback(self._handler_done)
        return task

    def _handler_done(self, task: asyncio.Task[Any]) -> None:
        self._answer_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a question handler failed", exc_info=task.exception())

    async def drain_handlers(self, timeout: float) -> None:
        """Wait for the handlers still delivering answers (and shutdown notices)."""
        pending = [t for t in self._answer_tasks if not t.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()

    # -- errors ------------------------------------------------------------------------------------
    async def _on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("slash command failed", exc_info=error)
        await respond_safely(interaction, FAILED)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("error in %s; the bot keeps running", event_method)


async def respond_safely(
    interaction: discord.Interaction, text: str, *, ephemeral: bool = True
) -> None:
    """Give the interaction a response if it has none, else a follow-up; never raise."""
    text = shorten(text, CONTENT_LIMIT)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=ephemeral)
        else:
            await interaction.response.send_message(text, ephemeral=ephemeral)
    except discord.HTTPException as exc:
        log.warning("could not respond to an interaction: %s", exc)
