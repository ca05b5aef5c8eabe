"""Small helpers for driving the bot through the emulator in end-to-end tests."""

from __future__ import annotations

import re
from typing import Any

from bot.discord_app.client import ArticleBot
from bot.settings import Settings
from tests.discord_emulator import DiscordEmulator, Interaction, Message, User
from tests.discord_emulator.control import interaction_done
from tests.discord_emulator.model import Channel


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_token": "emulator-bot-token",
        # Generous enough that tests asking many questions as one member are never held back.
        "rate_limit_per_minute": 600.0,
        "rate_limit_burst": 100,
        "stream_interval_s": 1.0,
        "history_turns": 3,
        "max_queue": 20,
        "health_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


TIMEOUT = 600.0  # a ceiling: the real model on a busy 2-core machine takes its time


async def ask(
    emu: DiscordEmulator,
    bot: ArticleBot,
    question: str,
    *,
    user: User | None = None,
    channel: Channel | None = None,
) -> Interaction:
    """Run /ask and wait until its answer, and any overflow messages, are delivered."""
    interaction = await emu.slash("ask", {"question": question}, user=user, channel=channel)
    await settle(emu, bot, lambda: interaction_done(emu, interaction))
    return interaction


async def settle(emu: DiscordEmulator, bot: ArticleBot, condition: Any = None) -> None:
    """Wait for ``condition`` (if given), then until the bot has nothing left to deliver."""
    if condition is not None:
        await emu.wait_for(condition, TIMEOUT)
    await emu.wait_for(lambda: not bot.busy, TIMEOUT)


def messages_of(emu: DiscordEmulator, interaction: Interaction) -> list[Message]:
    original = emu.original(interaction)
    return ([original] if original else []) + emu.followups(interaction)


def embeds_of(emu: DiscordEmulator, interaction: Interaction) -> list[dict[str, Any]]:
    return [e for m in messages_of(emu, interaction) for e in m.embeds]


def errors_of(emu: DiscordEmulator, since: int = 0) -> list[str]:
    """Requests the emulator refused (rate limits aside), as text."""
    return [
        f"{r} {r.response}" for r in emu.requests[since:] if r.status >= 400 and r.status != 429
    ]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def last_thread(emu: DiscordEmulator, channel: Channel) -> Channel:
    threads = emu.threads_of(channel)
    assert threads, f"no thread was started in #{channel.name}"
    return max(threads, key=lambda t: t.id)


def assert_shows_answer(messages: list[Message], answer: Any, article: Any) -> None:
    """The messages show ``answer`` as the bot should: a refusal as plain text; otherwise the
    text in embeds followed by each citation as ``§label — title`` with its verbatim quote."""
    assert messages, "no message was delivered"
    if answer.refused:
        assert [m.embeds for m in messages] == [()] * len(messages)
        assert squeeze("".join(m.content for m in messages)) == squeeze(answer.text)
        return
    embeds = [e for m in messages for e in m.embeds]
    assert all(m.content == "" for m in messages) and embeds
    text = "".join(e.get("description", "") for e in embeds).replace("__Sources__", "")
    assert squeeze(text) == squeeze(answer.text)
    fields = [f for e in embeds for f in e.get("fields", [])]
    assert len(fields) == len(answer.citations) > 0
    for field, citation in zip(fields, answer.citations, strict=True):
        section = article.section(citation.section)
        assert field["name"] == f"§{section.label} — {section.title}"
        assert article.text[citation.start : citation.end] == citation.quote
        quoted = " ".join(line.removeprefix("> ") for line in field["value"].splitlines())
        assert " ".join(citation.quote.split()).startswith(quoted.removesuffix("…").strip())


async def click(emu: DiscordEmulator, user: User, message: Message, label: str) -> Message:
    """``user`` clicks the button whose custom id starts with ``answer:<label>`` and the bot's
    reply (ephemeral) is returned."""
    (custom_id,) = [c for c in message.custom_ids() if c.startswith(f"answer:{label}:")]
    interaction = await emu.click(user, message, custom_id)
    return await emu.wait_for(lambda: emu.original(interaction), TIMEOUT)  # type: ignore[no-any-return]
