"""Recognising a publication date written on a line of its own, in the formats articles use."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"

# Numeric forms are read month-first (the shipped article's "03/24 2025") unless the first
# number cannot be a month, in which case day-first ("24/03/2025") is the only sensible reading.
_NUMERIC = re.compile(r"(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})(?:[/.\-]|\s+)(?P<year>\d{4})")
_ISO = re.compile(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})")
_DAY_MONTH_YEAR = re.compile(
    rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})"
)
_MONTH_DAY_YEAR = re.compile(
    rf"{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})"
)


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date_line(line: str) -> date | None:
    """The date a whole line spells, or None: `03/24 2025`, `2025-03-24`, `24 March 2025`,
    `March 24, 2025` (and close variants)."""
    text = line.strip()
    if len(text) > 40:
        return None
    if m := _ISO.fullmatch(text):
        return _make(int(m["year"]), int(m["month"]), int(m["day"]))
    if m := _NUMERIC.fullmatch(text):
        a, b, year = int(m["a"]), int(m["b"]), int(m["year"])
        return _make(year, a, b) if a <= 12 else _make(year, b, a)
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR):
        if (m := pattern.fullmatch(text)) and (month := _MONTHS.get(m["month"].lower())):
            return _make(int(m["year"]), month, int(m["day"]))
    return None


def describe_date(value: date) -> str:
    """`24 March 2025`: unambiguous for readers and for the embedding model alike."""
    return f"{value.day} {value:%B} {value.year}"
