"""The emulator keeps Discord's rules: the bot's tests are only as strict as it is."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio

from tests.discord_emulator import DiscordEmulator

COMMANDS = [
    {
        "name": "ask",
        "description": "Ask",
        "type": 1,
        "options": [{"name": "question", "description": "q", "type": 3, "required": True}],
    }
]


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        yield emulator


@pytest_asyncio.fixture
async def http(emu: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession(emu.api_base + "/", headers=headers) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, path: str, body: Any = None
) -> tuple[int, Any, Any]:
    async with http.request(method, path.lstrip("/"), json=body) as resp:
        data = await resp.json() if resp.status != 204 else None
        return resp.status, data, resp.headers


async def registered(emu: DiscordEmulator, http: aiohttp.ClientSession) -> None:
    status, _, _ = await call(http, "PUT", f"/applications/{emu.application_id}/commands", COMMANDS)
    assert status == 200


async def test_rest_needs_the_token(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(emu.api_base + "/users/@me") as resp:
            assert resp.status == 401
        headers = {"Authorization": "Bot wrong"}
        async with session.get(emu.api_base + "/users/@me", headers=headers) as resp:
            assert resp.status == 401


async def test_message_limits_are_enforced(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    path = f"/channels/{emu.general.id}/messages"
    status, body, _ = await call(http, "POST", path, {"content": "x" * 2001})
    assert status == 400 and body["code"] == 50035 and "content" in body["errors"]
    assert (await call(http, "POST", path, {"content": "x" * 2000}))[0] == 200
    status, body, _ = await call(http, "POST", path, {"embeds": [{"description": "x" * 4097}]})
    assert status == 400 and body["errors"]["embeds"]["0"]["description"]
    big = {"description": "x" * 4000, "fields": [{"name": "n", "value": "v" * 1024}] * 2}
    status, body, _ = await call(http, "POST", path, {"embeds": [big]})
    assert status == 400 and body["code"] == 50035  # 6,000 in all
    fields = [{"name": "n", "value": "v"}] * 26
    assert (await call(http, "POST", path, {"embeds": [{"fields": fields}]}))[0] == 400
    assert (await call(http, "POST", path, {"embeds": [{"fields": [{"name": "n", "value": ""}]}]}))[
        0
    ] == 400
    status, body, _ = await call(http, "POST", path, {"content": ""})
    assert status == 400 and body["code"] == 50006


async def test_interaction_acknowledged_twice_or_late(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    await registered(emu, http)
    interaction = await emu.slash("ask", {"question": "q"})
    callback = f"/interactions/{interaction.id}/{interaction.token}/callback"
    assert (await call(http, "POST", callback, {"type": 5}))[0] == 204
    status, body, _ = await call(http, "POST", callback, {"type": 5})
    assert status == 400 and body["code"] == 40060

    emu.interaction_window_s = 0.2
    late = await emu.slash("ask", {"question": "q"})
    await asyncio.sleep(0.3)
    status, body, _ = await call(
        http, "POST", f"/interactions/{late.id}/{late.token}/callback", {"type": 5}
    )
    assert status == 404 and body["code"] == 10062

    edit = f"/webhooks/{emu.application_id}/{interaction.token}/messages/@original"
    status, body, _ = await call(http, "PATCH", edit, {"content": "y" * 2001})
    assert status == 400 and body["code"] == 50035
    assert (await call(http, "PATCH", edit, {"content": "fine"}))[0] == 200
    assert emu.original(interaction).content == "fine"  # type: ignore[union-attr]


async def test_rate_limits_answer_like_discord(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    rule = emu.rate_limit(r"/messages$", 2, method="POST", retry_after=1.5)
    path = f"/channels/{emu.general.id}/messages"
    for _ in range(2):
        status, body, headers = await call(http, "POST", path, {"content": "hi"})
        assert status == 429
        assert body["retry_after"] == 1.5 and body["global"] is False
        assert headers["Retry-After"] == "1.500" and headers["X-RateLimit-Remaining"] == "0"
        assert headers["X-RateLimit-Reset-After"] == "1.500" and headers["Via"]
    assert (await call(http, "POST", path, {"content": "hi"}))[0] == 200
    assert rule.hits == 2


async def test_gateway_speaks_zlib_stream_and_checks_identify(emu: DiscordEmulator) -> None:
    inflate = zlib.decompressobj()
    async with aiohttp.ClientSession() as session:
        url = emu.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
        async with session.ws_connect(url) as ws:
            hello = json.loads(inflate.decompress(await ws.receive_bytes()))
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await ws.send_json({"op": 1, "d": None})
            assert json.loads(inflate.decompress(await ws.receive_bytes()))["op"] == 11
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0}})
            closing = await ws.receive()
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4004

        emu.gateway.enabled_privileged.clear()
        async with session.ws_connect(emu.gateway_url + "?v=10&encoding=json") as ws:
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": {"token": emu.token, "intents": 1 << 15}})
            closing = await ws.receive()
            assert closing.data == 4014


async def test_unknown_routes_are_404_and_recorded(
    emu: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    assert (await call(http, "GET", "/nowhere"))[0] == 404
    assert str(emu.requests[-1]) == "GET /nowhere -> 404"
