"""The bot process with the test answerer: ``python -m tests.discord.fake_bot``.

Runs ``run_bot`` exactly as ``article-bot run`` does (settings from the environment, signals,
exit codes) with the deterministic answerer, so process-level behaviour is testable without a
model. ``FAKE_BOT_GRACE_S`` sets how long the answer in progress may finish on SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys

from bot.discord_app.runner import run_bot
from bot.health import Metrics
from bot.settings import load_settings
from index.article import load_article
from tests.discord.fake_answerer import FakeAnswerer


def main() -> int:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    article = load_article(settings.article_path)
    grace = float(os.environ.get("FAKE_BOT_GRACE_S", "5"))
    return run_bot(
        settings, lambda: FakeAnswerer(article), article, Metrics(), shutdown_grace_s=grace
    )


if __name__ == "__main__":
    sys.exit(main())
