"""The bench's memory split and its rendering (the timed parts run in CI's `bench --short`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.bench import BenchResult, rss_split_mb

STATUS = """Name:\tpython
VmRSS:\t 2000000 kB
RssAnon:\t 1771520 kB
RssFile:\t  226304 kB
RssShmem:\t    2176 kB
"""


def test_split_reads_anonymous_and_file_pages(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text(STATUS)
    assert rss_split_mb(status) == (1730.0, 221.0)


@pytest.mark.parametrize(
    "text", ["Name:\tpython\nVmRSS:\t 10 kB\n", "RssAnon:\tlots\nRssFile:\t1 kB"]
)
def test_split_is_none_where_the_kernel_does_not_say(tmp_path: Path, text: str) -> None:
    status = tmp_path / "status"
    status.write_text(text)
    assert rss_split_mb(status) is None
    assert rss_split_mb(tmp_path / "missing") is None


def test_split_of_this_process_adds_up_to_its_rss() -> None:
    split = rss_split_mb()
    if split is None:
        pytest.skip("no /proc/self/status here")
    vm_rss = next(
        int(line.split()[1]) / 1024
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    anon, files = split
    assert anon > 0 and files > 0
    # Shared memory is the third part of RSS; it is small in this process.
    assert abs(vm_rss - (anon + files)) < 64


def _values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "date": "2026-12-03",
        "cores": 2,
        "cpu": "test CPU",
        "model": "m.gguf",
        "threads": 2,
        "depth": 100,
        "questions": 8,
        "raw_pp_tps": 60.0,
        "raw_tg_tps": 12.0,
        "gen_tps": 11.0,
        "gen_ratio": 0.92,
        "retrieve_p50_ms": 18.0,
        "first_token_p50_ms": 800.0,
        "total_p50_ms": 2500.0,
        "total_p95_ms": 4000.0,
        "cached_ms": 0.0,
        "cold_start_s": 9.0,
        "index_build_s": 7.0,
        "peak_rss_mb": 2067.0,
        "rss_anon_mb": 1729.4,
        "rss_file_mb": 330.2,
        "load_n": 6,
        "load_per_min": 24.0,
        "load_lost": 0,
        "openings_saved": 0,
        "openings_saved_before": 59,
        "openings_s": 0.6,
        "openings_restored": 14,
    }
    values.update(changes)
    return values


def test_render_shows_the_split_under_the_peak() -> None:
    lines = BenchResult(_values()).render().splitlines()
    peak = next(i for i, line in enumerate(lines) if line.startswith("peak RSS"))
    assert "2067" in lines[peak] and "<= 2048" in lines[peak]
    assert "anonymous / files" in lines[peak + 1] and "1729 / 330" in lines[peak + 1]


def test_render_says_n_a_without_a_split() -> None:
    text = BenchResult(_values(rss_anon_mb=None, rss_file_mb=None)).render()
    split_line = next(line for line in text.splitlines() if "anonymous / files" in line)
    assert split_line.split()[-1] == "n/a"
