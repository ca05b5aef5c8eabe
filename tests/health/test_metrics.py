"""Metrics: what the hooks count, read back through prometheus-client's own parser."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from bot.answering.answer import Answer, Citation
from bot.health import LATENCY_BUCKETS_S, Metrics
from bot.wiring import make_metrics
from index.article import load_article

from .scrape import Scrape


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


def scrape(metrics: Metrics) -> Scrape:
    return Scrape.parse(metrics.render_prometheus())


SECTIONS = ("Introduction", "I", "II", "III", "Conclusion")


def test_fresh_metrics_render_prefixed_families_and_process_metrics() -> None:
    got = scrape(Metrics(sections=SECTIONS))
    ours = {name: fam for name, fam in got.families.items() if name.startswith("article_bot_")}
    assert len(ours) == 15
    for fam in ours.values():
        assert fam.documentation and fam.type in {"counter", "gauge", "histogram"}
    assert got.value("article_bot_questions_total") == 0
    assert got.families["article_bot_answer_latency_seconds"].type == "histogram"
    # The registry's own collectors: the process and the Python runtime.
    assert got.value("process_resident_memory_bytes") > 0
    assert "python_info" in got.families
    # The article's sections are exported at zero from the start.
    for section in SECTIONS:
        assert got.value("article_bot_cited_sections_total", section=section) == 0


def test_sections_not_given_appear_when_first_cited() -> None:
    m = Metrics()
    assert not scrape(m).samples("article_bot_cited_sections_total")
    m.answer_done(answered(sections=("Epilogue",)))
    assert scrape(m).value("article_bot_cited_sections_total", section="Epilogue") == 1


def test_each_metrics_has_a_registry_of_its_own() -> None:
    a, b = Metrics(), Metrics()
    a.question_received()
    assert scrape(a).value("article_bot_questions_total") == 1
    assert scrape(b).value("article_bot_questions_total") == 0


def test_hooks_count_questions_answers_refusals_sections_and_cache() -> None:
    m = Metrics(sections=SECTIONS)
    for _ in range(5):
        m.question_received()
    m.answer_done(answered(sections=("II", "III")))
    m.answer_done(answered(sections=("Introduction",)))
    m.answer_done(refused("off_topic"))
    m.answer_done(refused("off_topic"))
    m.answer_done(refused("too_long"))
    m.answer_done(replace(answered(sections=("II",)), cached=True))
    got = scrape(m)
    assert got.value("article_bot_questions_total") == 5
    assert got.value("article_bot_answers_total") == 6
    assert got.value("article_bot_refusals_total", reason="off_topic") == 2
    assert got.value("article_bot_refusals_total", reason="too_long") == 1
    assert got.value("article_bot_cached_answers_total") == 1
    cited = "article_bot_cited_sections_total"
    assert got.value(cited, section="II") == 2
    assert got.value(cited, section="III") == 1
    assert got.value(cited, section="Introduction") == 1
    assert got.value(cited, section="Conclusion") == 0


def test_refusal_without_reason_is_counted_as_unknown() -> None:
    m = Metrics()
    m.answer_done(Answer(question="q", text="no", refused=True))
    assert scrape(m).value("article_bot_refusals_total", reason="unknown") == 1


def test_latency_histogram_buckets_are_cumulative_and_bounds_inclusive() -> None:
    m = Metrics()
    # 1.0 s sits exactly on a bound: `le` means less than or equal, so it counts there.
    for total_ms in (30.0, 1000.0, 1000.1, 4000.0, 120_000.0):
        m.answer_done(answered(total_ms=total_ms))
    got = scrape(m)
    bucket = "article_bot_answer_latency_seconds_bucket"
    assert got.value(bucket, le="0.05") == 1
    assert got.value(bucket, le="0.5") == 1
    assert got.value(bucket, le="1.0") == 2
    assert got.value(bucket, le="2.0") == 3
    assert got.value(bucket, le="5.0") == 4
    assert got.value(bucket, le="60.0") == 4
    assert got.value(bucket, le="+Inf") == 5
    assert got.value("article_bot_answer_latency_seconds_count") == 5
    assert got.value("article_bot_answer_latency_seconds_sum") == pytest.approx(126.0301)
    bounds = [float(s.labels["le"]) for s in got.samples(bucket)]
    assert bounds == [*LATENCY_BUCKETS_S, math.inf]


def test_answer_without_total_timing_is_not_observed() -> None:
    m = Metrics()
    m.answer_done(Answer(question="q", text="a", refused=False))
    got = scrape(m)
    assert got.value("article_bot_answers_total") == 1
    assert got.value("article_bot_answer_latency_seconds_count") == 0


def test_tokens_per_second_uses_the_models_clock_when_given() -> None:
    m = Metrics()
    # 41 tokens: 40 after the first, generated in 2.0 s of model time -> 20 tok/s.
    m.answer_done(
        answered(
            completion=41, first_ms=900.0, total_ms=3500.0, llm_first_token=400, llm_total=2400
        )
    )
    got = scrape(m)
    assert got.value("article_bot_generation_tokens_per_second") == pytest.approx(20.0)
    assert got.value("article_bot_generation_seconds_total") == pytest.approx(2.0)
    assert got.value("article_bot_completion_tokens_total") == 41
    assert got.value("article_bot_prompt_tokens_total") == 300


def test_tokens_per_second_falls_back_to_pipeline_timings() -> None:
    m = Metrics()
    m.answer_done(answered(completion=11, first_ms=500.0, total_ms=1500.0))
    assert scrape(m).value("article_bot_generation_tokens_per_second") == pytest.approx(10.0)


def test_cached_answers_and_refusals_do_not_count_as_generation() -> None:
    m = Metrics()
    m.answer_done(answered(completion=11, first_ms=500.0, total_ms=1500.0))
    m.answer_done(replace(answered(completion=99, first_ms=1.0, total_ms=2.0), cached=True))
    m.answer_done(refused("off_topic"))
    got = scrape(m)
    assert got.value("article_bot_completion_tokens_total") == 11
    assert got.value("article_bot_generation_tokens_per_second") == pytest.approx(10.0)


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
    got = scrape(m)
    assert got.value("article_bot_queue_depth") == 0
    assert got.value("article_bot_index_loaded") == 1
    assert got.value("article_bot_model_loaded") == 1
    assert got.value("article_bot_discord_connected") == 0
    assert got.value("article_bot_start_time_seconds") == 100.0


def test_label_values_are_escaped() -> None:
    m = Metrics()
    nasty = 'a "quoted"\\ reason\nwith a newline'
    m.answer_done(refused(nasty))
    assert scrape(m).value("article_bot_refusals_total", reason=nasty) == 1


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
    got = scrape(m)
    n = 8 * per_thread
    assert got.value("article_bot_questions_total") == n
    assert got.value("article_bot_answers_total") == n
    assert got.value("article_bot_completion_tokens_total") == 3 * n
    assert got.value("article_bot_cited_sections_total", section="II") == n
    assert got.value("article_bot_answer_latency_seconds_bucket", le="0.25") == n
    assert math.isclose(got.value("article_bot_answer_latency_seconds_sum"), 0.25 * n)


def test_the_bots_metrics_start_with_the_configured_articles_sections(tmp_path: Path) -> None:
    path = tmp_path / "other.md"
    path.write_text("# Another piece\n\nOpening words.\n\n## Alpha\n\nText.\n\n## Beta\n\nMore.\n")
    article = load_article(path)
    got = scrape(make_metrics(article))
    cited = {s.labels["section"] for s in got.samples("article_bot_cited_sections_total")}
    assert cited == set(article.labels) and "Alpha" in cited
