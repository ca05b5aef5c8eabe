"""The Discord client: an auto-sharded bot that owns the answer queue and loads the cogs."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer_queue import AnswerQueue, MemberQueueFull, MetricsSink, QueueFull
from bot.answering import Answer, Turn
from bot.discord_app.feedback import FeedbackButton, feedback_view
from bot.discord_app.format import answer_embeds, refusal_messages, section_titles
from bot.discord_app.live import LiveAnswer, Payload, ReplyTarget
from bot.discord_app.rate_limit import TokenBuckets
from bot.discord_app.responding import respond_safely
from bot.records import GuildConfig, RecordStore
from bot.settings import Settings
from index.article import Article

if TYPE_CHECKING:
    from bot.reindexing import Reindexer

log = logging.getLogger(__name__)
question_log = logging.getLogger("bot.questions")

SHUTTING_DOWN = "The bot is shutting down and not taking questions; please ask again later."
BUSY = "I'm answering {n} questions already; please ask again in a minute."
RATE_LIMITED = "Please wait {s:.0f} more second{plural} before asking again."
TOO_MANY_WAITING = (
    "You have {n} questions waiting already; ask this one when one of them is answered."
)
NOT_HERE = "I don't answer questions in this channel."
FAILED = "Something went wrong while answering. Please try again."
# Answers not worth keeping: the bot was starting or stopping, or failed.
UNRECORDED_REASONS = frozenset({"shutting_down", "starting", "error"})
PURGE_EVERY_S = 3600.0


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


@dataclass(frozen=True)
class Admission:
    """A question past the gate: its answer when it needs no model; else why the line cannot
    take it, as a message for the asker (None: it takes its place in line)."""

    started: float  # time.perf_counter() when the bot began on it: its latency counts from here
    instant: Answer | None = None
    message: str | None = None


def _guild_id(channel: object) -> int | None:
    return getattr(getattr(channel, "guild", None), "id", None)


class ArticleBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        queue: AnswerQueue,
        article: Article,
        *,
        metrics: MetricsSink | None = None,
        sync_guild_id: int | None = None,
        records: RecordStore | None = None,
        reindexer: Reindexer | None = None,
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
        self.records = records
        self.reindexer = reindexer
        self._guild_configs: dict[int, GuildConfig] = {}
        self._buckets: dict[int | None, TokenBuckets] = {}
        self.sync_guild_id = sync_guild_id
        self.accepting = True
        self.commands_synced = asyncio.Event()
        self._answer_tasks: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self.tree.on_error = self._on_app_command_error  # type: ignore[method-assign]

    # -- start-up ----------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        from bot.discord_app.cogs import load_cogs

        await load_cogs(self)
        # Buttons under answers sent before a restart are matched by their custom id.
        self.add_dynamic_items(FeedbackButton)
        if self.records is not None:
            self.spawn_background(self._purge_old_records(), "purge-records")

    def spawn_background(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _purge_old_records(self) -> None:
        assert self.records is not None
        while True:
            try:
                n = await asyncio.to_thread(
                    self.records.purge, self.settings.records_retention_days
                )
                if n:
                    log.info(
                        "deleted %d record(s) older than %d days",
                        n,
                        self.settings.records_retention_days,
                    )
            except Exception:
                log.exception("could not delete old records")
            await asyncio.sleep(PURGE_EVERY_S)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await super().close()

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

    # -- per-server settings ---------------------------------------------------------------------
    def guild_config(self, guild_id: int | None) -> GuildConfig:
        """The /config settings of a server (empty: the bot's settings apply)."""
        if guild_id is None or self.records is None:
            return GuildConfig()
        config = self._guild_configs.get(guild_id)
        if config is None:
            config = self._guild_configs[guild_id] = self.records.guild_config(guild_id)
        return config

    def set_guild_config(self, guild_id: int, config: GuildConfig) -> None:
        if self.records is None:
            raise RuntimeError("per-server settings need the records file")
        self.records.save_guild_config(guild_id, config)
        self._guild_configs[guild_id] = config
        self._buckets.pop(guild_id, None)  # the rate may have changed

    def rate(self, guild_id: int | None) -> tuple[float, int]:
        """(questions per minute, burst) for members of ``guild_id``."""
        config = self.guild_config(guild_id)
        return (
            config.rate_per_minute or self.settings.rate_limit_per_minute,
            config.rate_burst or self.settings.rate_limit_burst,
        )

    def buckets(self, guild_id: int | None) -> TokenBuckets:
        buckets = self._buckets.get(guild_id)
        if buckets is None:
            per_minute, burst = self.rate(guild_id)
            buckets = self._buckets[guild_id] = TokenBuckets(per_minute, burst)
        return buckets

    def ask_channel_ids(self, guild_id: int | None) -> set[int]:
        return set(self.guild_config(guild_id).ask_channels or self.settings.ask_channels)

    def is_ask_channel(self, channel: object) -> bool:
        """Whether ``channel`` (or the channel id given) is an ask channel of its server."""
        if isinstance(channel, int):
            return any(channel in self.ask_channel_ids(g.id) for g in self.guilds) or (
                channel in self.settings.ask_channels
            )
        guild = getattr(channel, "guild", None)
        return getattr(channel, "id", None) in self.ask_channel_ids(getattr(guild, "id", None))

    # -- taking a question -------------------------------------------------------------------------
    def channel_allowed(self, channel: object) -> bool:
        """DMs follow ``answer_dms``; guild channels and their threads the allowed channels of
        the server (/config), else ``allowed_channels``; ask channels are always allowed."""
        if isinstance(channel, discord.DMChannel | discord.GroupChannel):
            return self.settings.answer_dms
        guild = getattr(channel, "guild", None)
        guild_id = getattr(guild, "id", None)
        allowed = set(
            self.guild_config(guild_id).allowed_channels or self.settings.allowed_channels
        )
        if not allowed:
            return True
        allowed |= self.ask_channel_ids(guild_id)
        channel_id = getattr(channel, "id", None)
        parent_id = getattr(channel, "parent_id", None)
        return channel_id in allowed or (parent_id is not None and parent_id in allowed)

    def gate(self, user_id: int, channel: object) -> Gate:
        """Check a new question before anything answers it: shutdown, channel, then the member's
        token bucket. Timing alone never turns a question away while the member has tokens left;
        the line's limits come later (``admit``), only for a question that needs the model."""
        if not self.accepting or self.queue.closed:
            return Gate(SHUTTING_DOWN)
        if not self.channel_allowed(channel):
            return Gate(NOT_HERE)
        # Every question spends a token, an instant answer too: the bucket limits how often a
        # member makes the bot work and post, which spam does whatever the answer costs.
        left = self.buckets(_guild_id(channel)).try_take(user_id)
        if left > 0:
            seconds = max(1.0, round(left))
            return Gate(RATE_LIMITED.format(s=seconds, plural="" if seconds == 1 else "s"))
        return Gate(None)

    async def admit(
        self, question: str, user_id: int, channel: object, history: tuple[Turn, ...] = ()
    ) -> Admission:
        """After the gate: the answer at once when it needs no model (worked out off the loop),
        however long the line and however many questions the member has waiting, since it takes
        no place in line; else whether the line has room for the question."""
        started = time.perf_counter()
        instant = await self.queue.answer_now(question, history)
        if instant is not None:
            return Admission(started, instant=instant)
        try:
            self.queue.check_room(user_id)
        except (QueueFull, MemberQueueFull) as exc:
            self.give_token_back(user_id, _guild_id(channel))
            return Admission(started, message=self.line_full_message(exc))
        return Admission(started)

    def give_token_back(self, user_id: int, guild_id: int | None) -> None:
        """A question the line could not take was not answered: asking again later is free."""
        self.buckets(guild_id).give_back(user_id)

    def line_full_message(self, exc: QueueFull | MemberQueueFull) -> str:
        if isinstance(exc, MemberQueueFull):
            return TOO_MANY_WAITING.format(n=exc.limit)
        return BUSY.format(n=len(self.queue))

    def user_hash(self, user_id: int) -> str:
        return hash_user(user_id, self.user.id if self.user else None)

    async def answer_into(
        self,
        target: ReplyTarget,
        *,
        question: str,
        user_id: int,
        admission: Admission,
        history: tuple[Turn, ...] = (),
        via: str,
        guild_id: int | None = None,
    ) -> Answer | None:
        """Post the answer ``admit`` found without the model, or else answer ``question`` in the
        queue's line, streaming its progress into ``target``; leave the final answer there,
        recorded and with its feedback buttons.

        Returns the answer, or None when the line could not take it after all.
        """
        started = admission.started
        live = LiveAnswer(target, self.settings.stream_interval_s)
        try:
            if admission.instant is not None:
                answer = admission.instant
            else:
                # ``admit`` tried the answer without the model already.
                answer = await self.queue.submit(
                    question,
                    history,
                    user_id,
                    on_text=live.add_text,
                    on_position=live.set_position,
                    try_now=False,
                )
        except (QueueFull, MemberQueueFull) as exc:
            # The line filled up between ``admit`` and now.
            self.give_token_back(user_id, guild_id)
            await live.finish([Payload(content=self.line_full_message(exc))])
            return None
        except asyncio.CancelledError:
            await live.abort()
            raise
        latency_ms = (time.perf_counter() - started) * 1000
        answer_id = await self.record(answer, user_id, guild_id, latency_ms)
        await live.finish(self.answer_payloads(answer, answer_id))
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

    async def record(
        self, answer: Answer, user_id: int, guild_id: int | None, latency_ms: float
    ) -> int | None:
        """Keep the answer in the records; returns its id (None: not recorded)."""
        if self.records is None or answer.refusal_reason in UNRECORDED_REASONS:
            return None
        try:
            return await asyncio.to_thread(
                self.records.record_answer, answer, user_id, guild_id, latency_ms
            )
        except Exception:
            log.exception("could not record an answer; it is delivered without feedback buttons")
            return None

    def answer_payloads(self, answer: Answer, answer_id: int | None = None) -> list[Payload]:
        if answer.refused or not answer.citations:
            # A refusal (or, defensively, an answer without sources) is plain text, sourceless.
            payloads = [Payload(content=p) for p in refusal_messages(answer)]
        else:
            payloads = [Payload(embed=e) for e in answer_embeds(answer, self.titles)]
        if answer_id is not None:
            # The buttons go under the last message, after the sources they judge.
            payloads[-1] = Payload(
                content=payloads[-1].content,
                embed=payloads[-1].embed,
                view=feedback_view(answer_id),
            )
        return payloads

    def use_article(self, article: Article) -> None:
        """Show the article a reindex loaded (outline, section titles)."""
        self.article = article
        self.titles = section_titles(article)

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
