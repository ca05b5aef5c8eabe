"""The gateway: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME with replay, RECONNECT,
INVALID_SESSION, sharding, intents and zlib-stream compression, as discord.py speaks them."""

from __future__ import annotations

import json
import logging
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

if TYPE_CHECKING:
    from tests.discord_emulator.server import DiscordEmulator

log = logging.getLogger("discord_emulator.gateway")

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED = {
    INTENT_GUILD_MEMBERS: "guild_members",
    INTENT_GUILD_PRESENCES: "presences",
    INTENT_MESSAGE_CONTENT: "message_content",
}


class _Compressor:
    """Per-connection transport compression (one shared stream for the connection's life)."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self._zlib = zlib.compressobj() if kind == "zlib-stream" else None
        self._zstd: Any = None
        if kind == "zstd-stream":
            try:
                import zstandard

                self._zstd = zstandard.ZstdCompressor().compressobj()
            except ImportError:
                self.kind = None

    def pack(self, text: str) -> str | bytes:
        if self._zlib is not None:
            return self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self._zstd is not None:
            import zstandard

            return bytes(
                self._zstd.compress(text.encode())
                + self._zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            )
        return text


@dataclass
class Session:
    id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    sent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # kept for RESUME
    connection: Connection | None = None
    resumes: int = 0

    def owns_guild(self, guild_id: int | None) -> bool:
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0  # DMs go to shard 0
        return (guild_id >> 22) % count == shard_id


@dataclass
class Connection:
    ws: web.WebSocketResponse
    compressor: _Compressor
    opened: float = field(default_factory=time.monotonic)
    session: Session | None = None
    heartbeats: int = 0

    async def send(self, payload: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        data = self.compressor.pack(json.dumps(payload))
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)


class Gateway:
    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emu = emulator
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.heartbeat_interval_ms = 41250
        self.identifies = 0
        self.resumes = 0
        # Privileged intents enabled for the application in its developer portal.
        self.enabled_privileged: set[int] = set(PRIVILEGED)
        self.on_change: Callable[[], None] = lambda: None

    # -- connections -------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = Connection(ws=ws, compressor=_Compressor(compress))
        self.connections.append(conn)
        self.emu.record_event("gateway", "connect", {"query": dict(request.query)})
        await conn.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._received(conn, json.loads(msg.data))
        finally:
            self.connections.remove(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self.emu.record_event("gateway", "disconnect", {"code": ws.close_code})
            self.on_change()
        return ws

    async def _received(self, conn: Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            conn.heartbeats += 1
            await conn.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == PRESENCE:
            pass
        else:
            self.emu.record_event("gateway", "unknown-op", {"op": op})

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.emu.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        missing = [
            n
            for bit, n in PRIVILEGED.items()
            if intents & bit and bit not in self.enabled_privileged
        ]
        if missing:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard_id, count = data.get("shard") or [0, 1]
        if not 0 <= shard_id < count:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        # A new identify for the same shard replaces the old session.
        for sid, old in list(self.sessions.items()):
            if old.shard == (shard_id, count):
                del self.sessions[sid]
        session = Session(id=secrets.token_hex(16), shard=(shard_id, count), intents=intents)
        self.sessions[session.id] = session
        conn.session = session
        session.connection = conn
        self.identifies += 1
        self.emu.record_event(
            "gateway", "identify", {"shard": [shard_id, count], "intents": intents}
        )
        guilds = [g for g in self.emu.guilds.values() if session.owns_guild(g.id)]
        await self._dispatch_to(
            session,
            "READY",
            {
                "v": 10,
                "user": self.emu.bot_user.to_json(),
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "resume_gateway_url": self.emu.gateway_url,
                "shard": [shard_id, count],
                "application": {
                    "id": str(self.emu.application_id),
                    "flags": self.application_flags(),
                },
                "private_channels": [],
                "relationships": [],
                "user_settings": {},
                "session_type": "normal",
            },
        )
        for guild in guilds:
            await self._dispatch_to(session, "GUILD_CREATE", self.emu.guild_create_payload(guild))
        self.on_change()

    def application_flags(self) -> int:
        flags = 0
        if INTENT_MESSAGE_CONTENT in self.enabled_privileged:
            flags |= 1 << 19  # GATEWAY_MESSAGE_CONTENT_LIMITED
        return flags

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.emu.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        if session is None:
            await conn.send({"op": INVALID_SESSION, "d": False})
            return
        if session.connection is not None and session.connection is not conn:
            await session.connection.ws.close(code=WSCloseCode.GOING_AWAY)
        conn.session = session
        session.connection = conn
        session.resumes += 1
        self.resumes += 1
        last = int(data.get("seq") or 0)
        missed = [p for s, p in session.sent if s > last]
        self.emu.record_event("gateway", "resume", {"from_seq": last, "replayed": len(missed)})
        for payload in missed:
            await conn.send(payload)
        await self._dispatch_to(session, "RESUMED", {})
        self.on_change()

    # -- dispatching -------------------------------------------------------------------------------
    async def _dispatch_to(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append((session.seq, payload))
        del session.sent[:-1000]
        if session.connection is not None:
            await session.connection.send(payload)

    async def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        guild_id: int | None,
        intent: int | None = None,
        transform: Callable[[Session, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> int:
        """Send an event to the session of the shard that owns ``guild_id``; returns how many."""
        sent = 0
        for session in list(self.sessions.values()):
            if not session.owns_guild(guild_id):
                continue
            if intent is not None and not session.intents & intent:
                continue
            await self._dispatch_to(session, event, transform(session, data) if transform else data)
            sent += 1
        self.emu.record_event("gateway", "dispatch", {"t": event, "sessions": sent})
        return sent

    # -- disruptions a test can cause --------------------------------------------------------------
    async def drop(self, code: int = 4000) -> int:
        """Close every gateway connection with ``code``; sessions stay resumable."""
        conns = list(self.connections)
        for conn in conns:
            await conn.ws.close(code=code, message=b"dropped by the emulator")
        return len(conns)

    async def send_reconnect(self) -> int:
        conns = [c for c in self.connections if c.session is not None]
        for conn in conns:
            await conn.send({"op": RECONNECT, "d": None})
        return len(conns)

    async def invalidate(self, resumable: bool = False) -> int:
        conns = [c for c in self.connections if c.session is not None]
        for conn in conns:
            if not resumable and conn.session is not None:
                self.sessions.pop(conn.session.id, None)
            await conn.send({"op": INVALID_SESSION, "d": resumable})
        return len(conns)

    @property
    def ready_shards(self) -> int:
        return sum(1 for s in self.sessions.values() if s.connection is not None)

    async def close(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY)
