"""How much of an answer the retrieved sentences support, word by word.

A small model sometimes writes a fluent answer the article does not contain ("Acme was founded
in 2004"), or repeats what an injected question told it to say. Both use words that the sentences
it was offered do not have. The check is lexical on purpose: cheap, deterministic, and explainable
in a log line ("3 of 5 content words unsupported: founded, 2004, ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.words import STOPWORDS, stem
from index.words import WORD as _WORD

# Words (with their apostrophes and hyphens) and each mark of punctuation, in order.
_TOKEN = re.compile(r"[\w'’-]+|[^\w\s]")


def tokens(text: str) -> list[str]:
    """``text`` as words and marks, in order: "an organ of 68 stops," -> [..., "stops", ","]."""
    return _TOKEN.findall(text)


def content_words(text: str) -> list[str]:
    words = []
    for raw in _WORD.findall(text.lower().replace("’", "'")):
        word = raw[:-2] if raw.endswith("'s") else raw
        if word in STOPWORDS or (len(word) < 3 and not word.isdigit()):
            continue
        words.append(word)
    return words


@dataclass(frozen=True)
class Support:
    ratio: float  # share of the answer's content words found in the sources (1.0 if none)
    words: int
    unsupported: tuple[str, ...]


_SMALL_NUMBERS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
_NUMBER_WORDS = {word: str(n) for n, word in enumerate(_SMALL_NUMBERS.split())} | {
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "thousand": "1000",
    "million": "1000000",
}
_NUMBER_DIGITS = {digits: word for word, digits in _NUMBER_WORDS.items()}
_TENS = frozenset(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
_UNITS = frozenset(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])


def number_forms(word: str) -> set[str]:
    """The other spelling of a number: "two" <-> "2" (a model writes "2 miles" for the article's
    "two miles")."""
    if word in _NUMBER_WORDS:
        return {_NUMBER_WORDS[word]}
    if word.isdigit() and str(int(word)) in _NUMBER_DIGITS:
        return {_NUMBER_DIGITS[str(int(word))]}
    tens, _, unit = word.partition("-")
    # "forty-two" <-> "42"
    if tens in _TENS and unit in _UNITS:
        return {str(int(_NUMBER_WORDS[tens]) + int(_NUMBER_WORDS[unit]))}
    if word.isdigit() and 21 <= int(word) <= 99 and int(word) % 10:
        n = int(word)
        return {f"{_NUMBER_DIGITS[str(n - n % 10)]}-{_NUMBER_DIGITS[str(n % 10)]}"}
    return set()


# A life's dates after a name, as reference works write them: "(14 March 1841 – 2 November
# 1917)" says when its subject was born and died without either word.
_LIFESPAN = re.compile(r"\((?:[^()]*?\s)?\d{3,4}\s*[–—-]\s*(?:[^()]*?\s)?\d{3,4}\)")
_LIFESPAN_TERMS = frozenset({"born", "bear", "died", "die"})


def terms(text: str) -> set[str]:
    """Content words of ``text`` and their stems; hyphenated terms ("C-end-centric") also by
    their parts; a life's dates in brackets also as "born" and "died"."""
    found: set[str] = set(_LIFESPAN_TERMS) if _LIFESPAN.search(text) else set()
    for word in content_words(text):
        found.update((word, stem(word)))
        found |= number_forms(word)
        if "-" in word:
            for part in word.split("-"):
                if part:
                    found.update((part, stem(part)))
    return found


# Content words an answer must take from its sources, beyond the question's, before it may also
# restate the question's own words.
OWN_WORDS = 1


def support(answer: str, sources: Iterable[str], question: str = "") -> Support:
    """The share of ``answer``'s content words that ``sources`` hold.

    With ``question``: an answer may restate the question's words ("Young workers left the
    coastal works because …") once it holds ``OWN_WORDS`` words of the sources that the question
    does not use. An answer made of the question's words alone (an injected "say X") gets no
    such credit."""
    known: set[str] = set()
    for text in sources:
        known |= terms(text)
    words = content_words(answer)
    if not words:
        return Support(1.0, 0, ())

    def held(word: str, where: set[str]) -> bool:
        return word in where or stem(word) in where

    asked = terms(question)
    own = {w for w in words if held(w, known) and not held(w, asked)}
    if len(own) >= OWN_WORDS:
        known |= asked
    missing = [w for w in words if not held(w, known)]
    return Support(1 - len(missing) / len(words), len(words), tuple(dict.fromkeys(missing)))
