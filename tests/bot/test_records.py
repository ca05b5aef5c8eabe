"""The records store: answers, votes, retention, forgetting, concurrent writers, the report."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.answering.answer import Answer, Citation, SourcePassage
from bot.records import DAY_S, GuildConfig, RecordsError, RecordStore
from bot.records_report import render_gaps, render_stats, write_chart

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def answer(question: str, *, refused: bool = False, text: str = "It says so.") -> Answer:
    if refused:
        return Answer(question, "The article doesn't cover that.", True, refusal_reason="off_topic")
    return Answer(
        question,
        text,
        False,
        citations=(Citation("II", "II. B-end", "A quote.", 10, 18),),
        passages=(SourcePassage("II:1", "II", 0.61234, 0, 50),),
    )


def test_answers_and_votes_are_stored_once_per_member(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3")
    aid = store.record_answer(answer("What is the B-end?"), 42, 7, 1234.0)
    assert store.vote(aid, 42, "up") == "recorded"
    assert store.vote(aid, 42, "up") == "unchanged"  # a double click stores nothing twice
    assert store.vote(aid, 42, "down") == "changed"
    assert store.vote(aid, 43, "wrong_source") == "recorded"
    assert store.vote(aid + 100, 42, "up") == "unknown_answer"
    assert store.counts() == (1, 2)
    stats = store.stats()
    assert (stats.answered, stats.refused, stats.votes_up, stats.votes_down) == (1, 0, 0, 1)
    assert stats.votes_wrong_source == 1 and stats.latency_p50_ms == 1234.0
    with pytest.raises(ValueError, match="unknown vote 'meh'"):
        store.vote(aid, 42, "meh")  # type: ignore[arg-type]


def test_member_ids_are_stored_only_as_salted_hashes(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    store = RecordStore(path)
    store.record_answer(answer("Q?"), 123456789012345678, None, 10.0)
    assert b"123456789012345678" not in path.read_bytes()
    other = RecordStore(tmp_path / "other.sqlite3")
    assert store.member_key(1) == RecordStore(path).member_key(1) != other.member_key(1)


def test_gaps_and_stats(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3")
    for q in ("Who won the World Cup?", "who won the world cup? ", "What is PayPal's plan?"):
        store.record_answer(answer(q, refused=True), 1, 7, 5.0)
    good = store.record_answer(answer("What is the B-end?"), 1, 7, 1000.0)
    bad = store.record_answer(answer("Who founded it?", text="Alibaba, in 2025."), 1, 7, 3000.0)
    store.vote(good, 2, "up")
    store.vote(bad, 2, "down")
    store.vote(bad, 3, "wrong_source")
    gaps = store.gaps()
    assert [(g.count, g.text.lower().strip()) for g in gaps.refused] == [
        (2, "who won the world cup?"),
        (1, "what is paypal's plan?"),
    ]
    (wrong,) = gaps.marked_wrong
    assert wrong.count == 2 and wrong.text == "Who founded it?"
    assert "👎 1" in wrong.detail and "wrong source 1" in wrong.detail and "§II" in wrong.detail
    stats = store.stats(guild_id=7)
    assert stats.answered == 5 and stats.refusal_rate == pytest.approx(0.6)
    assert stats.up_share == pytest.approx(1 / 3)
    assert stats.latency_p50_ms == pytest.approx(2000.0)
    assert store.stats(guild_id=8).answered == 0
    text = render_gaps(gaps)
    assert "2× Who won the World Cup?" in text and "2× Who founded it?" in text
    assert "Refusal rate: 60%" in render_stats(stats)


def test_retention_deletes_old_answers_and_their_votes(tmp_path: Path) -> None:
    clock = Clock()
    store = RecordStore(tmp_path / "r.sqlite3", clock=clock)
    old = store.record_answer(answer("old?"), 1, None, 1.0)
    store.vote(old, 2, "up")
    clock.now += 10 * DAY_S
    new = store.record_answer(answer("new?"), 1, None, 1.0)
    store.vote(new, 2, "down")
    assert store.purge(retention_days=30) == 0
    assert store.purge(retention_days=5) == 1
    assert store.counts() == (1, 1)
    assert store.vote(old, 2, "down") == "unknown_answer"


def test_forget_erases_a_members_questions_and_votes(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3")
    mine = store.record_answer(answer("mine?"), 1, None, 1.0)
    theirs = store.record_answer(answer("theirs?"), 2, None, 1.0)
    store.vote(theirs, 1, "up")
    store.vote(mine, 2, "up")
    assert store.forget(1) == (1, 1)
    assert store.counts() == (1, 0)  # the vote on member 1's answer went with it
    assert store.forget(1) == (0, 0)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    store = RecordStore(path)
    ids = [store.record_answer(answer(f"q{i}?"), 1, None, 1.0) for i in range(5)]
    errors: list[BaseException] = []

    def write(member: int) -> None:
        try:
            for aid in ids:
                store.record_answer(answer(f"from {member}?"), member, None, 2.0)
                store.vote(aid, member, "up")
                store.vote(aid, member, "down")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # Another process writes at the same time, as `article-bot forget` beside the bot would.
    script = (
        "import sys; from pathlib import Path; from bot.records import RecordStore\n"
        "from bot.answering.answer import Answer\n"
        "s = RecordStore(Path(sys.argv[1]))\n"
        "for i in range(40): s.record_answer(Answer(f'p{i}?', 'a', False), 999, None, 1.0)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=ROOT)
    threads = [threading.Thread(target=write, args=(m,)) for m in range(10, 18)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert proc.wait(60) == 0
    assert errors == []
    answers, votes = store.counts()
    assert answers == 5 + 8 * 5 + 40
    assert votes == 8 * 5  # each member's second vote replaced the first
    assert store.stats().votes_down == 40 and store.stats().votes_up == 0


def test_guild_config_round_trip(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "r.sqlite3")
    assert store.guild_config(5) == GuildConfig()
    config = GuildConfig(allowed_channels=[1, 2], ask_channels=[3], rate_per_minute=2.5)
    store.save_guild_config(5, config)
    assert RecordStore(tmp_path / "r.sqlite3").guild_config(5) == config


def test_an_unusable_path_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecordsError, match="ARTICLE_BOT_RECORDS_PATH") as err:
        RecordStore(blocker / "records.sqlite3")
    assert str(blocker) in str(err.value)


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    clock = Clock()
    store = RecordStore(tmp_path / "r.sqlite3", clock=clock)
    for day in range(3):
        store.record_answer(answer("a?"), 1, None, 1000.0 + day * 500)
        store.record_answer(answer("b?", refused=True), 1, None, 5.0)
        clock.now += DAY_S
    rows = store.daily(30)
    assert [r.answered for r in rows] == [2, 2, 2] and [r.refused for r in rows] == [1, 1, 1]
    chart = write_chart(rows, tmp_path / "out" / "chart.png")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert write_chart([], tmp_path / "empty.png").stat().st_size > 0
