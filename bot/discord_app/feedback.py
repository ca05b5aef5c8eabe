"""Feedback buttons under every answer: 👍, 👎 and "Wrong source".

The buttons are dynamic items: their custom id carries the vote and the answer's record id, and
the bot matches any such id, so buttons on messages sent before a restart keep working.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord

from bot.discord_app.responding import respond_safely
from bot.records import VOTES, RecordStore, Vote, VoteResult

log = logging.getLogger(__name__)

_LOOKS: dict[Vote, tuple[str | None, str | None, discord.ButtonStyle]] = {
    "up": (None, "👍", discord.ButtonStyle.secondary),
    "down": (None, "👎", discord.ButtonStyle.secondary),
    "wrong_source": ("Wrong source", None, discord.ButtonStyle.secondary),
}
_NAMES: dict[Vote, str] = {"up": "👍", "down": "👎", "wrong_source": "“wrong source”"}

ACKS: dict[VoteResult, str] = {
    "recorded": "Thanks, your {vote} is recorded.",
    "changed": "Changed your vote on this answer to {vote}.",
    "unchanged": "You already gave this answer {vote}; nothing changed.",
    "unknown_answer": "This answer is no longer on record, so the vote was not kept.",
}
NO_RECORDS = "Feedback is not being recorded on this bot."


def custom_id(vote: Vote, answer_id: int) -> str:
    return f"answer:{vote}:{answer_id}"


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"answer:(?P<vote>up|down|wrong_source):(?P<answer_id>[0-9]{1,18})",
):
    def __init__(self, vote: Vote, answer_id: int) -> None:
        label, emoji, style = _LOOKS[vote]
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=style, custom_id=custom_id(vote, answer_id)
            )
        )
        self.vote: Vote = vote
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        vote: Vote = match["vote"]  # type: ignore[assignment]
        return cls(vote, int(match["answer_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        records: RecordStore | None = getattr(interaction.client, "records", None)
        if records is None:
            await respond_safely(interaction, NO_RECORDS)
            return
        result = await asyncio.to_thread(
            records.vote, self.answer_id, interaction.user.id, self.vote
        )
        log.info("feedback vote=%s answer=%d result=%s", self.vote, self.answer_id, result)
        await respond_safely(interaction, ACKS[result].format(vote=_NAMES[self.vote]))


def feedback_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for vote in VOTES:
        view.add_item(FeedbackButton(vote, answer_id))
    return view
