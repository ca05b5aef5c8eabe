"""``/ask``: answer a question in the channel, streaming into the command's response."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.live import InteractionTarget
from bot.discord_app.responding import respond_safely

if TYPE_CHECKING:
    from bot.discord_app.client import ArticleBot

log = logging.getLogger(__name__)


class AskCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask a question about the article")
    @app_commands.describe(question="Your question about the article")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        # Discord wants a response within 3 seconds: the gate is in-memory work, and an answer
        # without the model is a retrieval at most.
        gate = self.bot.gate(interaction.user.id, interaction.channel)
        if gate.message is not None:
            await respond_safely(interaction, gate.message, ephemeral=True)
            return
        admission = await self.bot.admit(question, interaction.user.id, interaction.channel)
        if admission.message is not None:
            await respond_safely(interaction, admission.message, ephemeral=True)
            return
        # No deferral: the first thing shown is the response itself, either the final answer
        # (when it needs no model) or the question's place in line, within a second.
        task = self.bot.spawn(
            self.bot.answer_into(
                InteractionTarget(interaction),
                question=question,
                user_id=interaction.user.id,
                admission=admission,
                via="slash",
                guild_id=interaction.guild_id,
            ),
            name=f"ask-{interaction.id}",
        )
        await task
