"""Splitting one line of prose into sentences, with exact character spans.

A sentence ends at `.`, `?` or `!` (plus any closing quotes or brackets) when whitespace and a
capital letter, digit or opening quote follow. A period after a known abbreviation ("e.g.", "Dr."),
a dotted acronym ("U.S.") or a single initial ("J.") does not end a sentence; decimals ("3.5")
never match because no whitespace follows their period.

Hand-written: a few tested regular expressions whose rules can be read and changed here; the
splitters of NLTK or spaCy would bring trained models and rules of their own for one article.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    {
        "e.g",
        "i.e",
        "cf",
        "vs",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "no",
        "nos",
        "fig",
        "approx",
        "est",
        "dept",
        "gov",
        "gen",
        "col",
        "lt",
        "sgt",
        "rev",
        "hon",
        "corp",
        "co",
        "ltd",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    }
)

_BOUNDARY = re.compile(r"[.?!]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_TOKEN_BEFORE = re.compile(r"(\S+)$")


def _is_abbreviation(line: str, period_at: int) -> bool:
    """Whether the period at ``period_at`` closes an abbreviation rather than a sentence."""
    m = _TOKEN_BEFORE.search(line, 0, period_at)
    if not m:
        return False
    token = m.group(1).lstrip("\"'“‘([")
    if not token:
        return False
    if token.lower() in ABBREVIATIONS or _DOTTED_ACRONYM.fullmatch(token):
        return True
    # A lone capital is an initial ("J. Smith"), not the end of a sentence.
    return len(token) == 1 and token.isupper()


def split_line(line: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``line``, relative to it, without surrounding
    whitespace; together they cover every non-blank character of the line."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(line):
        if m.group().rstrip("\"'”’)]") == "." and _is_abbreviation(line, m.start()):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(line)))
    result = []
    for a, b in spans:
        segment = line[a:b]
        stripped = segment.strip()
        if not stripped:
            continue
        lead = len(segment) - len(segment.lstrip())
        result.append((a + lead, a + lead + len(stripped)))
    return result
