"""`article-bot forget` and `article-bot report` as an owner runs them: a real process, a real
records file."""

from __future__ import annotations

from pathlib import Path

from bot.answering.answer import Answer
from bot.records import RecordStore
from tests.bot.test_cli import run_cli


def seeded(path: Path) -> RecordStore:
    store = RecordStore(path)
    for member in (111, 222):
        aid = store.record_answer(
            Answer("What is the B-end?", "Businesses.", False), member, 1, 900.0
        )
        store.vote(aid, 333, "down")
    store.record_answer(
        Answer("Who won the cup?", "No.", True, refusal_reason="off_topic"), 111, 1, 5.0
    )
    return store


def test_forget_erases_one_member(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    store = seeded(path)
    proc = run_cli("forget", "111", env={"ARTICLE_BOT_RECORDS_PATH": str(path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Erased 2 answer(s) and 0 vote(s) of member 111 from {path}."
    assert store.counts() == (1, 1)
    bad = run_cli("forget", "alice", env={"ARTICLE_BOT_RECORDS_PATH": str(path)})
    assert bad.returncode == 2 and "'alice' is not a Discord user id" in bad.stderr


def test_report_prints_statistics_and_gaps_and_writes_a_chart(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    seeded(path)
    chart = tmp_path / "charts" / "report.png"
    proc = run_cli("report", "--chart", str(chart), env={"ARTICLE_BOT_RECORDS_PATH": str(path)})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Questions answered: 3 (2 answers, 1 refusals)" in out
    assert "Refusal rate: 33%" in out
    assert "1× Who won the cup?" in out
    assert "2× What is the B-end? — 👎 2" in out
    assert f"Chart: {chart}" in out
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_an_unwritable_records_path_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("report", env={"ARTICLE_BOT_RECORDS_PATH": str(blocker / "r.sqlite3")})
    assert proc.returncode == 2
    assert "ARTICLE_BOT_RECORDS_PATH" in proc.stderr and "Traceback" not in proc.stderr
