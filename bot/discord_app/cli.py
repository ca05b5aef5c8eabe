"""The `run` subcommand of `article-bot`: the Discord bot."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    pass


def add_discord_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the Discord bot (needs DISCORD_TOKEN)",
        description="Connect to Discord and answer /ask, mentions, DMs and thread follow-ups. "
        "Stops cleanly on SIGTERM or Ctrl-C.",
    )
    p.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.discord_app.runner import MISSING_TOKEN, run_bot

    if not settings.token():
        # Checked before anything is loaded, so the help comes at once.
        print(MISSING_TOKEN, file=sys.stderr)
        return 2
    from bot.wiring import build_answerer, make_metrics
    from index.article import load_article

    article = load_article(settings.article_path, settings.article_max_bytes)
    # Parsed once: the bot shows its outline before the model has loaded.
    return run_bot(
        settings,
        lambda: build_answerer(settings, article=article),
        article,
        make_metrics(article),
    )
