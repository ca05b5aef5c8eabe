"""Shortening text to a length limit at a word boundary: the one ``shorten`` of the project, for
section titles here and for Discord message bodies, embed fields and thread names in ``bot``."""

from __future__ import annotations

import re

ELLIPSIS = "…"
# What may not stand before the ellipsis: "Tolls, fares and –…" reads as a broken word.
_TRAILING = " \t\r\n\f\v,;:-–—"
_SPACE = re.compile(r"\s")


def shorten(text: str, limit: int, *, collapse_whitespace: bool = False) -> str:
    """``text`` stripped and, if longer than ``limit`` characters, cut to at most ``limit``,
    ending in "…".

    The cut falls at the last whitespace that keeps at least half the room, so one very long
    word is cut rather than leaving a stub. ``collapse_whitespace`` turns every run of whitespace
    into one space (one-line titles); without it line breaks are kept (message bodies).
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    text = " ".join(text.split()) if collapse_whitespace else text.strip()
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    if room <= 0:
        return ELLIPSIS[:limit]
    head = text[:room]
    space = max((m.start() for m in _SPACE.finditer(head)), default=-1)
    if space >= room // 2:
        head = head[:space]
    return head.rstrip(_TRAILING) + ELLIPSIS
