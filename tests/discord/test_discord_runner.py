"""The bot as a process: exit codes and help for token and intent problems, SIGTERM handling."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord.gateway import DiscordWebSocket

from bot.answer_queue import SHUTTING_DOWN_TEXT
from bot.discord_app.format import position_text
from bot.discord_app.runner import BOT_PERMISSIONS, _StartingAnswerer, run_bot
from index.article import Article
from tests.discord.fake_answerer import FakeAnswerer
from tests.discord.helpers import make_settings
from tests.discord_emulator import DiscordEmulator, Interaction
from tests.discord_emulator.control import interaction_done

ROOT = Path(__file__).resolve().parents[2]
RECORDS = Path(tempfile.gettempdir()) / f"article-bot-runner-tests-{os.getpid()}.sqlite3"


@pytest.fixture
def discord_globals() -> Iterator[None]:
    """run_bot points discord.py at the API it is given; put the defaults back afterwards."""
    saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(token="the-right-token") as emulator:
        yield emulator


def test_permissions_cover_what_the_bot_does() -> None:
    p = BOT_PERMISSIONS
    assert (p.view_channel, p.send_messages, p.send_messages_in_threads) == (True, True, True)
    assert (p.create_public_threads, p.embed_links, p.read_message_history) == (True, True, True)
    assert p.value == 309237730304
    assert not p.administrator and not p.manage_messages


def test_answers_without_the_model_wait_until_it_has_loaded(article: Article) -> None:
    starting = _StartingAnswerer()
    question = "Is France in the article?"
    assert starting.answer_now(question) is None  # the line gives the "starting" answer
    assert starting.answer(question).refusal_reason == "starting"
    starting.target = FakeAnswerer(article)
    answer = starting.answer_now(question)
    assert answer is not None and answer.refusal_reason == "off_topic"
    assert starting.answer_now("What about the B-end?") is None


def test_missing_token_exits_2_with_how_to_create_one(article: Article) -> None:
    err = io.StringIO()
    settings = make_settings(discord_token=None)
    code = run_bot(settings, lambda: pytest.fail("no model without a token"), article, stderr=err)
    text = err.getvalue()
    assert code == 2
    assert "DISCORD_TOKEN" in text and "Reset Token" in text and "MESSAGE CONTENT" in text
    assert "scope=bot%20applications.commands" in text and "permissions=309237730304" in text
    assert "article-bot chat" in text


async def test_a_rejected_token_exits_2(
    emu: DiscordEmulator, article: Article, discord_globals: None
) -> None:
    settings = make_settings(discord_token="a-wrong-token", discord_api_base=emu.api_base)
    err = io.StringIO()
    code = await asyncio.to_thread(
        run_bot, settings, lambda: FakeAnswerer(article), article, stderr=err
    )
    assert code == 2
    assert "rejected the token" in err.getvalue() and "Reset Token" in err.getvalue()


async def test_a_disabled_message_content_intent_exits_2(
    emu: DiscordEmulator, article: Article, discord_globals: None
) -> None:
    emu.gateway.enabled_privileged.clear()
    settings = make_settings(discord_token=emu.token, discord_api_base=emu.api_base)
    err = io.StringIO()
    code = await asyncio.to_thread(
        run_bot, settings, lambda: FakeAnswerer(article), article, stderr=err
    )
    assert code == 2
    assert "MESSAGE CONTENT INTENT" in err.getvalue()


BOT_PROCESSES = {
    # run_bot with the deterministic answerer: the answer in progress outlasts the 0.5 s grace.
    "fake": [sys.executable, "-m", "tests.discord.fake_bot"],
    # the real command line, model and all
    "cli": [sys.executable, "-m", "bot.cli", "run"],
}


@pytest.mark.parametrize(
    "process", ["fake", pytest.param("cli", marks=pytest.mark.slow)], ids=["fake", "cli"]
)
async def test_sigterm_stops_cleanly_and_tells_the_askers(
    emu: DiscordEmulator, process: str
) -> None:
    env = {
        **os.environ,
        "DISCORD_TOKEN": emu.token,
        "ARTICLE_BOT_DISCORD_API_BASE": emu.api_base,
        "ARTICLE_BOT_RATE_LIMIT_BURST": "100",
        "ARTICLE_BOT_RECORDS_PATH": str(RECORDS),
        "ARTICLE_BOT_STREAM_INTERVAL_S": "1",
        "FAKE_BOT_GRACE_S": "0.5",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    log = ROOT / ".pytest_cache" / f"sigterm-{process}.log"
    log.parent.mkdir(exist_ok=True)

    def shown(interaction: Interaction) -> list[str]:
        original = emu.original(interaction)
        return [s.content for s in original.states] if original else []

    with log.open("w") as out:
        proc = subprocess.Popen(
            BOT_PROCESSES[process], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            await emu.wait_ready(timeout=600)
            await emu.wait_commands("ask", timeout=60)
            bob = emu.add_user("bob")
            first = await emu.slash("ask", {"question": "What about the B-end? (slow)"})
            # Being answered (not waiting in line): its text streams, with no one shown ahead.
            await emu.wait_for(lambda: shown(first), timeout=120)
            assert not any("ahead of yours" in s for s in shown(first)), shown(first)
            second = await emu.slash("ask", {"question": "And the C-end?"}, user=bob)
            await emu.wait_for(lambda: position_text(1) in shown(second), timeout=30)
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(proc.wait, 60)
        finally:
            if proc.poll() is None:
                proc.kill()
    output = log.read_text()
    assert code == 0, output
    assert "received SIGTERM" in output and "stopped" in output
    # Both askers were told: the one being answered got its answer or the notice, the one
    # waiting got the notice; neither was left looking at a progress message.
    for interaction in (first, second):
        assert interaction_done(emu, interaction), emu.transcript(interaction)
    second_final = emu.original(second)
    assert second_final is not None and second_final.content == SHUTTING_DOWN_TEXT
    first_final = emu.original(first)
    assert first_final is not None
    if process == "fake":
        assert first_final.content == SHUTTING_DOWN_TEXT
    else:
        assert first_final.embeds or first_final.content
    assert emu.gateway.connections == []  # the bot closed its connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_standalone_emulator_asks_once_and_health_reports_discord() -> None:
    """How the container smoke test uses it: emulator process, bot process, one /ask."""
    health_port = free_port()
    emulator = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.discord_emulator", "--port", "0", "--token", "smoke-token",
        "--ask", "What about the B-end?", "--timeout", "120",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert emulator.stdout is not None
    ready = (await asyncio.wait_for(emulator.stdout.readline(), 30)).decode()
    assert ready.startswith("DISCORD_EMULATOR_READY"), ready
    api_base = ready.split("api_base=")[1].split()[0]
    env = {
        **os.environ,
        "DISCORD_TOKEN": "smoke-token",
        "ARTICLE_BOT_DISCORD_API_BASE": api_base,
        "ARTICLE_BOT_HEALTH_PORT": str(health_port),
        "ARTICLE_BOT_RECORDS_PATH": str(RECORDS),
        "PYTHONPATH": str(ROOT),
    }
    bot = subprocess.Popen(
        [sys.executable, "-m", "tests.discord.fake_bot"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        health = await wait_for_health(health_port, lambda h: h["discord_connected"])
        assert health["model_loaded"] is True and health["status"] == "ok"
        out, err = await asyncio.wait_for(emulator.communicate(), 120)
        assert emulator.returncode == 0, err.decode()
        report = json.loads(out)
        assert report["done"] and report["response_type"] == 4
        assert report["final"]["embeds"][0]["fields"][0]["name"].startswith("§II — ")
        # The emulator has gone: the bot says it lost Discord (and keeps trying to reconnect).
        await wait_for_health(health_port, lambda h: not h["discord_connected"])
    finally:
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(bot.wait, 30) == 0


async def wait_for_health(port: int, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/healthz"
    health: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(url) as resp:
                    health = await resp.json()
                if predicate(health):
                    return health
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never satisfied the condition (last: {health})")
