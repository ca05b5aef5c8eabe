"""Answering an interaction without failing: a response if it has none, else a follow-up."""

from __future__ import annotations

import logging

import discord

from bot.discord_app.format import CONTENT_LIMIT
from index.shorten import shorten

log = logging.getLogger(__name__)


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
