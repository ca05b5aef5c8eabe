"""``/ask``: answer a question in the channel, streaming into the command's response."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.client import respond_safely
from bot.discord_app.live import InteractionTarget

if TYPE_CHECKING:
    from bot.discord_app.client import ArticleBot

log = logging.getLogger(__name__)


class AskCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask a question about the article")
    @app_commands.describe(question="Your question about the article")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        # Everything before the response is in-memory work: Discord wants one within 3 seconds.
        gate = self.bot.gate(interaction.user.id, interaction.channel)
        if gate.message is not None:
            await respond_safely(interaction, gate.message, ephemeral=True)
            return
        try:
            await interaction.response.defer(thinking=True)
        except discord.HTTPException as exc:
            log.warning("could not acknowledge /ask (it expired or was answered): %s", exc)
            return
        # The answer is delivered by a task the shutdown waits for, not by the gateway handler.
        task = self.bot.spawn(
            self.bot.answer_into(
                InteractionTarget(interaction),
                question=question,
                user_id=interaction.user.id,
                via="slash",
            ),
            name=f"ask-{interaction.id}",
        )
        await task
