"""Whether a message in an ask channel is a question worth answering."""

from __future__ import annotations

import re

from bot.answering.facts import YES_NO_OPENERS

# Words that open a question in English; a message starting with one is a question even without
# a question mark ("what does the author mean by B-end").
_OPENERS = YES_NO_OPENERS | frozenset(
    (
        "what",
        "why",
        "how",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "which",
        "explain",
        "describe",
        "summarise",
        "summarize",
        "tell",
    )
)
_WORD = re.compile(r"[A-Za-z']+")


def is_question(text: str) -> bool:
    text = text.strip()
    words = _WORD.findall(text)
    if not words:
        return False
    if text.rstrip(" )\"'”").endswith("?"):
        return True
    return len(words) >= 3 and words[0].lower() in _OPENERS
