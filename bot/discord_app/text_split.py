"""Splitting long text into pieces that fit a length limit, at the most natural boundary.

Pure text, no discord.py: the terminal and the tests use it as well.
"""

from __future__ import annotations

import re

# Where a piece may end, best first: a paragraph, a sentence, a line, a word.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]*_]*\s")
_PARAGRAPH = re.compile(r"\n\s*\n")
_LINE = re.compile(r"\n")
_SPACE = re.compile(r"\s")
# A natural break is only taken when it keeps at least this share of the limit in the piece, so a
# paragraph break near the start does not leave a tiny message behind.
_MIN_FILL = 0.5


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into stripped, non-empty pieces of at most ``limit`` characters.

    Breaks at paragraph ends, else sentence ends, else line ends, else spaces; a word longer than
    ``limit`` is cut. Every non-whitespace character is kept, in order.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    pieces: list[str] = []
    pos, end = _skip_space(text, 0), len(text.rstrip())
    while end - pos > limit:
        cut = _cut_at(text, pos, limit)
        pieces.append(text[pos:cut].rstrip())
        pos = _skip_space(text, cut)
    if pos < end:
        pieces.append(text[pos:end])
    return pieces


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _cut_at(text: str, pos: int, limit: int) -> int:
    """Where the piece starting at ``pos`` ends: ``text[pos:cut].rstrip()`` fits ``limit``."""
    stop = pos + limit + 1  # a break may sit on the character just past the limit
    floor = pos + int(limit * _MIN_FILL)
    for pattern in (_PARAGRAPH, _SENTENCE_END, _LINE):
        best = _last_break(pattern, text, pos, stop)
        if best >= floor:
            return best
    best = _last_break(_SPACE, text, pos, stop)
    if best > pos:
        return best
    return pos + limit


def _last_break(pattern: re.Pattern[str], text: str, pos: int, stop: int) -> int:
    # A break is the whitespace that ends a paragraph, sentence, line or word; the piece ends
    # just before it.
    last = -1
    for match in pattern.finditer(text, pos, stop):
        ws = match.end() - 1 if pattern is _SENTENCE_END else match.start()
        if pos < ws < stop:
            last = ws
    return last
