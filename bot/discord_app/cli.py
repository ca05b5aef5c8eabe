"""The `run` (Discord bot) and `chat` (terminal) subcommands of `article-bot`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.answer_queue import MetricsSink


def add_discord_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the Discord bot (needs DISCORD_TOKEN)",
        description="Connect to Discord and answer /ask, mentions, DMs and thread follow-ups. "
        "Stops cleanly on SIGTERM or Ctrl-C.",
    )
    p.set_defaults(handler=cmd_run)
    p = subparsers.add_parser(
        "chat",
        help="talk to the bot in the terminal (no Discord needed)",
        description="A terminal conversation with the same answers, sources and follow-up "
        "context as on Discord. Commands: /outline, /section <label>, /help, /quit.",
    )
    p.set_defaults(handler=cmd_chat)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.discord_app.runner import MISSING_TOKEN, run_bot

    if not settings.token():
        # Checked before anything is loaded, so the help comes at once.
        print(MISSING_TOKEN, file=sys.stderr)
        return 2
    from bot.wiring import build_answerer
    from index.article import load_article

    article = load_article(settings.article_path, settings.article_max_bytes)
    return run_bot(settings, lambda: build_answerer(settings), article, _metrics())


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chat import run_chat
    from bot.wiring import build_answerer
    from index.article import load_article

    article = load_article(settings.article_path, settings.article_max_bytes)
    answerer = build_answerer(settings)
    return run_chat(answerer, article, history_turns=settings.history_turns)


def _metrics() -> MetricsSink | None:
    try:
        from bot.health import Metrics
    except ImportError:
        return None
    metrics: MetricsSink = Metrics()
    return metrics
