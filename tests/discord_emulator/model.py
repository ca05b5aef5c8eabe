"""The emulated world: users, guilds, channels, threads, messages with every state, interactions."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

# Channel types
GUILD_TEXT = 0
DM = 1
PUBLIC_THREAD = 11
GUILD_FORUM = 15

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

ALL_PERMISSIONS = (1 << 53) - 1 & ~(1 << 3)  # everything except Administrator
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = ALL_PERMISSIONS & ~MANAGE_GUILD  # an ordinary member: no Manage Server

# Interaction types
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3


class Snowflakes:
    """Discord-style ids: milliseconds since the Discord epoch, then a counter; always rising."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._counter = itertools.count()

    def next(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            candidate = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
            if candidate <= self._last:
                candidate = self._last + 1
            self._last = candidate
            return candidate


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    # Resolved guild permissions (None: all but Administrator) and the ids of the member's roles.
    permissions: int | None = None
    role_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": None if self.bot else self.username.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Channel:
    id: int
    type: int
    name: str
    guild_id: int | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    recipients: list[User] = field(default_factory=list)
    # Permissions the bot lacks here, by discord.py name: "send_messages", "create_public_threads",
    # "read_message_history", "embed_links", "send_messages_in_threads".
    denied: set[str] = field(default_factory=set)
    position: int = 0
    created: float = field(default_factory=time.time)
    last_message_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": 0,
        }
        if self.type == DM:
            data["recipients"] = [u.to_json() for u in self.recipients]
            data.pop("name")
            return data
        data.update(
            guild_id=str(self.guild_id),
            position=self.position,
            permission_overwrites=[],
            nsfw=False,
            rate_limit_per_user=0,
            parent_id=str(self.parent_id) if self.parent_id else None,
        )
        if self.type in (GUILD_TEXT, GUILD_FORUM):
            data["topic"] = None
        if self.type == GUILD_FORUM:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                default_thread_rate_limit_per_user=0,
            )
        if self.type == PUBLIC_THREAD:
            data.update(
                owner_id=str(self.owner_id),
                message_count=0,
                member_count=1,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(self.created),
                    "locked": False,
                    "create_timestamp": iso(self.created),
                },
            )
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    channel_ids: list[int] = field(default_factory=list)
    thread_ids: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)  # id -> name, besides @everyone


@dataclass(frozen=True)
class MessageState:
    """What a message showed at one moment: created, then each edit."""

    at: float  # time.monotonic()
    content: str
    embeds: tuple[dict[str, Any], ...]
    flags: int
    via: str  # "create", "edit", "callback", "followup"
    components: tuple[dict[str, Any], ...] = ()

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)


@dataclass
class Message:
    id: int
    channel_id: int
    author: User
    guild_id: int | None
    states: list[MessageState]
    created: float = field(default_factory=time.time)
    reference_id: int | None = None
    interaction_id: int | None = None
    webhook_id: int | None = None
    thread_id: int | None = None
    mention_ids: list[int] = field(default_factory=list)
    deleted: bool = False

    @property
    def state(self) -> MessageState:
        return self.states[-1]

    @property
    def content(self) -> str:
        return self.state.content

    @property
    def embeds(self) -> tuple[dict[str, Any], ...]:
        return self.state.embeds

    @property
    def flags(self) -> int:
        return self.state.flags

    @property
    def components(self) -> tuple[dict[str, Any], ...]:
        return self.state.components

    def custom_ids(self) -> list[str]:
        """The custom ids of the message's buttons, in order."""
        return [c["custom_id"] for row in self.components for c in row.get("components", [])]

    @property
    def edits(self) -> list[MessageState]:
        return self.states[1:]

    def to_json(self, users: dict[int, User], channels: dict[int, Channel]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": 19 if self.reference_id else (20 if self.interaction_id else 0),
            "channel_id": str(self.channel_id),
            "author": self.author.to_json(),
            "content": self.content,
            "timestamp": iso(self.created),
            "edited_timestamp": iso(time.time()) if len(self.states) > 1 else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [users[i].to_json() for i in self.mention_ids if i in users],
            "mention_roles": [],
            "attachments": [],
            "embeds": list(self.embeds),
            "pinned": False,
            "flags": self.flags,
            "components": list(self.components),
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.reference_id is not None:
            data["message_reference"] = {
                "type": 0,
                "message_id": str(self.reference_id),
                "channel_id": str(self.channel_id),
                **({"guild_id": str(self.guild_id)} if self.guild_id else {}),
            }
        if self.thread_id is not None and self.thread_id in channels:
            data["thread"] = channels[self.thread_id].to_json()
        return data


@dataclass
class Interaction:
    id: int
    token: str
    command: str  # the slash command, or "component:<custom id>" for a button click
    options: dict[str, Any]
    user: User
    channel_id: int
    guild_id: int | None
    created: float = field(default_factory=time.monotonic)
    acknowledged: bool = False
    response_type: int | None = None
    callback_at: float | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)

    @staticmethod
    def new_token() -> str:
        return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)


@dataclass(frozen=True)
class RecordedRequest:
    at: float  # time.monotonic()
    method: str
    path: str  # below /api/v10, e.g. /channels/123/messages
    query: dict[str, str]
    body: Any
    status: int
    response: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"
