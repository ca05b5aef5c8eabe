"""Mentions, DMs and ask channels: the answer goes into a thread started from the question, or a
reply.

Follow-up messages in a thread the bot started need no mention; they are answered with the
thread's recent turns as context. In an ask channel every message that is a question is answered
without a mention; in an ask forum a new post gets a first answer in its own thread, and later
questions there are answered like follow-ups. Turns are kept in memory per thread; for a thread
from before a restart they are read back from the thread's history.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict, deque
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.answering import Turn
from bot.discord_app.format import help_text
from bot.discord_app.live import ChannelTarget
from bot.discord_app.questions import is_question
from index.shorten import shorten

if TYPE_CHECKING:
    from bot.discord_app.client import ArticleBot

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100
MAX_REMEMBERED_THREADS = 1000
NOTICE_SECONDS = 15.0


class MentionCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot
        self.turns: OrderedDict[int, deque[Turn]] = OrderedDict()

    # -- which messages are questions --------------------------------------------------------------
    def strip_mentions(self, content: str) -> str:
        assert self.bot.user is not None
        text = re.sub(rf"<@!?{self.bot.user.id}>", " ", content)
        return " ".join(text.split())

    def is_our_thread(self, channel: object) -> bool:
        if getattr(channel, "id", None) in self.turns:
            return True
        me = self.bot.user
        return isinstance(channel, discord.Thread) and me is not None and channel.owner_id == me.id

    def is_ask_forum_thread(self, channel: object) -> bool:
        """A thread members started under an ask channel (a forum post, or a thread of theirs)."""
        me = self.bot.user
        return (
            isinstance(channel, discord.Thread)
            and me is not None
            and channel.owner_id != me.id
            and channel.parent_id is not None
            and self.bot.is_ask_channel(channel.parent or channel.parent_id)
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        channel = message.channel
        in_dm = message.guild is None
        mentioned = any(u.id == me.id for u in message.mentions)
        text = self.strip_mentions(message.content)
        if in_dm:
            if not self.bot.settings.answer_dms:
                return
            via = "dm"
        elif self.is_ask_forum_thread(channel):
            starter = message.id == getattr(channel, "id", None)
            if not (starter or mentioned or is_question(text)):
                return
            via = "forum"
        elif self.is_our_thread(channel):
            via = "thread"
        elif mentioned:
            via = "mention"
        elif self.bot.is_ask_channel(channel) and is_question(text):
            via = "ask_channel"
        else:
            return
        self.bot.spawn(self.handle(message, via=via), "mention")

    # -- answering ---------------------------------------------------------------------------------
    async def handle(self, message: discord.Message, *, via: str) -> None:
        assert self.bot.user is not None
        question = self.strip_mentions(message.content)
        channel = message.channel
        if via == "forum" and message.id == getattr(channel, "id", None):
            # A forum post's title is often the question itself; its text adds the detail.
            title = getattr(channel, "name", "") or ""
            if not is_question(question) and title and title not in question:
                question = f"{title}: {question}" if question else title
        if not question:
            await self._notice(message, help_text(self.bot.user.mention, self.bot.article), None)
            return
        gate = self.bot.gate(message.author.id, channel)
        if gate.message is not None:
            await self._notice(message, gate.message, NOTICE_SECONDS)
            return

        history: tuple[Turn, ...] = ()
        if via in ("thread", "forum") and message.id != getattr(channel, "id", None):
            history = await self.history_for(channel, before=message)
        admission = await self.bot.admit(question, message.author.id, channel, history)
        if admission.message is not None:
            await self._notice(message, admission.message, NOTICE_SECONDS)
            return

        thread: discord.abc.Messageable | None = None
        if via in ("thread", "forum"):
            thread = channel
            target = ChannelTarget(channel, reference=message)
        elif via == "dm":
            target = ChannelTarget(channel, reference=message)
        else:
            thread = await self._start_thread(message, question)
            target = (
                ChannelTarget(thread)
                if thread is not None
                else ChannelTarget(channel, reference=message)
            )
        answer = await self.bot.answer_into(
            target,
            question=question,
            user_id=message.author.id,
            admission=admission,
            history=history,
            via=via,
            guild_id=message.guild.id if message.guild else None,
        )
        if thread is not None and answer is not None and not answer.refused:
            self.remember(getattr(thread, "id", 0), Turn(question=question, answer=answer.text))

    async def _start_thread(self, message: discord.Message, question: str) -> discord.Thread | None:
        try:
            thread = await message.create_thread(
                name=shorten(question, THREAD_NAME_LIMIT), auto_archive_duration=1440
            )
        except (discord.Forbidden, discord.HTTPException) as exc:
            # No permission to create threads, or not a channel that has them: reply instead.
            log.info("answering with a reply: could not start a thread (%s)", exc)
            return None
        self.turns[thread.id] = deque(maxlen=max(1, self.bot.settings.history_turns))
        self._forget_old_threads()
        return thread

    async def _notice(
        self, message: discord.Message, text: str, delete_after: float | None
    ) -> None:
        mentions = discord.AllowedMentions.none()
        try:
            if delete_after:
                await message.reply(
                    text, mention_author=False, delete_after=delete_after, allowed_mentions=mentions
                )
            else:
                await message.reply(text, mention_author=False, allowed_mentions=mentions)
        except discord.HTTPException as exc:
            log.warning("could not reply to a message: %s", exc)

    # -- conversation memory -----------------------------------------------------------------------
    def remember(self, thread_id: int, turn: Turn) -> None:
        turns = self.turns.setdefault(
            thread_id, deque(maxlen=max(1, self.bot.settings.history_turns))
        )
        turns.append(turn)
        self.turns.move_to_end(thread_id)
        self._forget_old_threads()

    def _forget_old_threads(self) -> None:
        while len(self.turns) > MAX_REMEMBERED_THREADS:
            self.turns.popitem(last=False)

    async def history_for(
        self, channel: discord.abc.Messageable, *, before: discord.Message
    ) -> tuple[Turn, ...]:
        limit = self.bot.settings.history_turns
        if limit == 0:
            return ()
        channel_id = getattr(channel, "id", 0)
        if channel_id in self.turns:
            return tuple(self.turns[channel_id])[-limit:]
        turns = await self._read_thread(channel, before=before, limit=limit)
        self.turns[channel_id] = deque(turns, maxlen=max(1, limit))
        return turns

    async def _read_thread(
        self, channel: discord.abc.Messageable, *, before: discord.Message, limit: int
    ) -> tuple[Turn, ...]:
        """Rebuild turns from a thread's messages: a user's text, then the bot's answer to it."""
        me = self.bot.user
        assert me is not None
        fetch = 4 * limit + 4
        try:
            recent = [m async for m in channel.history(limit=fetch, before=before)]
        except discord.HTTPException as exc:
            log.warning("could not read a thread's history: %s", exc)
            return ()
        recent.reverse()
        # The first question started the thread and named it; it is not inside the thread.
        pending: str | None = None
        if len(recent) < fetch:
            pending = getattr(channel, "name", None) or None
        turns: list[Turn] = []
        for msg in recent:
            if msg.author.id == me.id:
                text = _answer_text(msg)
                if pending and text:
                    turns.append(Turn(question=pending, answer=text))
                pending = None
            elif not msg.author.bot:
                pending = self.strip_mentions(msg.content) or None
        return tuple(turns[-limit:])


def _answer_text(message: discord.Message) -> str:
    """The answer a bot message carries (its embed text), without the sources heading."""
    if message.embeds:
        text = message.embeds[0].description or ""
        return text.split("\n\n__Sources__")[0].strip()
    content = message.content or ""
    if content.startswith("⏳") or content.endswith("▌"):
        return ""
    return content.strip()
