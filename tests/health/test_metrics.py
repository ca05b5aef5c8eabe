"""Metrics: what the hooks count, and the exposition they render, parsed strictly."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import pytest

from bot.answering.answer import Answer, Citation
from bot.health import LATENCY_BUCKETS_S, Metrics

from .exposition import ExpositionError, parse


def _citation(section: str) -> Citation:
    return Citation(section=section, heading=f"§{section}", quote="q", start=0, end=1)


def answered(
    total_ms: float = 1500.0,
    sections: tuple[str, ...] = ("II",),
    completion: int = 41,
    first_ms: float = 500.0,
    **timings: float,
) -> Answer:
    return Answer(
        question="q",
        text="a",
        refused=False,
        citations=tuple(_citation(s) for s in sections),
        timings_ms={"retrieve": 20.0, "first_token": first_ms, "total": total_ms, **timings},
        usage={"prompt_tokens": 300, "completion_tokens": completion},
    )


def refused(reason: str, total_ms: float = 30.0) -> Answer:
    return Answer(
        question="q",
        text="The article doesn't cover that.",
        refused=True,
        refusal_reason=reason,
        timings_ms={"retrieve": 20.0, "first_token": 0.0, "total": total_ms},
    )


def families(metrics: Metrics) -> dict:
    return parse(metrics.render_prometheus())


def test_fresh_metrics_render_valid_exposition_with_prefixed_names() -> None:
    fams = families(Metrics())
    assert fams, "nothing rendered"
    for name, fam in fams.items():
        assert name.startswith("article_bot_"), name
        assert fam.help and fam.type in {"counter", "gauge", "histogram"}
        if fam.type == "counter":
            assert name.endswith("_total"), name
    assert fams["article_bot_questions_total"].value() == 0
    assert fams["article_bot_answer_latency_seconds"].type == "histogram"
    # Known sections are exported at zero from the start.
    cited = fams["article_bot_cited_sections_total"]
    for section in ("Introduction", "I", "II", "III", "Conclusion"):
        assert cited.value(section=section) == 0


def test_hooks_count_questions_answers_refusals_sections_and_cache() -> None:
    m = Metrics()
    for _ in range(5):
        m.question_received()
    m.answer_done(answered(sections=("II", "III")))
    m.answer_done(answered(sections=("Introduction",)))
    m.answer_done(refused("off_topic"))
    m.answer_done(refused("off_topic"))
    m.answer_done(refused("too_long"))
    m.answer_done(replace(answered(sections=("II",)), cached=True))
    fams = families(m)
    assert fams["article_bot_questions_total"].value() == 5
    assert fams["article_bot_answers_total"].value() == 6
    refusals = fams["article_bot_refusals_total"]
    assert refusals.value(reason="off_topic") == 2
    assert refusals.value(reason="too_long") == 1
    assert fams["article_bot_cached_answers_total"].value() == 1
    cited = fams["article_bot_cited_sections_total"]
    assert cited.value(section="II") == 2
    assert cited.value(section="III") == 1
    assert cited.value(section="Introduction") == 1
    assert cited.value(section="Conclusion") == 0


def test_refusal_without_reason_is_counted_as_unknown() -> None:
    m = Metrics()
    m.answer_done(Answer(question="q", text="no", refused=True))
    assert families(m)["article_bot_refusals_total"].value(reason="unknown") == 1


def test_latency_histogram_buckets_are_cumulative_and_bounds_inclusive() -> None:
    m = Metrics()
    # 1.0 s sits exactly on a bound: `le` means less than or equal, so it counts there.
    for total_ms in (30.0, 1000.0, 1000.1, 4000.0, 120_000.0):
        m.answer_done(answered(total_ms=total_ms))
    hist = families(m)["article_bot_answer_latency_seconds"]
    bucket = "article_bot_answer_latency_seconds_bucket"
    assert hist.value(bucket, le="0.05") == 1
    assert hist.value(bucket, le="0.5") == 1
    assert hist.value(bucket, le="1") == 2
    assert hist.value(bucket, le="2") == 3
    assert hist.value(bucket, le="5") == 4
    assert hist.value(bucket, le="60") == 4
    assert hist.value(bucket, le="+Inf") == 5
    assert hist.value("article_bot_answer_latency_seconds_count") == 5
    assert hist.value("article_bot_answer_latency_seconds_sum") == pytest.approx(126.0301)
    bounds = [dict(k[1])["le"] for k in hist.samples if k[0] == bucket]
    assert len(bounds) == len(LATENCY_BUCKETS_S) + 1


def test_answer_without_total_timing_is_not_observed() -> None:
    m = Metrics()
    m.answer_done(Answer(question="q", text="a", refused=False))
    fams = families(m)
    assert fams["article_bot_answers_total"].value() == 1
    assert (
        fams["article_bot_answer_latency_seconds"].value("article_bot_answer_latency_seconds_count")
        == 0
    )


def test_tokens_per_second_uses_the_models_clock_when_given() -> None:
    m = Metrics()
    # 41 tokens: 40 after the first, generated in 2.0 s of model time -> 20 tok/s.
    m.answer_done(
        answered(
            completion=41, first_ms=900.0, total_ms=3500.0, llm_first_token=400, llm_total=2400
        )
    )
    fams = families(m)
    assert fams["article_bot_generation_tokens_per_second"].value() == pytest.approx(20.0)
    assert fams["article_bot_generation_seconds_total"].value() == pytest.approx(2.0)
    assert fams["article_bot_completion_tokens_total"].value() == 41
    assert fams["article_bot_prompt_tokens_total"].value() == 300


def test_tokens_per_second_falls_back_to_pipeline_timings() -> None:
    m = Metrics()
    m.answer_done(answered(completion=11, first_ms=500.0, total_ms=1500.0))
    assert families(m)["article_bot_generation_tokens_per_second"].value() == pytest.approx(10.0)


def test_cached_answers_and_refusals_do_not_count_as_generation() -> None:
    m = Metrics()
    m.answer_done(answered(completion=11, first_ms=500.0, total_ms=1500.0))
    m.answer_done(replace(answered(completion=99, first_ms=1.0, total_ms=2.0), cached=True))
    m.answer_done(refused("off_topic"))
    fams = families(m)
    assert fams["article_bot_completion_tokens_total"].value() == 11
    assert fams["article_bot_generation_tokens_per_second"].value() == pytest.approx(10.0)


def test_state_queue_depth_and_health() -> None:
    now = [100.0]
    m = Metrics(clock=lambda: now[-1])
    m.set_queue_depth(3)
    assert m.health()["status"] == "unavailable"
    m.set_state(index_loaded=True)
    assert not m.is_ready()
    m.set_state(model_loaded=True)
    m.set_state(discord_connected=True)
    m.set_state(discord_connected=False)  # a reconnect does not make the bot unhealthy
    now.append(107.5)
    body = m.health()
    assert body == {
        "status": "ok",
        "index_loaded": True,
        "model_loaded": True,
        "discord_connected": False,
        "queue_depth": 3,
        "uptime_s": 7.5,
    }
    m.set_queue_depth(-2)
    fams = families(m)
    assert fams["article_bot_queue_depth"].value() == 0
    assert fams["article_bot_index_loaded"].value() == 1
    assert fams["article_bot_model_loaded"].value() == 1
    assert fams["article_bot_discord_connected"].value() == 0
    assert fams["article_bot_start_time_seconds"].value() == 100.0


def test_label_values_are_escaped() -> None:
    m = Metrics()
    nasty = 'a "quoted"\\ reason\nwith a newline'
    m.answer_done(refused(nasty))
    assert families(m)["article_bot_refusals_total"].value(reason=nasty) == 1


def test_bad_buckets_are_rejected() -> None:
    with pytest.raises(ValueError, match="increasing"):
        Metrics(latency_buckets_s=(1.0, 0.5))
    with pytest.raises(ValueError, match="increasing"):
        Metrics(latency_buckets_s=())


def test_hooks_are_thread_safe() -> None:
    m = Metrics()
    per_thread = 2000

    def work() -> None:
        for _ in range(per_thread):
            m.question_received()
            m.answer_done(answered(total_ms=250.0, completion=3))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fams = families(m)
    n = 8 * per_thread
    assert fams["article_bot_questions_total"].value() == n
    assert fams["article_bot_answers_total"].value() == n
    assert fams["article_bot_completion_tokens_total"].value() == 3 * n
    assert fams["article_bot_cited_sections_total"].value(section="II") == n
    hist = fams["article_bot_answer_latency_seconds"]
    assert hist.value("article_bot_answer_latency_seconds_bucket", le="0.25") == n
    assert math.isclose(hist.value("article_bot_answer_latency_seconds_sum"), 0.25 * n)


@pytest.mark.parametrize(
    "text",
    [
        "article_bot_x 1\n",  # no HELP / TYPE
        "# HELP article_bot_x h\n# TYPE article_bot_x counter\narticle_bot_x 1",  # no newline
        "# HELP article_bot_x h\n# TYPE article_bot_x counter\narticle_bot_x one\n",
        '# HELP article_bot_x h\n# TYPE article_bot_x counter\narticle_bot_x{a="1",a="2"} 1\n',
        "# HELP article_bot_x h\n# TYPE article_bot_x counter\narticle_bot_x 1\narticle_bot_x 2\n",
        "# HELP article_bot_x h\n# TYPE article_bot_x countr\narticle_bot_x 1\n",
        "# HELP h_s h\n# TYPE h_s histogram\n"
        'h_s_bucket{le="1"} 2\nh_s_bucket{le="+Inf"} 1\nh_s_sum 1\nh_s_count 1\n',
        "# HELP h_s h\n# TYPE h_s histogram\n"
        'h_s_bucket{le="1"} 1\nh_s_bucket{le="+Inf"} 2\nh_s_sum 1\nh_s_count 3\n',
    ],
)
def test_the_checking_parser_rejects_malformed_expositions(text: str) -> None:
    with pytest.raises(ExpositionError):
        parse(text)
