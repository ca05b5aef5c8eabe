"""A message that shows a question's progress: its place in line, the answer as it streams, the end.

Nothing is shown for a moment at first: an answer that needs no model (from the cache, a refusal,
a corrected premise) skips the queue, arrives within it and is posted in its final form as the
first message, with no placeholder and no edit. After that, edits are throttled to one per
``interval`` seconds (Discord rate-limits message edits, and a reader cannot follow faster);
whatever changed in between is folded into the next edit. The final message replaces the
progress, and anything that does not fit one message follows in new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.discord_app.format import position_text, streaming_text

log = logging.getLogger(__name__)

FIRST_SHOW_S = 1.0


@dataclass(frozen=True)
class Payload:
    """One message: text or an embed, and its buttons."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None

    def extras(self) -> dict[str, Any]:
        """The optional parts, only those present (discord.py treats None as "remove")."""
        return {"view": self.view} if self.view is not None else {}


class ReplyTarget(Protocol):
    """Where a question's answer goes: an interaction's response, or a channel or thread."""

    async def show(self, payload: Payload) -> None:
        """Create or edit the one progress/answer message."""

    async def send_more(self, payload: Payload) -> None:
        """Send an additional message after it."""


class InteractionTarget:
    """A slash command's response (made by the first ``show``, then edited), and follow-ups."""

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral

    async def show(self, payload: Payload) -> None:
        if not self.interaction.response.is_done():
            optional: dict[str, Any] = payload.extras()
            if payload.embed is not None:
                optional["embed"] = payload.embed
            await self.interaction.response.send_message(
                payload.content,
                ephemeral=self.ephemeral,
                allowed_mentions=discord.AllowedMentions.none(),
                **optional,
            )
            return
        await self.interaction.edit_original_response(
            content=payload.content,
            embed=payload.embed,
            allowed_mentions=discord.AllowedMentions.none(),
            **payload.extras(),
        )

    async def send_more(self, payload: Payload) -> None:
        if payload.embed is not None:
            await self.interaction.followup.send(
                content=payload.content or discord.utils.MISSING,
                embed=payload.embed,
                ephemeral=self.ephemeral,
                allowed_mentions=discord.AllowedMentions.none(),
                **payload.extras(),
            )
        else:
            await self.interaction.followup.send(
                content=payload.content or "…",
                ephemeral=self.ephemeral,
                allowed_mentions=discord.AllowedMentions.none(),
                **payload.extras(),
            )


class ChannelTarget:
    """A message in a channel, thread or DM; optionally a reply to the question's message."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        *,
        reference: discord.Message | None = None,
    ) -> None:
        self.channel = channel
        self.reference = reference
        self.message: discord.Message | None = None

    async def show(self, payload: Payload) -> None:
        if self.message is None:
            self.message = await self._send(payload, reference=self.reference)
        else:
            self.message = await self.message.edit(
                content=payload.content, embed=payload.embed, **payload.extras()
            )

    async def send_more(self, payload: Payload) -> None:
        await self._send(payload, reference=None)

    async def _send(
        self, payload: Payload, *, reference: discord.Message | None
    ) -> discord.Message:
        mentions = discord.AllowedMentions.none()
        if reference is not None:
            return await self.channel.send(
                content=payload.content,
                embed=payload.embed,  # type: ignore[arg-type]
                reference=reference,
                mention_author=False,
                allowed_mentions=mentions,
                **payload.extras(),
            )
        return await self.channel.send(
            content=payload.content,
            embed=payload.embed,  # type: ignore[arg-type]
            allowed_mentions=mentions,
            **payload.extras(),
        )


class LiveAnswer:
    """Feeds queue positions and streamed text into a throttled progress message."""

    def __init__(
        self, target: ReplyTarget, interval: float, first_after: float | None = None
    ) -> None:
        self.target = target
        self.interval = interval
        self.edits = 0
        self._position: int | None = None
        self._text: list[str] = []
        self._shown: str | None = None
        # The first progress shows ``first_after`` seconds from now (well inside the 3 s a slash
        # command has to respond in); an answer that is ready before then is shown at once.
        wait = min(interval, FIRST_SHOW_S) if first_after is None else first_after
        self._last_edit = time.monotonic() - interval + wait
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._broken = False  # the message is gone (deleted, interaction expired): stop editing
        self._task = asyncio.get_running_loop().create_task(self._run(), name="live-answer")

    # -- callbacks from the queue (event loop thread) ----------------------------------------------
    def set_position(self, n_ahead: int) -> None:
        self._position = n_ahead
        if n_ahead > 0 and self.edits == 0:
            # Waiting behind others takes a while whatever this answer needs: say so at once.
            self._last_edit = -float("inf")
        self._changed.set()

    def add_text(self, delta: str) -> None:
        self._text.append(delta)
        self._changed.set()

    @property
    def text(self) -> str:
        return "".join(self._text)

    def _render(self) -> str | None:
        text = self.text
        if text.strip():
            return streaming_text(text)
        if self._position is not None:
            return position_text(self._position)
        return None

    # -- the editing loop --------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._closing.is_set():
            await self._changed.wait()
            await self._wait_interval()
            if self._closing.is_set():
                return
            # Let the worker's pending pieces land first (each piece is its own loop callback),
            # so an edit shows all the text streamed so far.
            await asyncio.sleep(0)
            self._changed.clear()
            rendered = self._render()
            if rendered is not None and rendered != self._shown and not self._broken:
                await self._show(Payload(content=rendered))
                self._shown = rendered

    async def _wait_interval(self) -> None:
        remaining = self.interval - (time.monotonic() - self._last_edit)
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), remaining)

    async def _show(self, payload: Payload) -> None:
        try:
            await self.target.show(payload)
        except discord.NotFound:
            log.warning("the progress message is gone; not editing it any more")
            self._broken = True
        except discord.HTTPException as exc:
            log.warning("could not update the progress message: %s", exc)
        finally:
            self._last_edit = time.monotonic()
            self.edits += 1

    # -- the end -----------------------------------------------------------------------------------
    async def finish(self, payloads: Sequence[Payload]) -> None:
        """Stop streaming, then show the first payload in place and send the rest after it."""
        self._closing.set()
        self._changed.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task  # lets an edit in flight land first, so the final one comes last
        if not payloads:
            return
        # Keep to the edit rate for the final edit too; a first message is no edit.
        remaining = self.interval - (time.monotonic() - self._last_edit)
        if remaining > 0 and self.edits:
            await asyncio.sleep(remaining)
        first, *rest = payloads
        if self._broken:
            rest = list(payloads)
        else:
            await self._show(first)
        for payload in rest:
            try:
                await self.target.send_more(payload)
            except discord.HTTPException as exc:
                log.warning("could not send the rest of an answer: %s", exc)
                return

    async def abort(self) -> None:
        self._closing.set()
        self._changed.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
