"""The records as text (``/stats``, ``/gaps``, ``article-bot report``) and as a PNG chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bot.records import DayRow, Gaps, Stats


def render_stats(stats: Stats) -> str:
    if not stats.answered:
        return "No questions recorded yet."
    up = stats.up_share
    votes = stats.votes_up + stats.votes_down + stats.votes_wrong_source
    lines = [
        f"Questions answered: {stats.answered} ({stats.answered - stats.refused} answers, "
        f"{stats.refused} refusals)",
        f"Refusal rate: {stats.refusal_rate:.0%}",
        f"👍 share: {up:.0%} of {votes} votes" if up is not None else "👍 share: no votes yet",
        f"Votes: 👍 {stats.votes_up} · 👎 {stats.votes_down} · wrong source "
        f"{stats.votes_wrong_source}",
    ]
    if stats.latency_p50_ms is not None and stats.latency_p95_ms is not None:
        lines.append(
            f"Latency p50 / p95: {stats.latency_p50_ms / 1000:.1f} s / "
            f"{stats.latency_p95_ms / 1000:.1f} s"
        )
    return "\n".join(lines)


def render_gaps(gaps: Gaps) -> str:
    lines = ["**Questions the article could not answer** (most frequent first)"]
    if gaps.refused:
        lines += [f"{g.count}× {g.text}" for g in gaps.refused]
    else:
        lines.append("none recorded")
    lines.append("**Answers most often marked wrong**")
    if gaps.marked_wrong:
        lines += [f"{g.count}× {g.text} — {g.detail}" for g in gaps.marked_wrong]
    else:
        lines.append("none recorded")
    return "\n".join(lines)


def write_chart(rows: Sequence[DayRow], path: Path) -> Path:
    """Answers per day, refusal share and latency p50, as three stacked panels in one PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: draw into a file
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    days = [date.fromisoformat(r.day) for r in rows]
    fig, (count_ax, share_ax, latency_ax) = plt.subplots(3, 1, figsize=(8, 7.5), sharex=True)
    try:
        count_ax.bar(days, [r.answered for r in rows], color="#5865F2")
        count_ax.set_ylabel("answers")
        count_ax.set_title("article-bot: answers per day, refusal share, latency p50")
        share_ax.plot(
            days, [100 * r.refused / r.answered for r in rows], marker="o", color="#ED4245"
        )
        share_ax.set_ylabel("refused (%)")
        share_ax.set_ylim(0, 100)
        latency = [
            (d, r.latency_p50_ms / 1000)
            for d, r in zip(days, rows, strict=True)
            if r.latency_p50_ms is not None
        ]
        latency_ax.plot(
            [d for d, _ in latency], [s for _, s in latency], marker="o", color="#57F287"
        )
        latency_ax.set_ylabel("latency p50 (s)")
        latency_ax.set_xlabel("day (UTC)")
        if not rows:
            count_ax.text(0.5, 0.5, "no records yet", ha="center", transform=count_ax.transAxes)
        for ax in (count_ax, share_ax, latency_ax):
            ax.grid(axis="y", alpha=0.3)
        latency_ax.xaxis.set_major_locator(mdates.AutoDateLocator())
        latency_ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        fig.autofmt_xdate()
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
