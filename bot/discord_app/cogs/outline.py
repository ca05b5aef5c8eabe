"""``/outline`` and ``/section``: the article's structure and the full text of one section."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.format import outline_messages, section_messages
from index.shorten import shorten

if TYPE_CHECKING:
    from bot.discord_app.client import ArticleBot

# Discord allows 25 fixed choices per option; an article with more sections gets autocomplete.
MAX_CHOICES = 25


class OutlineCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot
        self.section_command = self._build_section_command()

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.section_command)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.section_command.name)

    @app_commands.command(name="outline", description="The article's sections and their titles")
    async def outline(self, interaction: discord.Interaction) -> None:
        first, *rest = outline_messages(self.bot.article)
        await interaction.response.send_message(first)
        for text in rest:
            await interaction.followup.send(text)

    def _build_section_command(self) -> app_commands.Command[commands.Cog, ..., None]:
        article = self.bot.article
        labels = list(article.labels)

        async def section(interaction: discord.Interaction, name: str) -> None:
            try:
                chosen = article.section(name)
            except KeyError:
                known = ", ".join(labels)
                await interaction.response.send_message(
                    shorten(f"There is no section {name!r}; the sections are {known}.", 2000),
                    ephemeral=True,
                )
                return
            first, *rest = section_messages(chosen)
            await interaction.response.send_message(first, ephemeral=True)
            for text in rest:
                await interaction.followup.send(text, ephemeral=True)

        section = app_commands.describe(name="Which section")(section)
        if len(labels) <= MAX_CHOICES:
            choices = [
                app_commands.Choice(
                    name=shorten(f"{label} — {article.section(label).title}", 100), value=label
                )
                for label in labels
            ]
            section = app_commands.choices(name=choices)(section)
        else:

            async def complete(
                interaction: discord.Interaction, current: str
            ) -> list[app_commands.Choice[str]]:
                wanted = current.lower()
                return [
                    app_commands.Choice(name=label, value=label)
                    for label in labels
                    if wanted in label.lower()
                ][:MAX_CHOICES]

            section = app_commands.autocomplete(name=complete)(section)
        return app_commands.command(
            name="section", description="Read one section of the article (only you see it)"
        )(section)
