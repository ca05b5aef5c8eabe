"""Per-member token buckets: spam is limited, ordinary follow-up questions are not.

Each member's bucket holds up to ``burst`` tokens and refills at ``per_minute`` tokens a minute;
a question takes one. Only an empty bucket turns a question away, with the seconds until the next
token. Timing alone never refuses a question while tokens are left: waiting for the model is the
queue's business, not the asker's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_MEMBERS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be > 0, got {per_minute}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.per_minute = per_minute
        self.burst = burst
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def _refilled(self, member_id: int, now: float) -> _Bucket:
        bucket = self._buckets.get(member_id)
        if bucket is None:
            bucket = self._buckets[member_id] = _Bucket(float(self.burst), now)
        else:
            rate = self.per_minute / 60.0
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        return bucket

    def try_take(self, member_id: int) -> float:
        """Take a token and return 0.0, or return the seconds until one is there."""
        now = self._clock()
        bucket = self._refilled(member_id, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            self._forget_full(now)
            return 0.0
        return (1.0 - bucket.tokens) * 60.0 / self.per_minute

    def give_back(self, member_id: int) -> None:
        """Return a token for a question that was not taken after all (the line was full)."""
        bucket = self._buckets.get(member_id)
        if bucket is not None:
            bucket.tokens = min(float(self.burst), bucket.tokens + 1.0)

    def _forget_full(self, now: float) -> None:
        # A full bucket is the same as no bucket: drop those so the map stays small.
        if len(self._buckets) > MAX_MEMBERS:
            refill_s = self.burst * 60.0 / self.per_minute
            self._buckets = {m: b for m, b in self._buckets.items() if now - b.updated < refill_s}
