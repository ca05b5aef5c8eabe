"""The /healthz and /metrics endpoint, served by a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.answering.answer import Answer, Citation
from bot.health import CONTENT_TYPE, HealthServerError, Metrics, bound_port, start_health_server

from .scrape import Scrape


@pytest.fixture
async def served() -> AsyncIterator[tuple[Metrics, str]]:
    metrics = Metrics(sections=("Introduction", "I"))
    runner = await start_health_server("127.0.0.1", 0, metrics)
    try:
        yield metrics, f"http://127.0.0.1:{bound_port(runner)}"
    finally:
        await runner.cleanup()


async def test_healthz_is_503_until_index_and_model_are_loaded(
    served: tuple[Metrics, str],
) -> None:
    metrics, base = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 503
            body = await resp.json()
        assert body["status"] == "unavailable"
        assert body["index_loaded"] is False and body["model_loaded"] is False

        metrics.set_state(index_loaded=True, model_loaded=True, discord_connected=True)
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
            assert resp.content_type == "application/json"
            body = await resp.json()
        assert body["status"] == "ok"
        assert body["discord_connected"] is True

        metrics.set_state(model_loaded=False)
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 503


async def test_metrics_endpoint_serves_the_exposition_format(served: tuple[Metrics, str]) -> None:
    metrics, base = served
    metrics.question_received()
    metrics.answer_done(
        Answer(
            question="When was it published?",
            text="In 2018.",
            refused=False,
            citations=(Citation("Introduction", "Introduction", "2018", 10, 14),),
            timings_ms={"retrieve": 15.0, "first_token": 700.0, "total": 2100.0},
            usage={"prompt_tokens": 400, "completion_tokens": 15},
        )
    )
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == CONTENT_TYPE
        text = await resp.text()
    got = Scrape.parse(text)
    assert got.value("article_bot_questions_total") == 1
    assert got.value("article_bot_cited_sections_total", section="Introduction") == 1
    assert got.value("article_bot_cited_sections_total", section="I") == 0
    assert got.value("article_bot_answer_latency_seconds_bucket", le="3.0") == 1
    assert got.value("article_bot_answer_latency_seconds_bucket", le="2.0") == 0


async def test_unknown_paths_and_methods_are_refused(served: tuple[Metrics, str]) -> None:
    _, base = served
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/") as resp:
            assert resp.status == 404
        async with http.post(f"{base}/healthz") as resp:
            assert resp.status == 405


async def test_busy_port_fails_with_the_address_and_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HealthServerError) as info:
            await start_health_server("127.0.0.1", port, Metrics())
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "ARTICLE_BOT_HEALTH_PORT" in message


async def test_cleanup_stops_listening() -> None:
    runner = await start_health_server("127.0.0.1", 0, Metrics())
    port = bound_port(runner)
    await runner.cleanup()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{port}/healthz")
