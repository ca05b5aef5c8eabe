"""The verdict a yes/no answer opens with, checked against the sentence it is cited to.

A small model says "Yes" to "Did the fire destroy the hall?" from "The fire destroyed the
warehouse, but it spared the hall": the question's words are all there, split across a contrast.
And it sometimes answers a yes/no question without a verdict at all ("The priory could keep its
pans."), which leaves the reader to work one out. Both are read lexically here, cautiously:
where the reading is unsure, the model's own answer stands.
"""

from __future__ import annotations

import re

from bot.answering.grounding import content_words, stem, terms

_VERDICT = re.compile(r"^\W*(?:yes|no|the article doesn't say)\b", re.IGNORECASE)
_YES = re.compile(r"^\W*yes\b", re.IGNORECASE)
# Where a sentence sets one part against another: "…, but it spared the hall".
_CONTRAST = re.compile(
    r",?\s+(?:but|although|though|yet|whereas|except)\s+|;\s+(?:but\s+)?", re.IGNORECASE
)
_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:but|although|though|yet|whereas|while)\s+", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Share of a yes/no question's words a sentence must restate to answer it by its own polarity.
RESTATED_SHARE = 0.75
# Denials that settle a restated yes/no question: "may no longer be the same"; a bare "no" is
# left out ("It's no exaggeration to say that …" affirms).
_SETTLING_DENIAL = re.compile(
    r"\b(?:not|never|no longer|nor|neither|nobody|nothing|none|cannot)\b|n't\b", re.IGNORECASE
)
# Words that deny a clause's deed ("could not keep", "never sold"); "only" or "except" narrow it.
_DENIALS = frozenset(
    {"not", "never", "no", "nor", "neither", "none", "nobody", "nothing", "nowhere", "cannot"}
)


def _negated(text: str) -> bool:
    words = _WORD.findall(text.lower().replace("’", "'"))
    return any(w in _DENIALS or w.endswith("n't") for w in words)


def implied_verdict(answer: str, question: str) -> str | None:
    """ "Yes" or "No" for an answer to a yes/no question that states one without saying it: its
    first clause restates the question's deed, plainly or negated. None when the answer opens
    with a verdict, restates too little of the question, or the question is itself negative
    ("Didn't the council …?"), where "No" would be ambiguous."""
    if _VERDICT.match(answer) or _negated(question):
        return None
    first = _CLAUSE.split(answer, maxsplit=1)[0]
    asked = terms(question)
    held = asked & terms(first)
    if len(held) < min(3, len(asked)):
        return None
    return "No" if _negated(first) else "Yes"


def set_against(question: str, sentence: str) -> bool:
    """Whether ``sentence`` splits what the question asks across a contrast: some of its words
    stand only before a "but" (the deed: "The fire destroyed the warehouse"), others only after
    it (what the question applies it to: "but it spared the hall"). A "Yes" to such a question
    joins what the sentence keeps apart."""
    parts = _CONTRAST.split(sentence, maxsplit=1)
    if len(parts) < 2:
        return False
    asked = terms(question)
    before, after = asked & terms(parts[0]), asked & terms(parts[1])
    return bool(before - after) and bool(after - before)


def opens_yes(answer: str) -> bool:
    return bool(_YES.match(answer))


def restated_verdict(question: str, sentence: str) -> str | None:
    """ "Yes" or "No" from a sentence that restates nearly all of a yes/no question's words:
    "No" where it denies them ("… may no longer be the same" to "Will the market stay the
    same …?"), "Yes" where it states them plainly. None when it restates less than
    ``RESTATED_SHARE`` of them, sets them against each other, or the question is itself
    negative."""
    if _negated(question) or set_against(question, sentence):
        return None
    words = list(dict.fromkeys(content_words(question)))
    if len(words) < 3:
        return None
    held = terms(sentence)
    share = sum(1 for w in words if {w, stem(w)} & held) / len(words)
    if share < RESTATED_SHARE:
        return None
    return "No" if _SETTLING_DENIAL.search(sentence.replace("’", "'")) else "Yes"
