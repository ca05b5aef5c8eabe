"""Running the bot as a process: token checks, start-up order, signals, exit codes.

Exit codes: 0 after a clean stop (SIGTERM / SIGINT); 2 for a missing or rejected token or a
privileged intent that is not enabled, with the steps to fix it; 1 for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.answer_queue import AnswerQueue, MetricsSink
from bot.answering import Answer, Answerer, AnswerPipeline, Turn
from bot.answering.answer import answer_without_model
from bot.discord_app.client import ArticleBot
from bot.records import RecordsError, RecordStore
from bot.reindexing import PipelineReindexer
from bot.settings import Settings
from index.article import Article

log = logging.getLogger(__name__)

# View Channels, Send Messages, Send Messages in Threads, Create Public Threads, Embed Links,
# Read Message History.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    read_message_history=True,
)
INVITE_SCOPES = ("bot", "applications.commands")
SHUTDOWN_GRACE_S = 5.0  # how long the answer in progress may take to finish on SIGTERM
DRAIN_S = 10.0  # how long the last messages may take to reach Discord


def invite_url(application_id: int | str = "<APPLICATION_ID>") -> str:
    scopes = "%20".join(INVITE_SCOPES)
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={application_id}&scope={scopes}&permissions={BOT_PERMISSIONS.value}"
    )


TOKEN_HELP = f"""\
To run the bot on Discord it needs a bot token:
  1. https://discord.com/developers/applications -> New Application -> Bot -> Reset Token;
     copy the token.
  2. On the same Bot page, under Privileged Gateway Intents, enable MESSAGE CONTENT INTENT.
  3. Invite the bot with the scopes `{" ".join(INVITE_SCOPES)}` and the permissions
     {BOT_PERMISSIONS.value} (View Channels, Send Messages, Send Messages in Threads,
     Create Public Threads, Embed Links, Read Message History):
     {invite_url()}
     (the application id is on the application's General Information page).
  4. Put the token in the environment: DISCORD_TOKEN=... (or a .env file).
To try the bot without Discord, run `article-bot chat`."""

MISSING_TOKEN = "article-bot: no Discord token (DISCORD_TOKEN is not set).\n" + TOKEN_HELP
REJECTED_TOKEN = "article-bot: Discord rejected the token in DISCORD_TOKEN.\n" + TOKEN_HELP
INTENT_HELP = """\
article-bot: Discord refused the MESSAGE CONTENT intent, which the bot needs to read questions
that mention it. Enable it: https://discord.com/developers/applications -> your application ->
Bot -> Privileged Gateway Intents -> MESSAGE CONTENT INTENT, save, and start the bot again."""


class _StartingAnswerer:
    """Stands in for the answerer until the model has loaded (questions arrive only after)."""

    def __init__(self) -> None:
        self.target: Answerer | None = None

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        if self.target is None:
            return Answer(
                question=question,
                text="The bot is still starting up; please ask again in a minute.",
                refused=True,
                refusal_reason="starting",
            )
        return self.target.answer(question, history=history, on_text=on_text)

    def answer_now(self, question: str, *, history: Sequence[Turn] = ()) -> Answer | None:
        # Until the model has loaded, every question gets the "starting" answer from the line.
        if self.target is None:
            return None
        return answer_without_model(self.target, question, history)


def _pipeline(starting: _StartingAnswerer) -> AnswerPipeline:
    assert isinstance(starting.target, AnswerPipeline)
    return starting.target


def _install(starting: _StartingAnswerer, pipeline: AnswerPipeline) -> None:
    starting.target = pipeline


def use_api_base(api_base: str | None) -> None:
    """Send REST calls to ``api_base`` (a Discord-compatible API) instead of discord.com."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")


def run_bot(
    settings: Settings,
    answerer_factory: Callable[[], Answerer],
    article: Article,
    metrics: MetricsSink | None = None,
    *,
    stderr: TextIO | None = None,
    shutdown_grace_s: float = SHUTDOWN_GRACE_S,
) -> int:
    """Run the bot until SIGTERM / SIGINT; returns the process exit code."""
    err = stderr or sys.stderr
    token = settings.token()
    if not token or not token.strip():
        print(MISSING_TOKEN, file=err)
        return 2
    runner = _BotRunner(settings, answerer_factory, article, metrics, err, shutdown_grace_s)
    return asyncio.run(runner.run(token.strip()))


