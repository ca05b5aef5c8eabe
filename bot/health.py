"""Operational health and metrics: ``GET /healthz`` and ``GET /metrics`` (Prometheus).

``Metrics`` is fed by the answer queue and the Discord layer (any thread); the small aiohttp server
started by ``start_health_server`` reads it. The endpoint is off unless ``health_port`` is set, and
listens on 127.0.0.1 unless ``health_host`` says otherwise (the container image opens it on
0.0.0.0:8080 for its HEALTHCHECK and for scraping).
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.answering import Answer

PREFIX = "article_bot_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Answers take from milliseconds (cache hits, refusals before the model) to tens of seconds (a
# long answer on two cores), so the buckets span both ends more finely than Prometheus' defaults.
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    3.0,
    5.0,
    7.5,
    10.0,
    15.0,
    20.0,
    30.0,
    60.0,
)
SECTIONS: tuple[str, ...] = ("Introduction", "I", "II", "III", "Conclusion")


class HealthServerError(OSError):
    """The health endpoint could not listen; the message names the address and the fix."""


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)  # per bucket, not cumulative; last is +Inf
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bucket (le = "less or equal").
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        rows = []
        running = 0
        for bound, n in zip((*self.buckets, math.inf), self.counts, strict=True):
            running += n
            rows.append((_format_value(bound), running))
        return rows


class Metrics:
    """Counters, gauges and the latency histogram of one bot process. Thread-safe."""

    def __init__(
        self,
        *,
        sections: Sequence[str] = SECTIONS,
        latency_buckets_s: Sequence[float] = LATENCY_BUCKETS_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if list(latency_buckets_s) != sorted(set(latency_buckets_s)) or not latency_buckets_s:
            raise ValueError(f"latency buckets must be increasing and unique: {latency_buckets_s}")
        self._lock = threading.Lock()
        self._clock = clock
        self._started = clock()
        self._questions = 0
        self._answers = 0
        self._cached = 0
        self._refusals: dict[str, int] = {}
        # Known sections start at zero so rate() works from the first scrape.
        self._sections: dict[str, int] = dict.fromkeys(sections, 0)
        self._latency = _Histogram(tuple(float(b) for b in latency_buckets_s))
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._generation_s = 0.0
        self._last_tokens_per_s = 0.0
        self._queue_depth = 0
        self._index_loaded = False
        self._model_loaded = False
        self._discord_connected = False

    # -- hooks ----------------------------------------------------------------------------------
    def question_received(self) -> None:
        with self._lock:
            self._questions += 1

    def answer_done(self, answer: Answer) -> None:
        total_ms = answer.timings_ms.get("total")
        with self._lock:
            self._answers += 1
            if answer.refused:
                reason = answer.refusal_reason or "unknown"
                self._refusals[reason] = self._refusals.get(reason, 0) + 1
            if answer.cached:
                self._cached += 1
            for section in answer.sections:
                self._sections[section] = self._sections.get(section, 0) + 1
            if total_ms is not None and total_ms >= 0:
                self._latency.observe(total_ms / 1000.0)
            if not answer.cached:
                self._count_tokens(answer, total_ms)

    def _count_tokens(self, answer: Answer, total_ms: float | None) -> None:
        prompt = int(answer.usage.get("prompt_tokens", 0))
        completion = int(answer.usage.get("completion_tokens", 0))
        self._prompt_tokens += max(prompt, 0)
        self._completion_tokens += max(completion, 0)
        # Decoding speed: the tokens after the first over the time after the first. The prompt's
        # evaluation comes before the first token and is a different cost. The model's own clock
        # (llm_*) is preferred: the pipeline's first_token marks the first answer text, which
        # comes a few JSON tokens later.
        first_ms = answer.timings_ms.get("llm_first_token", answer.timings_ms.get("first_token"))
        end_ms = answer.timings_ms.get("llm_total", total_ms)
        if completion > 1 and end_ms is not None and first_ms is not None:
            generation_s = (end_ms - first_ms) / 1000.0
            if generation_s > 0:
                self._generation_s += generation_s
                self._last_tokens_per_s = (completion - 1) / generation_s

    def set_queue_depth(self, n: int) -> None:
        with self._lock:
            self._queue_depth = max(0, int(n))

    def set_state(
        self,
        index_loaded: bool | None = None,
        model_loaded: bool | None = None,
        discord_connected: bool | None = None,
    ) -> None:
        with self._lock:
            if index_loaded is not None:
                self._index_loaded = bool(index_loaded)
            if model_loaded is not None:
                self._model_loaded = bool(model_loaded)
            if discord_connected is not None:
                self._discord_connected = bool(discord_connected)

    # -- reading --------------------------------------------------------------------------------
    def is_ready(self) -> bool:
        """Ready to answer: index and model loaded. Discord may reconnect without that changing."""
        with self._lock:
            return self._index_loaded and self._model_loaded

    def health(self) -> dict[str, Any]:
        with self._lock:
            ready = self._index_loaded and self._model_loaded
            return {
                "status": "ok" if ready else "unavailable",
                "index_loaded": self._index_loaded,
                "model_loaded": self._model_loaded,
                "discord_connected": self._discord_connected,
                "queue_depth": self._queue_depth,
                "uptime_s": round(self._clock() - self._started, 3),
            }

    def render_prometheus(self) -> str:
        """All metrics in the Prometheus text exposition format, version 0.0.4."""
        with self._lock:
            out = _Exposition()
            out.metric("questions_total", "counter", "Questions received.", [({}, self._questions)])
            out.metric(
                "answers_total",
                "counter",
                "Questions answered, refusals included.",
                [({}, self._answers)],
            )
            out.metric(
                "refusals_total",
                "counter",
                "Answers that declined the question, by reason.",
                [({"reason": r}, n) for r, n in sorted(self._refusals.items())],
            )
            out.metric(
                "cached_answers_total",
                "counter",
                "Answers served from the answer cache.",
                [({}, self._cached)],
            )
            out.metric(
                "cited_sections_total",
                "counter",
                "Citations given, by article section.",
                [({"section": s}, n) for s, n in self._sections.items()],
            )
            out.histogram(
                "answer_latency_seconds",
                "Time to answer a question, from retrieval to the final answer (queue wait "
                "excluded).",
                self._latency,
            )
            out.metric(
                "prompt_tokens_total",
                "counter",
                "Prompt tokens evaluated by the model.",
                [({}, self._prompt_tokens)],
            )
            out.metric(
                "completion_tokens_total",
                "counter",
                "Tokens generated by the model.",
                [({}, self._completion_tokens)],
            )
            out.metric(
                "generation_seconds_total",
                "counter",
                "Model time spent after each answer's first token (tokens/s is about "
                "rate(completion_tokens_total) / rate(this)).",
                [({}, self._generation_s)],
            )
            out.metric(
                "generation_tokens_per_second",
                "gauge",
                "Decoding speed of the latest model answer, tokens per second.",
                [({}, self._last_tokens_per_s)],
            )
            out.metric(
                "queue_depth",
                "gauge",
                "Questions waiting or in progress.",
                [({}, self._queue_depth)],
            )
            out.metric(
                "index_loaded", "gauge", "1 when the index is loaded.", [({}, self._index_loaded)]
            )
            out.metric(
                "model_loaded", "gauge", "1 when the model is loaded.", [({}, self._model_loaded)]
            )
            out.metric(
                "discord_connected",
                "gauge",
                "1 while connected to the Discord gateway.",
                [({}, self._discord_connected)],
            )
            out.metric(
                "start_time_seconds",
                "gauge",
                "Start time of the process, seconds since the Unix epoch.",
                [({}, self._started)],
            )
            return out.text()


# -- the exposition format -----------------------------------------------------------------------
def _format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


class _Exposition:
    def __init__(self) -> None:
        self._lines: list[str] = []

    def metric(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[Mapping[str, str], float]],
    ) -> None:
        full = PREFIX + name
        self._header(full, kind, help_text)
        for labels, value in samples:
            self._sample(full, labels, float(value))

    def histogram(self, name: str, help_text: str, hist: _Histogram) -> None:
        full = PREFIX + name
        self._header(full, "histogram", help_text)
        for bound, count in hist.cumulative():
            self._sample(full + "_bucket", {"le": bound}, count)
        self._sample(full + "_sum", {}, hist.total)
        self._sample(full + "_count", {}, hist.count)

    def _header(self, name: str, kind: str, help_text: str) -> None:
        self._lines.append(f"# HELP {name} {_escape_help(help_text)}")
        self._lines.append(f"# TYPE {name} {kind}")

    def _sample(self, name: str, labels: Mapping[str, str], value: float) -> None:
        if labels:
            inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())
            name = f"{name}{{{inner}}}"
        self._lines.append(f"{name} {_format_value(value)}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


# -- the HTTP endpoint ---------------------------------------------------------------------------
METRICS_KEY = web.AppKey("metrics", Metrics)


async def _healthz(request: web.Request) -> web.Response:
    metrics = request.app[METRICS_KEY]
    body = metrics.health()
    return web.json_response(body, status=200 if body["status"] == "ok" else 503)


async def _metrics(request: web.Request) -> web.Response:
    text = request.app[METRICS_KEY].render_prometheus()
    return web.Response(body=text.encode("utf-8"), headers={"Content-Type": CONTENT_TYPE})


def health_app(metrics: Metrics) -> web.Application:
    app = web.Application()
    app[METRICS_KEY] = metrics
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    return app


async def start_health_server(host: str, port: int, metrics: Metrics) -> web.AppRunner:
    """Serve ``/healthz`` and ``/metrics`` on ``host:port`` (port 0: any free port).

    Returns the runner; ``await runner.cleanup()`` stops the server. ``bound_port(runner)`` tells
    the port actually used.
    """
    runner = web.AppRunner(health_app(metrics), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise HealthServerError(
            f"Health endpoint cannot listen on {host}:{port}: {exc.strerror or exc} (set "
            "ARTICLE_BOT_HEALTH_PORT to a free port, or to 0 to turn the endpoint off; "
            "ARTICLE_BOT_HEALTH_HOST to an address of this machine)",
        ) from None
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The TCP port the runner's first site listens on."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise RuntimeError("the health server is not listening")
