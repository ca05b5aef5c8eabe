"""Admin commands: ``/gaps``, ``/stats``, ``/reindex`` and ``/config``.

Admins are members with the Manage Server permission or a role named in ``admin_roles``; anyone
else gets a polite refusal only they see. Every answer here is ephemeral.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.format import CONTENT_LIMIT
from bot.discord_app.responding import respond_safely
from bot.discord_app.text_split import split_text
from bot.records import GuildConfig
from bot.records_report import render_gaps, render_stats

if TYPE_CHECKING:
    from bot.discord_app.client import ArticleBot

log = logging.getLogger(__name__)

NOT_ADMIN = "Sorry, only this server's admins can use /{command} (Manage Server permission{roles})."
NO_RECORDS = "Nothing is recorded on this bot (no records file), so there is nothing to show."
NO_REINDEX = "Reindexing is not available on this bot."
CLEAR_WORDS = frozenset({"default", "none", "clear", "-"})
_CHANNEL = re.compile(r"<#(\d+)>|(\d{5,})")


class ConfigError(ValueError):
    """A /config value that cannot be used; the message names it and the fix."""


class AdminCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot

    async def is_admin(self, interaction: discord.Interaction) -> bool:
        command = interaction.command.name if interaction.command else "this command"
        perms = interaction.permissions
        roles = {r.name for r in getattr(interaction.user, "roles", [])}
        wanted = set(self.bot.settings.admin_roles)
        if interaction.guild is not None and (perms.manage_guild or roles & wanted):
            return True
        named = f" or the role {', '.join(sorted(wanted))}" if wanted else ""
        await respond_safely(interaction, NOT_ADMIN.format(command=command, roles=named))
        log.info("refused /%s to a member who is not an admin", command)
        return False

    async def _send_long(self, interaction: discord.Interaction, text: str) -> None:
        first, *rest = split_text(text, CONTENT_LIMIT) or ["…"]
        await respond_safely(interaction, first)
        for piece in rest:
            await respond_safely(interaction, piece)

    # -- what the records say ----------------------------------------------------------------------
    @app_commands.command(
        name="gaps",
        description="Admins: the questions the article could not answer, and "
        "the answers marked wrong",
    )
    @app_commands.guild_only()
    async def gaps(self, interaction: discord.Interaction) -> None:
        if not await self.is_admin(interaction):
            return
        records = self.bot.records
        if records is None:
            await respond_safely(interaction, NO_RECORDS)
            return
        gaps = await asyncio.to_thread(records.gaps, 10, interaction.guild_id)
        await self._send_long(interaction, render_gaps(gaps))

    @app_commands.command(
        name="stats", description="Admins: questions answered, refusal rate, 👍 share, latency"
    )
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction) -> None:
        if not await self.is_admin(interaction):
            return
        records = self.bot.records
        if records is None:
            await respond_safely(interaction, NO_RECORDS)
            return
        stats = await asyncio.to_thread(records.stats, interaction.guild_id)
        await respond_safely(interaction, render_stats(stats))

    # -- the index ---------------------------------------------------------------------------------
    @app_commands.command(
        name="reindex", description="Admins: rebuild the index from the article file"
    )
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        if not await self.is_admin(interaction):
            return
        reindexer = self.bot.reindexer
        if reindexer is None:
            await respond_safely(interaction, NO_REINDEX)
            return
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            log.warning("could not acknowledge /reindex: %s", exc)
            return
        # In the queue's line: answers in progress finish first, questions asked meanwhile wait.
        try:
            outcome = await self.bot.queue.run_exclusive(reindexer.reindex)
        except Exception as exc:
            log.exception("reindex failed")
            await respond_safely(interaction, f"Reindexing failed: {exc}")
            return
        self.bot.use_article(outcome.article)
        log.info("reindex: %s", outcome.message)
        await respond_safely(interaction, outcome.message)

    # -- per-server settings -----------------------------------------------------------------------
    @app_commands.command(
        name="config",
        description="Admins: show or set this server's channels and rate limit",
    )
    @app_commands.describe(
        allowed_channels="Channels the bot answers in (#mentions or ids); 'default' clears",
        ask_channels="Channels (text or forum) where questions need no mention; 'default' clears",
        rate_per_minute="Questions a member may ask per minute",
        rate_burst="Questions a member may ask in a row",
    )
    @app_commands.guild_only()
    async def config(
        self,
        interaction: discord.Interaction,
        allowed_channels: str | None = None,
        ask_channels: str | None = None,
        rate_per_minute: app_commands.Range[float, 0.1, 600.0] | None = None,
        rate_burst: app_commands.Range[int, 1, 100] | None = None,
    ) -> None:
        if not await self.is_admin(interaction):
            return
        guild = interaction.guild
        if self.bot.records is None or guild is None:
            await respond_safely(interaction, NO_RECORDS)
            return
        current = self.bot.guild_config(guild.id)
        changed = any(
            v is not None for v in (allowed_channels, ask_channels, rate_per_minute, rate_burst)
        )
        if changed:
            try:
                updated = GuildConfig(
                    allowed_channels=current.allowed_channels
                    if allowed_channels is None
                    else parse_channels(allowed_channels, guild),
                    ask_channels=current.ask_channels
                    if ask_channels is None
                    else parse_channels(ask_channels, guild),
                    rate_per_minute=current.rate_per_minute
                    if rate_per_minute is None
                    else float(rate_per_minute),
                    rate_burst=current.rate_burst if rate_burst is None else int(rate_burst),
                )
            except ConfigError as exc:
                await respond_safely(interaction, str(exc))
                return
            await asyncio.to_thread(self.bot.set_guild_config, guild.id, updated)
            current = updated
        await respond_safely(interaction, self.describe(current, saved=changed))

    def describe(self, config: GuildConfig, *, saved: bool) -> str:
        settings = self.bot.settings

        def channels(ids: list[int], default: list[int], none: str) -> str:
            if ids:
                return " ".join(f"<#{c}>" for c in ids)
            if default:
                return " ".join(f"<#{c}>" for c in default) + " (bot default)"
            return none

        per_minute = config.rate_per_minute or settings.rate_limit_per_minute
        burst = config.rate_burst or settings.rate_limit_burst
        allowed = channels(config.allowed_channels, settings.allowed_channels, "every channel")
        lines = [
            "Saved. This server's settings:" if saved else "This server's settings:",
            f"• Allowed channels: {allowed}",
            f"• Ask channels: {channels(config.ask_channels, settings.ask_channels, 'none')}",
            f"• Rate limit: {per_minute:g} questions a minute, {burst} in a row"
            + ("" if config.rate_per_minute or config.rate_burst else " (bot default)"),
        ]
        return "\n".join(lines)


def parse_channels(text: str, guild: discord.Guild) -> list[int]:
    """Channel mentions or ids separated by spaces or commas; 'default' gives an empty list."""
    if text.strip().lower() in CLEAR_WORDS:
        return []
    ids: list[int] = []
    leftover = _CHANNEL.sub(" ", text).replace(",", " ").split()
    if leftover:
        raise ConfigError(
            f"Not a channel: {leftover[0]!r}. Give #channel mentions or channel ids separated "
            "by spaces, or 'default' to use the bot's setting."
        )
    for mention, raw in _CHANNEL.findall(text):
        channel_id = int(mention or raw)
        if guild.get_channel(channel_id) is None:
            raise ConfigError(
                f"{channel_id} is not a channel of this server. Give #channel mentions or ids of "
                "this server's channels, or 'default'."
            )
        if channel_id not in ids:
            ids.append(channel_id)
    if not ids:
        raise ConfigError(
            "No channel given. Give #channel mentions or channel ids, or 'default' to use the "
            "bot's setting."
        )
    return ids
