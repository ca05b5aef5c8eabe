"""Which family tie a question asks about, and whether a sentence gives that tie or another.

"Who was Julian Harrow's father?" is answered by a small model from "Julian Harrow, Edmund's
nephew" with "Edmund Harrow": the names are right and the tie is not. A sentence that names a tie
of the asked kind (the tie itself, its general word, or its other side: a son's sentence answers
"Who was his father?") may answer; one that names only ties of other kinds does not say what is
asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.answering.grounding import content_words
from index.words import stem

# Each tie: its words, then after "/" the words of its other side and of the tie in general
# (a son answers "Who was his father?", not "Who was his mother?").
_TIE_TEXT = """
    father mother / son daughter child children parent
    son daughter / father mother parent child children
    brother sister / brother sister sibling
    husband wife widow widower / husband wife widow widower spouse married marry
    uncle aunt / nephew niece
    nephew niece / uncle aunt
    grandfather grandmother / grandson granddaughter grandchild grandchildren grandparent
    grandson granddaughter / grandfather grandmother grandparent grandchild grandchildren
    cousin / cousin
    father-in-law mother-in-law / son-in-law daughter-in-law
    son-in-law daughter-in-law / father-in-law mother-in-law
    brother-in-law sister-in-law / brother-in-law sister-in-law
    stepfather stepmother / stepson stepdaughter stepchild
    stepson stepdaughter / stepfather stepmother
"""


def _ties() -> dict[str, frozenset[str]]:
    answering: dict[str, frozenset[str]] = {}
    for line in _TIE_TEXT.strip().splitlines():
        own, _, other = line.partition("/")
        for word in own.split():
            answering[word] = frozenset([word, *other.split()])
    return answering


# A tie -> the words of a sentence that may give it.
_ANSWERED_BY = _ties()
# Each word's stem -> the word ("sons" and "son" are one tie).
_KIN = {stem(w): w for words in _ANSWERED_BY.values() for w in words}
_OWNER = re.compile(r"((?:[A-Z][\w'’-]*\s+)*[A-Z][\w'’-]*?)['’]s?\s+((?:[a-z]+\s+)?[a-z-]+)")


def _kin_words(text: str) -> list[str]:
    return [_KIN[s] for w in content_words(text) if (s := stem(w)) in _KIN]


def asked_tie(question: str) -> str | None:
    """The one family tie ``question`` asks about ("father"), or None."""
    found = {w for w in _kin_words(question) if w in _ANSWERED_BY}
    return found.pop() if len(found) == 1 else None


def gives_other_tie(tie: str, sentences: Iterable[str]) -> bool:
    """Whether ``sentences`` name family ties but none that can give ``tie``."""
    named = {w for s in sentences for w in _kin_words(s)}
    return bool(named) and not named & _ANSWERED_BY[tie]


def not_said(question: str, tie: str) -> str:
    """The refusal: "The article doesn't say who Julian Harrow's father was." """
    for owner, words in _OWNER.findall(question):
        if _KIN.get(stem(words.split()[-1])) == tie:
            return f"The article doesn't say who {owner}'s {words} was."
    return "The article doesn't say who that was."
