"""The emulator: its world, the HTTP server (REST + gateway + control), and the test-facing API."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.discord_emulator.gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
    Gateway,
    Session,
)
from tests.discord_emulator.model import (
    ALL_PERMISSIONS,
    APPLICATION_COMMAND,
    DM,
    GUILD_FORUM,
    GUILD_TEXT,
    LOADING,
    MEMBER_PERMISSIONS,
    MESSAGE_COMPONENT,
    PUBLIC_THREAD,
    Channel,
    Guild,
    Interaction,
    Message,
    MessageState,
    RecordedRequest,
    Snowflakes,
    User,
    iso,
)

DEFAULT_TOKEN = "emulator-bot-token"
OPTION_TYPES = {3: str, 4: int, 5: bool, 10: float}


@dataclass
class RateLimitRule:
    method: str | None
    pattern: re.Pattern[str]
    remaining: int
    retry_after: float
    is_global: bool
    hits: int = 0


class DiscordEmulator:
    """A Discord stand-in on 127.0.0.1 for discord.py; see the package docstring."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        interaction_window_s: float = 3.0,
        recommended_shards: int = 1,
    ) -> None:
        self.token = token
        self.host = host
        self.port = 0
        self.interaction_window_s = interaction_window_s
        self.recommended_shards = recommended_shards
        self.ids = Snowflakes()
        self.started = time.monotonic()

        self.bot_user = User(id=self.ids.next(), username="article-bot", bot=True)
        self.application_id = self.bot_user.id
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.interactions: dict[int, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self.events: list[tuple[float, str, str, dict[str, Any]]] = []
        self.rate_limits: list[RateLimitRule] = []
        self.gateway = Gateway(self)
        self.gateway.on_change = self.changed
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

        # A default world: one guild, a channel where the bot may do everything, one where it may
        # not start threads, and a user to ask questions.
        self.guild = self.add_guild("Article Readers")
        self.general = self.add_channel(self.guild, "general")
        self.no_threads = self.add_channel(
            self.guild, "no-threads", denied={"create_public_threads"}
        )
        # Ask channels for the bot's tests: one text channel, one forum.
        self.ask_channel = self.add_channel(self.guild, "ask")
        self.ask_forum = self.add_channel(self.guild, "ask-forum", forum=True)
        self.alice = self.add_user("alice")
        # Roles exist from the start so the bot knows them from GUILD_CREATE.
        self.admin_role = self.add_role(self.guild, "Article Admins")

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self, port: int = 0) -> DiscordEmulator:
        from tests.discord_emulator.control import add_control_routes
        from tests.discord_emulator.rest import RestApi

        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        RestApi(self).add_routes(app)
        add_control_routes(app, self)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    # -- the world ---------------------------------------------------------------------------------
    def add_user(
        self,
        name: str,
        *,
        bot: bool = False,
        permissions: int | None = None,
        role_ids: list[int] | None = None,
    ) -> User:
        """A member of every guild; ``permissions`` are their resolved guild permissions."""
        user = User(
            id=self.ids.next(),
            username=name,
            bot=bot,
            permissions=permissions,
            role_ids=list(role_ids or ()),
        )
        self.users[user.id] = user
        for guild in self.guilds.values():
            guild.member_ids.append(user.id)
        return user

    def add_guild(self, name: str) -> Guild:
        guild = Guild(id=self.ids.next(), name=name, owner_id=0)
        guild.member_ids = list(self.users)
        self.guilds[guild.id] = guild
        return guild

    def add_member(self, name: str, *, role_ids: list[int] | None = None) -> User:
        """An ordinary member: no Manage Server permission."""
        return self.add_user(name, permissions=MEMBER_PERMISSIONS, role_ids=role_ids)

    def add_role(self, guild: Guild, name: str) -> int:
        role_id = self.ids.next()
        guild.roles[role_id] = name
        return role_id

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        denied: set[str] | None = None,
        forum: bool = False,
    ) -> Channel:
        channel = Channel(
            id=self.ids.next(),
            type=GUILD_FORUM if forum else GUILD_TEXT,
            name=name,
            guild_id=guild.id,
            denied=set(denied or ()),
            position=len(guild.channel_ids),
        )
        self.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        return channel

    def dm_channel(self, user: User) -> Channel:
        for channel in self.channels.values():
            if channel.type == DM and channel.recipients and channel.recipients[0].id == user.id:
                return channel
        channel = Channel(id=self.ids.next(), type=DM, name="", recipients=[user])
        self.channels[channel.id] = channel
        return channel

    def member_json(self, user: User, guild: Guild) -> dict[str, Any]:
        return {
            "user": user.to_json(),
            "roles": [str(r) for r in user.role_ids],
            "joined_at": iso(time.time() - 86400),
            "deaf": False,
            "mute": False,
            "nick": None,
            "avatar": None,
            "flags": 0,
            "pending": False,
            "permissions": str(ALL_PERMISSIONS if user.permissions is None else user.permissions),
        }

    def guild_create_payload(self, guild: Guild) -> dict[str, Any]:
        channels = [self.channels[c].to_json() for c in guild.channel_ids]
        for c in channels:
            c.pop("guild_id", None)
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner_id or self.alice.id),
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [
                {
                    "id": str(guild.id),
                    "name": "@everyone",
                    "permissions": str(ALL_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                },
                *(
                    {
                        "id": str(role_id),
                        "name": role_name,
                        "permissions": "0",
                        "position": i + 1,
                        "color": 0,
                        "hoist": False,
                        "managed": False,
                        "mentionable": False,
                        "flags": 0,
                    }
                    for i, (role_id, role_name) in enumerate(guild.roles.items())
                ),
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": iso(time.time() - 86400),
            "large": False,
            "unavailable": False,
            "member_count": len(guild.member_ids),
            "voice_states": [],
            "members": [self.member_json(self.bot_user, guild)],
            "channels": channels,
            "threads": [self.channels[t].to_json() for t in guild.thread_ids],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def message_json(self, message: Message) -> dict[str, Any]:
        return message.to_json(self.users, self.channels)

    # -- records and waiting -----------------------------------------------------------------------
    def record_request(self, request: RecordedRequest) -> None:
        self.requests.append(request)
        self.changed()

    def record_event(self, kind: str, name: str, detail: dict[str, Any]) -> None:
        self.events.append((time.monotonic(), kind, name, detail))

    def changed(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every change); return its value."""
        deadline = time.monotonic() + timeout
        while True:
            event = self._changed
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"emulator: condition not met within {timeout:.1f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(left, 0.25))

    async def wait_ready(self, timeout: float = 20.0, shards: int = 1) -> None:
        await self.wait_for(lambda: self.gateway.ready_shards >= shards, timeout)

    async def wait_commands(self, *names: str, timeout: float = 20.0) -> None:
        def registered() -> bool:
            have = {c["name"] for c in self.all_commands()}
            return all(n in have for n in names)

        await self.wait_for(registered, timeout)

    # -- messages ----------------------------------------------------------------------------------
    def new_message(
        self,
        channel: Channel,
        author: User,
        content: str,
        embeds: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
        *,
        flags: int = 0,
        via: str = "create",
        reference_id: int | None = None,
        interaction_id: int | None = None,
        webhook_id: int | None = None,
        components: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
        message_id: int | None = None,
    ) -> Message:
        message = Message(
            id=message_id or self.ids.next(),
            channel_id=channel.id,
            author=author,
            guild_id=channel.guild_id,
            states=[
                MessageState(
                    time.monotonic(), content or "", tuple(embeds), flags, via, tuple(components)
                )
            ],
            reference_id=reference_id,
            interaction_id=interaction_id,
            webhook_id=webhook_id,
            mention_ids=[int(m) for m in re.findall(r"<@!?(\d+)>", content or "")],
        )
        self.messages[message.id] = message
        channel.last_message_id = message.id
        self.changed()
        return message

    def edit_message(self, message: Message, payload: dict[str, Any], via: str = "edit") -> None:
        content = message.content
        if "content" in payload:
            content = payload["content"] or ""
        embeds = message.embeds
        if "embeds" in payload:
            embeds = tuple(payload["embeds"] or ())
        components = message.components
        if "components" in payload:
            components = tuple(payload["components"] or ())
        flags = message.flags & ~LOADING
        message.states.append(
            MessageState(time.monotonic(), content, embeds, flags, via, components)
        )
        self.changed()

    def channel_messages(self, channel: Channel | int) -> list[Message]:
        cid = channel if isinstance(channel, int) else channel.id
        return sorted(
            (m for m in self.messages.values() if m.channel_id == cid and not m.deleted),
            key=lambda m: m.id,
        )

    def bot_messages(self, channel: Channel | int) -> list[Message]:
        return [m for m in self.channel_messages(channel) if m.author.id == self.bot_user.id]

    def threads_of(self, channel: Channel) -> list[Channel]:
        return [c for c in self.channels.values() if c.parent_id == channel.id]

    async def dispatch_message(self, event: str, message: Message) -> None:
        data = self.message_json(message)
        if event == "MESSAGE_CREATE" and message.guild_id is not None:
            guild = self.guilds[message.guild_id]
            data["member"] = {
                k: v for k, v in self.member_json(message.author, guild).items() if k != "user"
            }
            for mention in data["mentions"]:
                mention["member"] = data["member"]
        in_dm = message.guild_id is None
        intent = INTENT_DIRECT_MESSAGES if in_dm else INTENT_GUILD_MESSAGES
        mentioned_bot = self.bot_user.id in message.mention_ids

        def hide_content(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
            # Without the message-content intent Discord blanks what the bot was not addressed by.
            if session.intents & INTENT_MESSAGE_CONTENT or in_dm or mentioned_bot:
                return payload
            if message.author.id == self.bot_user.id:
                return payload
            return {**payload, "content": "", "embeds": [], "attachments": []}

        await self.gateway.dispatch(event, data, message.guild_id, intent, hide_content)

    # -- acting as users ---------------------------------------------------------------------------
    async def send_message(
        self,
        user: User,
        channel: Channel,
        content: str,
    ) -> Message:
        """``user`` posts ``content`` in ``channel`` (a guild channel, a thread or a DM)."""
        message = self.new_message(channel, user, content)
        await self.dispatch_message("MESSAGE_CREATE", message)
        return message

    async def mention(self, user: User, channel: Channel, text: str) -> Message:
        return await self.send_message(user, channel, f"{self.bot_user.mention} {text}")

    async def send_dm(self, user: User, content: str) -> Message:
        return await self.send_message(user, self.dm_channel(user), content)

    async def forum_post(self, user: User, forum: Channel, title: str, content: str) -> Channel:
        """``user`` opens a post in a forum channel: a thread named ``title`` whose first message
        (sharing the thread's id, as on Discord) holds ``content``."""
        if forum.type != GUILD_FORUM or forum.guild_id is None:
            raise ValueError(f"#{forum.name} is not a forum channel")
        thread = Channel(
            id=self.ids.next(),
            type=PUBLIC_THREAD,
            name=title,
            guild_id=forum.guild_id,
            parent_id=forum.id,
            owner_id=user.id,
            denied=set(forum.denied),
        )
        self.channels[thread.id] = thread
        self.guilds[forum.guild_id].thread_ids.append(thread.id)
        payload = {**thread.to_json(), "newly_created": True}
        await self.gateway.dispatch("THREAD_CREATE", payload, forum.guild_id)
        starter = self.new_message(thread, user, content, message_id=thread.id)
        await self.dispatch_message("MESSAGE_CREATE", starter)
        return thread

    async def click(self, user: User, message: Message, custom_id: str) -> Interaction:
        """``user`` clicks the button ``custom_id`` under ``message``."""
        if custom_id not in message.custom_ids():
            raise LookupError(f"message {message.id} has no button {custom_id!r}")
        channel = self.channels[message.channel_id]
        interaction = Interaction(
            id=self.ids.next(),
            token=Interaction.new_token(),
            command=f"component:{custom_id}",
            options={},
            user=user,
            channel_id=channel.id,
            guild_id=channel.guild_id,
        )
        self.interactions[interaction.id] = interaction
        data: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": MESSAGE_COMPONENT,
            "token": interaction.token,
            "version": 1,
            "data": {"custom_id": custom_id, "component_type": 2},
            "message": self.message_json(message),
            **self._interaction_context(user, channel),
        }
        await self.gateway.dispatch("INTERACTION_CREATE", data, channel.guild_id)
        self.changed()
        return interaction

    def _interaction_context(self, user: User, channel: Channel) -> dict[str, Any]:
        data: dict[str, Any] = {
            "channel_id": str(channel.id),
            "channel": channel.to_json(),
            "app_permissions": str(ALL_PERMISSIONS),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            data.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                member=self.member_json(user, guild),
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            data.update(
                user=user.to_json(), context=1, authorizing_integration_owners={"1": str(user.id)}
            )
        return data

    def all_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        commands = list(self.global_commands)
        for gid, cmds in self.guild_commands.items():
            if guild_id is None or gid == guild_id:
                commands.extend(cmds)
        return commands

    def find_command(self, name: str, guild_id: int | None) -> dict[str, Any]:
        for cmd in self.guild_commands.get(guild_id or 0, []) + self.global_commands:
            if cmd["name"] == name:
                return cmd
        known = sorted(c["name"] for c in self.all_commands(guild_id))
        raise LookupError(f"/{name} is not registered (registered: {known})")

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: User | None = None,
        channel: Channel | None = None,
    ) -> Interaction:
        """``user`` runs ``/name`` with ``options`` in ``channel``; it must be registered."""
        user = user or self.alice
        channel = channel or self.general
        command = self.find_command(name, channel.guild_id)
        given = dict(options or {})
        typed = []
        for opt in command.get("options", []):
            if opt["name"] in given:
                value = given.pop(opt["name"])
                kind = OPTION_TYPES.get(opt["type"])
                if kind is not None and not isinstance(value, kind):
                    raise TypeError(f"option {opt['name']} wants {kind.__name__}, got {value!r}")
                choices = [c["value"] for c in opt.get("choices") or []]
                if choices and value not in choices:
                    raise ValueError(f"option {opt['name']}={value!r} is not one of {choices}")
                typed.append({"name": opt["name"], "type": opt["type"], "value": value})
            elif opt.get("required"):
                raise ValueError(f"/{name} needs the option {opt['name']}")
        if given:
            raise ValueError(f"/{name} has no option(s) {sorted(given)}")
        interaction = Interaction(
            id=self.ids.next(),
            token=Interaction.new_token(),
            command=name,
            options={o["name"]: o["value"] for o in typed},
            user=user,
            channel_id=channel.id,
            guild_id=channel.guild_id,
        )
        self.interactions[interaction.id] = interaction
        data: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": APPLICATION_COMMAND,
            "token": interaction.token,
            "version": 1,
            "data": {
                "id": command["id"],
                "name": name,
                "type": 1,
                **({"options": typed} if typed else {}),
                **({"guild_id": command["guild_id"]} if command.get("guild_id") else {}),
            },
            **self._interaction_context(user, channel),
        }
        await self.gateway.dispatch("INTERACTION_CREATE", data, channel.guild_id)
        self.changed()
        return interaction

    # -- reading interactions ----------------------------------------------------------------------
    def original(self, interaction: Interaction) -> Message | None:
        return self.messages.get(interaction.original_id or 0)

    def followups(self, interaction: Interaction) -> list[Message]:
        return [self.messages[i] for i in interaction.followup_ids]

    def interaction_requests(self, interaction: Interaction) -> list[RecordedRequest]:
        return [
            r for r in self.requests if interaction.token in r.path or str(interaction.id) in r.path
        ]

    # -- disruptions -------------------------------------------------------------------------------
    def rate_limit(
        self,
        path: str,
        count: int = 1,
        *,
        method: str | None = None,
        retry_after: float = 0.5,
        is_global: bool = False,
    ) -> RateLimitRule:
        """Answer the next ``count`` requests whose path matches regex ``path`` with 429."""
        rule = RateLimitRule(method, re.compile(path), count, retry_after, is_global)
        self.rate_limits.append(rule)
        return rule

    async def drop_gateway(self, code: int = 4000) -> int:
        return await self.gateway.drop(code)

    async def request_reconnect(self) -> int:
        return await self.gateway.send_reconnect()

    async def invalidate_sessions(self, resumable: bool = False) -> int:
        return await self.gateway.invalidate(resumable)

    # -- transcript --------------------------------------------------------------------------------
    def transcript(self, *interactions: Interaction) -> str:
        """Requests and message states, in order, as readable lines: all of them, or those of the
        given interactions, timed from the first of those."""
        t0 = min((i.created for i in interactions), default=self.started)
        if interactions:
            labels = {i.id: f"[{n}]" for n, i in enumerate(interactions, 1)}
            reqs = [
                (labels[i.id] + " ", r)
                for r in self.requests
                for i in interactions
                if i.token in r.path or str(i.id) in r.path
            ]
            reqs.sort(key=lambda pair: pair[1].at)
            if len(interactions) == 1:
                reqs = [("", r) for _, r in reqs]
        else:
            reqs = [("", r) for r in self.requests]
        lines = []
        for label, r in reqs:
            lines.append(
                f"+{r.at - t0:7.3f}s  {label}{r.method:<6} {_short_path(r.path)} -> {r.status}"
            )
            summary = _summarise_body(r.body)
            if summary:
                lines.append(f"           {summary}")
        return "\n".join(lines)


def _short_path(path: str) -> str:
    return re.sub(r"/(aW50ZXJhY3Rpb24[\w-]{6})[\w-]+", r"/\1…", path)


def _summarise_body(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    inner = body.get("data") if isinstance(body.get("data"), dict) else body
    parts = []
    if ("type" in body and "data" in body) or body.keys() == {"type"}:
        parts.append(f"type={body.get('type')}")
    if isinstance(inner, dict):
        if inner.get("content"):
            text = inner["content"].replace("\n", "⏎")
            parts.append(f"content={text[:90]!r}{'…' if len(text) > 90 else ''}")
        elif "content" in inner:
            parts.append("content=None")
        for i, e in enumerate(inner.get("embeds") or []):
            desc = (e.get("description") or "").replace("\n", "⏎")
            fields = " | ".join(f"{f['name']}: {f['value'][:60]}" for f in e.get("fields") or [])
            footer = (e.get("footer") or {}).get("text", "")
            parts.append(
                f"embed[{i}] description={desc[:90]!r} fields=[{fields}] footer={footer!r}"
            )
        buttons = [
            c.get("label") or (c.get("emoji") or {}).get("name") or c.get("custom_id")
            for row in inner.get("components") or []
            for c in row.get("components") or []
        ]
        if buttons:
            parts.append(f"buttons={buttons}")
        if inner.get("flags"):
            parts.append(f"flags={inner['flags']}")
    return "  ".join(parts)
