"""REST: the routes the bot uses, with Discord's checks, errors and rate-limit headers."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.discord_emulator.limits import (
    THREAD_NAME,
    DiscordError,
    check_message,
    check_not_empty,
    unknown,
)
from tests.discord_emulator.model import (
    EPHEMERAL,
    GUILD_TEXT,
    LOADING,
    PUBLIC_THREAD,
    Channel,
    Interaction,
    Message,
    RecordedRequest,
)

if TYPE_CHECKING:
    from tests.discord_emulator.server import DiscordEmulator

Handler = Callable[[web.Request, dict[str, str], Any], Awaitable[tuple[int, Any]]]
INTERACTION_TOKEN_LIFETIME_S = 15 * 60


class RestApi:
    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emu = emulator
        s = r"(?P<{}>\d+)"
        tok = r"(?P<token>[^/]+)"
        # (method, path regex, handler, needs bot authorization)
        self.routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        add = self._add
        add("GET", "/gateway", self.get_gateway, False)
        add("GET", "/gateway/bot", self.get_gateway_bot, True)
        add("GET", "/users/@me", self.get_me, True)
        add("GET", "/oauth2/applications/@me", self.get_application, True)
        add("GET", "/applications/@me", self.get_application, True)
        add("GET", f"/applications/{s.format('app')}/commands", self.get_commands, True)
        add("PUT", f"/applications/{s.format('app')}/commands", self.put_commands, True)
        guild_cmds = f"/applications/{s.format('app')}/guilds/{s.format('guild')}/commands"
        add("GET", guild_cmds, self.get_commands, True)
        add("PUT", guild_cmds, self.put_commands, True)
        add("POST", f"/interactions/{s.format('iid')}/{tok}/callback", self.callback, False)
        hook = f"/webhooks/{s.format('app')}/{tok}"
        add("POST", hook, self.post_followup, False)
        msg = r"(?P<mid>@original|\d+)"
        add("GET", f"{hook}/messages/{msg}", self.get_webhook_message, False)
        add("PATCH", f"{hook}/messages/{msg}", self.patch_webhook_message, False)
        add("DELETE", f"{hook}/messages/{msg}", self.delete_webhook_message, False)
        ch = f"/channels/{s.format('cid')}"
        add("GET", ch, self.get_channel, True)
        add("GET", f"{ch}/messages", self.get_messages, True)
        add("POST", f"{ch}/messages", self.post_message, True)
        add("GET", f"{ch}/messages/{s.format('mid')}", self.get_message, True)
        add("PATCH", f"{ch}/messages/{s.format('mid')}", self.patch_message, True)
        add("DELETE", f"{ch}/messages/{s.format('mid')}", self.delete_message, True)
        add("POST", f"{ch}/messages/{s.format('mid')}/threads", self.start_thread, True)
        add("POST", f"{ch}/typing", self.typing, True)
        add("POST", "/users/@me/channels", self.create_dm, True)

    def _add(self, method: str, pattern: str, handler: Handler, auth: bool) -> None:
        self.routes.append((method, re.compile(pattern + r"/?"), handler, auth))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self.entry)

    # -- the front door: auth, rate limits, recording ----------------------------------------------
    async def entry(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await _read_body(request)
        status, data, headers = await self._respond(request, path, body)
        self.emu.record_request(
            RecordedRequest(
                at=time.monotonic(),
                method=request.method,
                path=path,
                query=dict(request.query),
                body=body,
                status=status,
                response=data,
            )
        )
        if status == 204:
            return web.Response(status=204, headers=headers)
        # Exactly "application/json", no charset: discord.py compares the header verbatim.
        headers["Content-Type"] = "application/json"
        return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)

    async def _respond(
        self, request: web.Request, path: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        bucket = hashlib.sha1(re.sub(r"\d{5,}", "{id}", path).encode()).hexdigest()[:16]
        limited = self._rate_limited(request.method, path)
        if limited is not None:
            return 429, *self._too_many(limited, bucket)
        headers = {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": bucket,
        }
        for method, pattern, handler, auth in self.routes:
            match = pattern.fullmatch(path)
            if match is None or method != request.method:
                continue
            if auth and request.headers.get("Authorization") != f"Bot {self.emu.token}":
                return 401, {"message": "401: Unauthorized", "code": 0}, headers
            try:
                status, data = await handler(request, match.groupdict(), body)
            except DiscordError as exc:
                return exc.status, exc.body, headers
            return status, data, headers
        return 404, {"message": "404: Not Found", "code": 0}, headers

    def _rate_limited(self, method: str, path: str) -> Any:
        for rule in self.emu.rate_limits:
            if rule.remaining > 0 and (rule.method in (None, method)) and rule.pattern.search(path):
                rule.remaining -= 1
                rule.hits += 1
                return rule
        return None

    @staticmethod
    def _too_many(rule: Any, bucket: str) -> tuple[Any, dict[str, str]]:
        body = {
            "message": "You are being rate limited.",
            "retry_after": rule.retry_after,
            "global": rule.is_global,
            "code": 0,
        }
        headers = {
            "Retry-After": f"{rule.retry_after:.3f}",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + rule.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{rule.retry_after:.3f}",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Scope": "global" if rule.is_global else "user",
            # Discord's answers pass through its proxy; discord.py treats a 429 without this
            # header as a Cloudflare ban instead of a rate limit.
            "Via": "1.1 google",
        }
        if rule.is_global:
            headers["X-RateLimit-Global"] = "true"
        return body, headers

    # -- gateway, user, application ----------------------------------------------------------------
    async def get_gateway(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        return 200, {"url": self.emu.gateway_url}

    async def get_gateway_bot(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        return 200, {
            "url": self.emu.gateway_url,
            "shards": self.emu.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    async def get_me(self, request: web.Request, p: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, {**self.emu.bot_user.to_json(), "verified": True, "mfa_enabled": False}

    async def get_application(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        return 200, {
            "id": str(self.emu.application_id),
            "name": self.emu.bot_user.username,
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.emu.alice.to_json(),
            "verify_key": "0" * 64,
            "flags": self.emu.gateway.application_flags(),
            "bot": self.emu.bot_user.to_json(),
        }

    # -- application commands ----------------------------------------------------------------------
    def _check_app(self, p: dict[str, str]) -> None:
        if int(p["app"]) != self.emu.application_id:
            raise DiscordError(403, 50001, "Missing Access")

    async def get_commands(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        self._check_app(p)
        if "guild" in p and p["guild"] is not None:
            return 200, self.emu.guild_commands.get(int(p["guild"]), [])
        return 200, self.emu.global_commands

    async def put_commands(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        self._check_app(p)
        if not isinstance(body, list):
            raise DiscordError(400, 50035, "Invalid Form Body", {"_errors": ["must be a list"]})
        guild_id = int(p["guild"]) if p.get("guild") else None
        if guild_id is not None and guild_id not in self.emu.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        errors = {}
        for i, cmd in enumerate(body):
            if (
                not re.fullmatch(r"[-_\w]{1,32}", cmd.get("name", ""))
                or cmd["name"].lower() != cmd["name"]
            ):
                errors[str(i)] = {
                    "name": {"_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME"}]}
                }
            if not 1 <= len(cmd.get("description", "")) <= 100:
                errors[str(i)] = {"description": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}}
            for opt in cmd.get("options", []):
                if len(opt.get("choices") or []) > 25:
                    errors[str(i)] = {"options": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body", errors)
        stored = []
        for cmd in body:
            stored.append(
                {
                    "id": str(self.emu.ids.next()),
                    "application_id": str(self.emu.application_id),
                    "version": str(self.emu.ids.next()),
                    "type": cmd.get("type", 1),
                    "default_member_permissions": None,
                    "nsfw": False,
                    **({"guild_id": str(guild_id)} if guild_id else {}),
                    **cmd,
                }
            )
        if guild_id is None:
            self.emu.global_commands = stored
        else:
            self.emu.guild_commands[guild_id] = stored
        self.emu.changed()
        return 200, stored

    # -- interactions ------------------------------------------------------------------------------
    def _interaction(self, iid: int, token: str) -> Interaction:
        interaction = self.emu.interactions.get(iid)
        if interaction is None or interaction.token != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        return interaction

    def _by_token(self, p: dict[str, str]) -> Interaction:
        if int(p["app"]) != self.emu.application_id:
            raise unknown("Webhook", 10015)
        for interaction in self.emu.interactions.values():
            if interaction.token == p["token"]:
                if time.monotonic() - interaction.created > INTERACTION_TOKEN_LIFETIME_S:
                    raise DiscordError(401, 50027, "Invalid Webhook Token")
                return interaction
        raise unknown("Webhook", 10015)

    async def callback(self, request: web.Request, p: dict[str, str], body: Any) -> tuple[int, Any]:
        interaction = self._interaction(int(p["iid"]), p["token"])
        if interaction.acknowledged:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.created > self.emu.interaction_window_s:
            raise DiscordError(404, 10062, "Unknown interaction")
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        # 6 and 7 (deferred update, update message) exist for component interactions only.
        allowed = (4, 5, 6, 7) if interaction.command.startswith("component:") else (4, 5, 8, 9)
        if kind not in allowed:
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES"}]}},
            )
        flags = int(data.get("flags") or 0) & EPHEMERAL
        resource: dict[str, Any] = {"type": kind}
        if kind == 4:
            check_message(data, nest="data")
            check_not_empty(data.get("content") or "", data.get("embeds") or [])
        interaction.acknowledged = True
        interaction.response_type = kind
        interaction.callback_at = time.monotonic()
        if kind in (4, 5):
            channel = self.emu.channels[interaction.channel_id]
            message = self.emu.new_message(
                channel,
                self.emu.bot_user,
                data.get("content") or "" if kind == 4 else "",
                data.get("embeds") or () if kind == 4 else (),
                flags=flags | (LOADING if kind == 5 else 0),
                via="callback",
                components=data.get("components") or () if kind == 4 else (),
                interaction_id=interaction.id,
                webhook_id=self.emu.application_id,
            )
            interaction.original_id = message.id
            resource["message"] = self.emu.message_json(message)
            if not flags:
                await self.emu.dispatch_message("MESSAGE_CREATE", message)
        self.emu.changed()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        return 200, {
            "interaction": {
                "id": str(interaction.id),
                "type": 2,
                "response_message_id": str(interaction.original_id)
                if interaction.original_id
                else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags),
            },
            "resource": resource,
        }

    def _webhook_message(self, interaction: Interaction, mid: str) -> Message:
        if mid == "@original":
            if interaction.original_id is None:
                raise unknown("Message", 10008)
            return self.emu.messages[interaction.original_id]
        message = self.emu.messages.get(int(mid))
        if (
            message is None
            or message.deleted
            or (
                message.id != interaction.original_id and message.id not in interaction.followup_ids
            )
        ):
            raise unknown("Message", 10008)
        return message

    async def get_webhook_message(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        message = self._webhook_message(self._by_token(p), p["mid"])
        return 200, self.emu.message_json(message)

    async def patch_webhook_message(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        interaction = self._by_token(p)
        message = self._webhook_message(interaction, p["mid"])
        check_message(body)
        self._check_result_not_empty(message, body)
        self.emu.edit_message(message, body)
        if not message.flags & EPHEMERAL:
            await self.emu.dispatch_message("MESSAGE_UPDATE", message)
        return 200, self.emu.message_json(message)

    async def delete_webhook_message(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        message = self._webhook_message(self._by_token(p), p["mid"])
        message.deleted = True
        self.emu.changed()
        return 204, None

    async def post_followup(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        interaction = self._by_token(p)
        if not interaction.acknowledged:
            raise unknown("Webhook", 10015)
        check_message(body)
        check_not_empty(body.get("content") or "", body.get("embeds") or [])
        channel = self.emu.channels[interaction.channel_id]
        flags = int(body.get("flags") or 0) & EPHEMERAL
        message = self.emu.new_message(
            channel,
            self.emu.bot_user,
            body.get("content") or "",
            body.get("embeds") or (),
            flags=flags,
            via="followup",
            components=body.get("components") or (),
            interaction_id=interaction.id,
            webhook_id=self.emu.application_id,
        )
        interaction.followup_ids.append(message.id)
        if not flags:
            await self.emu.dispatch_message("MESSAGE_CREATE", message)
        if request.query.get("wait") in ("1", "true", "True"):
            return 200, self.emu.message_json(message)
        return 204, None

    # -- channels and messages ---------------------------------------------------------------------
    def _channel(self, p: dict[str, str]) -> Channel:
        channel = self.emu.channels.get(int(p["cid"]))
        if channel is None:
            raise unknown("Channel", 10003)
        return channel

    def _message(self, channel: Channel, mid: str) -> Message:
        message = self.emu.messages.get(int(mid))
        if message is None or message.deleted or message.channel_id != channel.id:
            raise unknown("Message", 10008)
        return message

    @staticmethod
    def _deny(channel: Channel, permission: str) -> None:
        if permission in channel.denied:
            raise DiscordError(403, 50013, "Missing Permissions")

    def _check_result_not_empty(self, message: Message, body: dict[str, Any]) -> None:
        content = body["content"] or "" if "content" in body else message.content
        embeds = body["embeds"] or [] if "embeds" in body else message.embeds
        check_not_empty(content, embeds)

    async def get_channel(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        return 200, self._channel(p).to_json()

    async def get_messages(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        channel = self._channel(p)
        self._deny(channel, "read_message_history")
        limit = int(request.query.get("limit", 50))
        if not 1 <= limit <= 100:
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                {"limit": {"_errors": [{"code": "NUMBER_TYPE_MAX"}]}},
            )
        messages = self.emu.channel_messages(channel)  # oldest first
        before, after, around = (request.query.get(k) for k in ("before", "after", "around"))
        if before:
            messages = [m for m in messages if m.id < int(before)][-limit:]
        elif after:
            messages = [m for m in messages if m.id > int(after)][:limit]
        elif around:
            older = [m for m in messages if m.id < int(around)][-(limit // 2) :]
            newer = [m for m in messages if m.id >= int(around)][: limit - len(older)]
            messages = older + newer
        else:
            messages = messages[-limit:]
        # Discord lists the newest first whatever the direction.
        return 200, [self.emu.message_json(m) for m in reversed(messages)]

    async def get_message(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        channel = self._channel(p)
        return 200, self.emu.message_json(self._message(channel, p["mid"]))

    async def post_message(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        channel = self._channel(p)
        self._deny(
            channel,
            "send_messages_in_threads" if channel.type == PUBLIC_THREAD else "send_messages",
        )
        if body.get("embeds"):
            self._deny(channel, "embed_links")
        check_message(body)
        check_not_empty(body.get("content") or "", body.get("embeds") or [])
        reference_id = None
        ref = body.get("message_reference")
        if ref:
            target = self.emu.messages.get(int(ref.get("message_id", 0)))
            if target is None or target.channel_id != channel.id:
                if ref.get("fail_if_not_exists", True):
                    raise DiscordError(
                        400,
                        50035,
                        "Invalid Form Body",
                        {
                            "message_reference": {
                                "_errors": [
                                    {
                                        "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                        "message": "Unknown message",
                                    }
                                ]
                            }
                        },
                    )
            else:
                reference_id = target.id
        message = self.emu.new_message(
            channel,
            self.emu.bot_user,
            body.get("content") or "",
            body.get("embeds") or (),
            reference_id=reference_id,
            components=body.get("components") or (),
        )
        await self.emu.dispatch_message("MESSAGE_CREATE", message)
        return 200, self.emu.message_json(message)

    async def patch_message(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        channel = self._channel(p)
        message = self._message(channel, p["mid"])
        if message.author.id != self.emu.bot_user.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        check_message(body)
        self._check_result_not_empty(message, body)
        self.emu.edit_message(message, body)
        await self.emu.dispatch_message("MESSAGE_UPDATE", message)
        return 200, self.emu.message_json(message)

    async def delete_message(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        channel = self._channel(p)
        message = self._message(channel, p["mid"])
        if message.author.id != self.emu.bot_user.id:
            self._deny(channel, "manage_messages")
        message.deleted = True
        self.emu.changed()
        await self.emu.gateway.dispatch(
            "MESSAGE_DELETE",
            {
                "id": str(message.id),
                "channel_id": str(channel.id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
            },
            channel.guild_id,
        )
        return 204, None

    async def start_thread(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        channel = self._channel(p)
        if channel.type != GUILD_TEXT:
            # Forum channels have posts, not threads started from messages.
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        message = self._message(channel, p["mid"])
        self._deny(channel, "create_public_threads")
        if message.thread_id is not None:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        name = body.get("name") or ""
        if not 1 <= len(name) <= THREAD_NAME:
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "name": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_BAD_LENGTH",
                                "message": f"Must be between 1 and {THREAD_NAME} in length.",
                            }
                        ]
                    }
                },
            )
        assert channel.guild_id is not None
        thread = Channel(
            id=message.id,  # a thread started from a message shares its id
            type=PUBLIC_THREAD,
            name=name,
            guild_id=channel.guild_id,
            parent_id=channel.id,
            owner_id=self.emu.bot_user.id,
            denied={d for d in channel.denied if d != "create_public_threads"},
        )
        self.emu.channels[thread.id] = thread
        self.emu.guilds[channel.guild_id].thread_ids.append(thread.id)
        message.thread_id = thread.id
        self.emu.changed()
        payload = {
            **thread.to_json(),
            "newly_created": True,
            "member": {
                "id": str(thread.id),
                "user_id": str(self.emu.bot_user.id),
                "join_timestamp": "2025-01-01T00:00:00+00:00",
                "flags": 0,
            },
        }
        await self.emu.gateway.dispatch("THREAD_CREATE", payload, channel.guild_id)
        return 201, thread.to_json()

    async def typing(self, request: web.Request, p: dict[str, str], body: Any) -> tuple[int, Any]:
        self._channel(p)
        return 204, None

    async def create_dm(
        self, request: web.Request, p: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        user = self.emu.users.get(int(body.get("recipient_id", 0)))
        if user is None:
            raise unknown("User", 10013)
        return 200, self.emu.dm_channel(user).to_json()


async def _read_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    ctype = request.content_type
    if ctype == "application/json":
        return await request.json()
    if ctype.startswith("multipart/"):
        reader = await request.multipart()
        payload: Any = None
        async for part in reader:
            if getattr(part, "name", None) == "payload_json":
                payload = json.loads(await part.text())  # type: ignore[union-attr]
        return payload
    return (await request.read()).decode(errors="replace") or None
