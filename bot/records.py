"""What the bot keeps about its answers: a local SQLite file of answers, refusals and votes.

Stored per answer: the question, the answer text, whether it was a refusal (and why), the cited
sections, the retrieval scores of the passages shown to the model, the latency, a pseudonym of the
member who asked (a salted hash; the salt lives in this file only), the server, and the time. A
vote is one row per answer and member: voting again replaces the vote. Per-server settings made
with ``/config`` live here too. Records older than the retention period are deleted.

Every call opens its own connection (SQLite in WAL mode with a busy timeout), so the bot's thread
pool and a separate ``article-bot forget`` process can write at the same time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.answering import Answer

Vote = Literal["up", "down", "wrong_source"]
VOTES: tuple[Vote, ...] = ("up", "down", "wrong_source")
VoteResult = Literal["recorded", "changed", "unchanged", "unknown_answer"]
DAY_S = 86400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    refusal_reason TEXT,
    sections TEXT NOT NULL,
    scores TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    member TEXT NOT NULL,
    guild_id INTEGER,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created ON answers (created);
CREATE INDEX IF NOT EXISTS answers_member ON answers (member);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    member TEXT NOT NULL,
    vote TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (answer_id, member)
);
CREATE INDEX IF NOT EXISTS votes_member ON votes (member);
CREATE TABLE IF NOT EXISTS guild_config (
    guild_id INTEGER PRIMARY KEY,
    config TEXT NOT NULL
);
"""


class RecordsError(RuntimeError):
    """The records file cannot be opened or written; the message names the path and the fix."""


@dataclass(frozen=True)
class Stats:
    answered: int  # every recorded answer, refusals included
    refused: int
    votes_up: int
    votes_down: int
    votes_wrong_source: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.answered if self.answered else 0.0

    @property
    def up_share(self) -> float | None:
        """Share of 👍 among all votes (None: no votes yet)."""
        total = self.votes_up + self.votes_down + self.votes_wrong_source
        return self.votes_up / total if total else None


@dataclass(frozen=True)
class Gap:
    text: str  # the question (refusals) or the question and answer (marked wrong)
    count: int
    detail: str = ""


@dataclass(frozen=True)
class Gaps:
    refused: list[Gap]
    marked_wrong: list[Gap]


@dataclass(frozen=True)
class DayRow:
    day: str  # YYYY-MM-DD, UTC
    answered: int
    refused: int
    latency_p50_ms: float | None


@dataclass
class GuildConfig:
    """Per-server settings made with /config; None or empty means "use the bot's settings"."""

    allowed_channels: list[int] = field(default_factory=list)
    ask_channels: list[int] = field(default_factory=list)
    rate_per_minute: float | None = None
    rate_burst: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed_channels": self.allowed_channels,
            "ask_channels": self.ask_channels,
            "rate_per_minute": self.rate_per_minute,
            "rate_burst": self.rate_burst,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuildConfig:
        return cls(
            allowed_channels=[int(c) for c in data.get("allowed_channels") or []],
            ask_channels=[int(c) for c in data.get("ask_channels") or []],
            rate_per_minute=data.get("rate_per_minute"),
            rate_burst=data.get("rate_burst"),
        )


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(sorted(values), n=100, method="inclusive")
    return float(cuts[int(q) - 1])


