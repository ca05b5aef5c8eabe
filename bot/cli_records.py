"""The `forget` and `report` subcommands of `article-bot`: the records file, from a terminal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.settings import Settings

DEFAULT_CHART = "article-bot-report.png"


def add_records_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "forget",
        help="erase one member's questions and votes from the records",
        description="Delete every answer a member asked for and every vote they gave, by their "
        "Discord user id (Developer Mode -> right-click the member -> Copy User ID).",
    )
    p.add_argument("member_id", type=_member_id, metavar="MEMBER_ID", help="Discord user id")
    p.set_defaults(handler=cmd_forget)

    p = subparsers.add_parser(
        "report",
        help="print the statistics and gaps, and draw a PNG chart",
        description="Questions answered, refusal rate, 👍 share, latency, the questions the "
        "article could not answer and the answers marked wrong; and a chart of answers per "
        "day, refusal share and latency p50.",
    )
    p.add_argument(
        "--chart",
        type=Path,
        default=Path(DEFAULT_CHART),
        help=f"where to write the PNG chart (default: ./{DEFAULT_CHART})",
    )
    p.add_argument("--days", type=_days, default=30, help="days the chart covers (default 30)")
    p.set_defaults(handler=cmd_report)


def _member_id(value: str) -> int:
    if not value.isdigit() or not 1 <= len(value) <= 20:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a Discord user id: give the number from Copy User ID, e.g. "
            "123456789012345678"
        )
    return int(value)


def _days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError(f"--days {value!r}: give a whole number from 1 to 3650")
    return int(value)


def _store(settings: Settings) -> Any:
    from bot.records import RecordStore

    store = RecordStore(settings.effective_records_path)
    store.purge(settings.records_retention_days)
    return store


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    answers, votes = store.forget(args.member_id)
    print(
        f"Erased {answers} answer(s) and {votes} vote(s) of member {args.member_id} from "
        f"{store.path}."
    )
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.records_report import render_gaps, render_stats, write_chart

    store = _store(settings)
    print(render_stats(store.stats()))
    print()
    print(render_gaps(store.gaps()).replace("**", ""))
    chart = write_chart(store.daily(args.days), args.chart)
    print()
    print(f"Chart: {chart.resolve()}")
    return 0
