"""A local Discord emulator: REST (``/api/v10``) and a gateway websocket on 127.0.0.1.

The real discord.py HTTP and gateway code run against it. It keeps Discord's limits and errors
(message and embed sizes, interaction acknowledgement and its 3-second window, rate limits on
demand), records every request and every state of every message (buttons included), and lets a
test act as users: inject slash commands, button clicks, messages and forum posts, as members with
or without Manage Server and with roles; drop the gateway, invalidate sessions.
"""

from tests.discord_emulator.model import Channel, Guild, Interaction, Message, MessageState, User
from tests.discord_emulator.server import DiscordEmulator

__all__ = [
    "Channel",
    "DiscordEmulator",
    "Guild",
    "Interaction",
    "Message",
    "MessageState",
    "User",
]