class _BotRunner:
    def __init__(
        self,
        settings: Settings,
        answerer_factory: Callable[[], Answerer],
        article: Article,
        metrics: MetricsSink | None,
        err: TextIO,
        shutdown_grace_s: float,
    ) -> None:
        self.settings = settings
        self.answerer_factory = answerer_factory
        self.article = article
        self.metrics = metrics
        self.err = err
        self.shutdown_grace_s = shutdown_grace_s
        self.stopping = False
        self.bot: ArticleBot | None = None
        self.queue: AnswerQueue | None = None

    async def run(self, token: str) -> int:
        use_api_base(self.settings.discord_api_base)
        self._install_signal_handlers()
        try:
            health = await self._start_health()
        except OSError as exc:
            print(f"article-bot: could not start the health endpoint: {exc}", file=self.err)
            return 1
        try:
            records = RecordStore(self.settings.effective_records_path)
        except RecordsError as exc:
            print(f"article-bot: {exc}", file=self.err)
            return 2
        starting = _StartingAnswerer()
        self.queue = AnswerQueue(
            starting,
            self.settings.max_queue,
            self.metrics,
            max_per_member=self.settings.max_waiting_per_member,
        )
        bot = self.bot = ArticleBot(
            self.settings,
            self.queue,
            self.article,
            metrics=self.metrics,
            sync_guild_id=self.settings.discord_sync_guild_id,
            records=records,
        )
        try:
            # Log in first: a bad token should fail in a second, not after loading the model.
            await bot.login(token)
            if self.settings.discord_api_base:
                await self._use_gateway_of(bot)
            log.info("loading the answering model")
            starting.target = await asyncio.to_thread(self.answerer_factory)
            if isinstance(starting.target, AnswerPipeline):
                bot.reindexer = PipelineReindexer(
                    self.settings, lambda: _pipeline(starting), lambda new: _install(starting, new)
                )
            if self.metrics is not None:
                self.metrics.set_state(index_loaded=True, model_loaded=True)
            if self.stopping:
                return 0
            await bot.connect(reconnect=True)
            return 0
        except discord.LoginFailure:
            print(REJECTED_TOKEN, file=self.err)
            return 2
        except discord.PrivilegedIntentsRequired:
            print(INTENT_HELP, file=self.err)
            return 2
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:  # the gateway refused the token the REST API accepted
                print(REJECTED_TOKEN, file=self.err)
                return 2
            print(f"article-bot: Discord closed the connection: {exc}", file=self.err)
            return 1
        except (discord.HTTPException, discord.GatewayNotFound, OSError) as exc:
            print(f"article-bot: could not connect to Discord: {exc}", file=self.err)
            return 1
        finally:
            await self._stop_everything()
            if health is not None:
                await health.cleanup()
            log.info("stopped")

    async def _use_gateway_of(self, bot: ArticleBot) -> None:
        # With a fixed shard count, and after an invalidated session, discord.py connects to its
        # default gateway rather than asking the API for one; point that default at this API's.
        _, url, _ = await bot.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def _start_health(self) -> Any:
        if self.metrics is None or not self.settings.health_port:
            return None
        from bot.health import start_health_server

        # The server wants bot.health.Metrics; the runner only knows the hooks it calls.
        metrics: Any = self.metrics
        return await start_health_server(
            self.settings.health_host, self.settings.health_port, metrics
        )

    # -- stopping ----------------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals are delivered to the main thread only (tests run the bot elsewhere)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.stopping:
            return
        log.info("received %s: finishing up", sig.name)
        self.stopping = True
        asyncio.get_running_loop().create_task(self.shutdown(), name="shutdown")

    async def shutdown(self) -> None:
        """Stop taking questions, settle the ones in hand, then close the connection."""
        self.stopping = True
        bot, queue = self.bot, self.queue
        if bot is not None:
            bot.accepting = False
        if queue is not None:
            await queue.close(cancel_pending=True, wait_s=self.shutdown_grace_s)
        if bot is not None:
            await bot.drain_handlers(DRAIN_S)
            await bot.close()

    async def _stop_everything(self) -> None:
        if self.queue is not None and not self.queue.closed:
            await self.queue.close(cancel_pending=True, wait_s=0)
        if self.bot is not None and not self.bot.is_closed():
            with contextlib.suppress(Exception):
                await self.bot.close()
        if self.metrics is not None:
            self.metrics.set_state(discord_connected=False)
