"""Splitting long text: every piece fits, nothing is lost, breaks fall at natural boundaries."""

from __future__ import annotations

import random
import re

import pytest

from bot.discord_app.text_split import split_text

WORDS = [
    "Alipay",
    "platform",
    "traffic",
    "payment",
    "scale",
    "ecosystem",
    "B-end",
    "C-end",
    "merchants",
    "FinTech",
    "AI",
    "e.g.",
    "U.S.",
    "3.5",
    "strategy",
    "“quoted”",
    "(aside)",
    "—",
    "dream",
]


def random_text(rng: random.Random, n_chars: int) -> str:
    paragraphs = []
    size = 0
    while size < n_chars:
        sentences = []
        for _ in range(rng.randint(1, 8)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(1, 30))]
            if rng.random() < 0.05:
                words.append("x" * rng.randint(50, 3000))  # a "word" longer than most limits
            sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", "…"]))
        joiner = rng.choice([" ", " ", "\n"])
        paragraphs.append(joiner.join(sentences))
        size += len(paragraphs[-1])
    return rng.choice(["\n\n", "\n\n\n", "\n \n"]).join(paragraphs)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("seed", range(200))
def test_pieces_fit_and_keep_every_character(seed: int) -> None:
    rng = random.Random(seed)
    limit = rng.choice([1, 7, 50, 256, 1024, 2000, 4096])
    # Tiny limits make thousands of pieces; a shorter text says as much about them.
    text = random_text(rng, rng.randint(0, 20_000 if limit >= 256 else 2_000))
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert all(p == p.strip() for p in pieces)
    assert squeeze("".join(pieces)) == squeeze(text)


@pytest.mark.parametrize("seed", range(100))
def test_words_are_not_cut_when_they_fit(seed: int) -> None:
    rng = random.Random(seed)
    limit = rng.choice([60, 300, 2000])
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3000)))
    pieces = split_text(text, limit)
    assert [w for p in pieces for w in p.split()] == text.split()


def test_paragraph_boundaries_are_preferred() -> None:
    paragraphs = [f"Paragraph {i}. " + "Some words here. " * 40 for i in range(10)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    pieces = split_text(text, 2000)
    assert len(pieces) > 1
    for piece in pieces:
        # each piece is made of whole paragraphs
        assert piece.startswith("Paragraph ")
        assert piece.endswith("Some words here.")


def test_sentence_boundaries_come_before_words() -> None:
    text = " ".join(f"Sentence number {i} has a few words in it." for i in range(200))
    pieces = split_text(text, 500)
    assert all(p.endswith(".") for p in pieces)
    assert all(p.startswith("Sentence number") for p in pieces)


def test_short_text_is_one_piece_and_blank_is_none() -> None:
    assert split_text("  Hello there.  ", 2000) == ["Hello there."]
    assert split_text(" \n\n ", 2000) == []
    with pytest.raises(ValueError):
        split_text("x", 0)
