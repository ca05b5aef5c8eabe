"""Shortening text: the limit always holds, cuts fall between words, titles lose their line
breaks and message bodies keep theirs."""

from __future__ import annotations

import random

import pytest

from index.shorten import shorten

SENTENCE = "The quick brown fox jumps over the lazy dog"


def test_text_within_the_limit_is_only_stripped() -> None:
    assert shorten("  short \n", 10) == "short"
    assert shorten("two\nlines", 9) == "two\nlines"
    assert shorten("two\n  lines", 20, collapse_whitespace=True) == "two lines"


def test_a_cut_falls_between_words_and_ends_in_an_ellipsis() -> None:
    assert shorten(SENTENCE, 21) == "The quick brown fox…"
    assert shorten(SENTENCE, 20) == "The quick brown…"


def test_no_space_or_punctuation_stands_before_the_ellipsis() -> None:
    assert shorten("Tolls, fares and – the rest of it", 20) == "Tolls, fares and…"
    assert shorten("First, second, third", 15) == "First, second…"


def test_one_long_word_is_cut_rather_than_leaving_a_stub() -> None:
    assert shorten("x" * 300, 256) == "x" * 255 + "…"
    # The only space sits before half the room: the word is cut, not dropped.
    assert shorten("a " + "y" * 40, 20) == "a " + "y" * 17 + "…"


def test_message_bodies_keep_their_line_breaks() -> None:
    body = "First line of the answer.\n\nSecond paragraph, which is rather longer than that."
    out = shorten(body, 60)
    assert out == "First line of the answer.\n\nSecond paragraph, which is…"


def test_a_line_break_is_a_word_boundary() -> None:
    assert shorten("03/24 2025\n490\nCurrently, internet", 20) == "03/24 2025\n490…"


def test_titles_collapse_whitespace() -> None:
    title = "A title\nwritten   over\ttwo lines and then some more words"
    out = shorten(title, 30, collapse_whitespace=True)
    assert out == "A title written over two…"
    assert "\n" not in shorten(title, 1000, collapse_whitespace=True)


@pytest.mark.parametrize(("limit", "expected"), [(0, ""), (1, "…"), (2, "T…"), (3, "Th…")])
def test_tiny_limits_hold(limit: int, expected: str) -> None:
    assert shorten(SENTENCE, limit) == expected
    assert shorten(SENTENCE, limit, collapse_whitespace=True) == expected


def test_a_negative_limit_is_refused_with_the_value() -> None:
    with pytest.raises(ValueError, match="-1"):
        shorten(SENTENCE, -1)


@pytest.mark.parametrize("collapse", [False, True])
def test_the_limit_always_holds(collapse: bool) -> None:
    rng = random.Random(15)
    pieces = ["word", "a", "longerword", "x" * 30, ",", " – ", "\n", "\n\n", "  ", "end."]
    for _ in range(500):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        limit = rng.randint(0, 80)
        out = shorten(text, limit, collapse_whitespace=collapse)
        assert len(out) <= limit
        kept = " ".join(text.split()) if collapse else text.strip()
        if len(kept) <= limit:
            assert out == kept
        else:
            assert out.endswith("…") or limit == 0
            assert kept.startswith(out[:-1])