class RecordStore:
    def __init__(self, path: Path, *, clock: Any = time.time) -> None:
        self.path = path.expanduser()
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)",
                    (secrets.token_hex(16),),
                )
                self._salt = db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            raise RecordsError(
                f"cannot use the records file {self.path}: {exc} (set ARTICLE_BOT_RECORDS_PATH to "
                "a writable file path)"
            ) from exc

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            # IMMEDIATE takes the write lock at once, so two writers never both read then write.
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- members -----------------------------------------------------------------------------------
    def member_key(self, member_id: int) -> str:
        """The pseudonym stored for a member: the same id gives the same key in this file only."""
        return hashlib.sha256(f"{self._salt}:{member_id}".encode()).hexdigest()[:24]

    # -- writing -----------------------------------------------------------------------------------
    def record_answer(
        self, answer: Answer, member_id: int, guild_id: int | None, latency_ms: float
    ) -> int:
        """Store one answer (or refusal); returns its id, which its feedback buttons carry."""
        sections = json.dumps(list(answer.sections))
        scores = json.dumps([round(p.score, 4) for p in answer.passages])
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO answers (question, answer, refused, refusal_reason, sections, scores,"
                " latency_ms, member, guild_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer.question,
                    answer.text,
                    int(answer.refused),
                    answer.refusal_reason,
                    sections,
                    scores,
                    latency_ms,
                    self.member_key(member_id),
                    guild_id,
                    self._clock(),
                ),
            )
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)

    def vote(self, answer_id: int, member_id: int, vote: Vote) -> VoteResult:
        """Record a member's vote on an answer; a second vote replaces the first."""
        if vote not in VOTES:
            raise ValueError(f"unknown vote {vote!r}: use one of {', '.join(VOTES)}")
        member = self.member_key(member_id)
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return "unknown_answer"
            row = db.execute(
                "SELECT vote FROM votes WHERE answer_id = ? AND member = ?", (answer_id, member)
            ).fetchone()
            if row is not None and row[0] == vote:
                return "unchanged"
            db.execute(
                "INSERT INTO votes (answer_id, member, vote, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (answer_id, member) DO UPDATE SET vote = excluded.vote, "
                "created = excluded.created",
                (answer_id, member, vote, self._clock()),
            )
            return "recorded" if row is None else "changed"

    # -- privacy -----------------------------------------------------------------------------------
    def forget(self, member_id: int) -> tuple[int, int]:
        """Erase a member's questions and votes; returns (answers, votes) deleted."""
        member = self.member_key(member_id)
        with self._transaction() as db:
            votes = db.execute("DELETE FROM votes WHERE member = ?", (member,)).rowcount
            # Their answers' votes by others go with the answers (ON DELETE CASCADE).
            answers = db.execute("DELETE FROM answers WHERE member = ?", (member,)).rowcount
        return answers, votes

    def purge(self, retention_days: float) -> int:
        """Delete answers (and their votes) and votes older than ``retention_days``."""
        cutoff = self._clock() - retention_days * DAY_S
        with self._transaction() as db:
            db.execute("DELETE FROM votes WHERE created < ?", (cutoff,))
            return int(db.execute("DELETE FROM answers WHERE created < ?", (cutoff,)).rowcount)

    # -- reading -----------------------------------------------------------------------------------
    def stats(self, guild_id: int | None = None) -> Stats:
        where, args = ("WHERE guild_id = ?", (guild_id,)) if guild_id is not None else ("", ())
        with self._connect() as db:
            rows = db.execute(f"SELECT refused, latency_ms FROM answers {where}", args).fetchall()
            votes = dict(
                db.execute(
                    "SELECT vote, COUNT(*) FROM votes JOIN answers ON answers.id = votes.answer_id "
                    f"{where} GROUP BY vote",
                    args,
                ).fetchall()
            )
        latencies = [float(lat) for refused, lat in rows if not refused]
        return Stats(
            answered=len(rows),
            refused=sum(1 for refused, _ in rows if refused),
            votes_up=int(votes.get("up", 0)),
            votes_down=int(votes.get("down", 0)),
            votes_wrong_source=int(votes.get("wrong_source", 0)),
            latency_p50_ms=_percentile(latencies, 50),
            latency_p95_ms=_percentile(latencies, 95),
        )

    def gaps(self, limit: int = 10, guild_id: int | None = None) -> Gaps:
        """The most frequent refused questions, and the answers most often marked wrong."""
        guild = "AND guild_id = ?" if guild_id is not None else ""
        args: tuple[Any, ...] = (guild_id,) if guild_id is not None else ()
        with self._connect() as db:
            refused = db.execute(
                "SELECT lower(trim(question)) AS q, COUNT(*) AS n, MIN(question) FROM answers "
                f"WHERE refused = 1 {guild} GROUP BY q ORDER BY n DESC, MAX(created) DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
            wrong = db.execute(
                "SELECT answers.question, answers.answer, answers.sections, "
                "SUM(votes.vote = 'down'), SUM(votes.vote = 'wrong_source') "
                "FROM votes JOIN answers ON answers.id = votes.answer_id "
                f"WHERE votes.vote IN ('down', 'wrong_source') {guild} "
                "GROUP BY lower(trim(answers.question)), answers.answer "
                "ORDER BY COUNT(*) DESC, MAX(votes.created) DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return Gaps(
            refused=[Gap(text=original, count=int(n)) for _, n, original in refused],
            marked_wrong=[
                Gap(
                    text=question,
                    count=int(down) + int(source),
                    detail=_wrong_detail(answer, json.loads(sections), int(down), int(source)),
                )
                for question, answer, sections, down, source in wrong
            ],
        )

    def daily(self, days: int = 30) -> list[DayRow]:
        """Answers, refusals and latency p50 per UTC day, oldest first, days with answers only."""
        since = self._clock() - days * DAY_S
        with self._connect() as db:
            rows = db.execute(
                "SELECT date(created, 'unixepoch') AS day, refused, latency_ms FROM answers "
                "WHERE created >= ? ORDER BY created",
                (since,),
            ).fetchall()
        by_day: dict[str, list[tuple[int, float]]] = {}
        for day, refused, latency in rows:
            by_day.setdefault(day, []).append((int(refused), float(latency)))
        return [
            DayRow(
                day=day,
                answered=len(items),
                refused=sum(r for r, _ in items),
                latency_p50_ms=_percentile([lat for r, lat in items if not r], 50),
            )
            for day, items in by_day.items()
        ]

    def counts(self) -> tuple[int, int]:
        """(answers, votes) stored."""
        with self._connect() as db:
            answers = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            votes = db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        return int(answers), int(votes)

    # -- per-server settings -----------------------------------------------------------------------
    def guild_config(self, guild_id: int) -> GuildConfig:
        with self._connect() as db:
            row = db.execute(
                "SELECT config FROM guild_config WHERE guild_id = ?", (guild_id,)
            ).fetchone()
        return GuildConfig.from_json(json.loads(row[0])) if row else GuildConfig()

    def save_guild_config(self, guild_id: int, config: GuildConfig) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO guild_config (guild_id, config) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET config = excluded.config",
                (guild_id, json.dumps(config.to_json())),
            )


def _wrong_detail(answer: str, sections: list[str], down: int, source: int) -> str:
    marks = []
    if down:
        marks.append(f"👎 {down}")
    if source:
        marks.append(f"wrong source {source}")
    cited = f" (cited §{', §'.join(sections)})" if sections else ""
    short = answer if len(answer) <= 120 else answer[:119].rstrip() + "…"
    return f"{' · '.join(marks)}: “{short}”{cited}"
