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

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can cannot could did do does doing don't down during
    each either even ever every few for from further had has have having he her here hers him his
    how however i if in into is isn't it it's its itself just least less let like may me might
    more most much must my neither no nor not now of off on once one only or other our ours out
    over own per perhaps quite rather really same she should since so some such than that that's
    the their theirs them then there these they this those though through thus to too under until
    up upon us very was wasn't we were what when where whether which while who whom whose why
    will with within without would yes yet you your article author writer says said say according
    text piece section mentions mentioned states stated suggests describes described
    """
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def stem(word: str) -> str:
    # Enough to match "experiments"/"experiment", "launching"/"launch", "integrated"/"integrate".
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


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


def terms(text: str) -> set[str]:
    """Content words of ``text`` and their stems; hyphenated terms ("C-end-centric") also by
    their parts."""
    found: set[str] = set()
    for word in content_words(text):
        found.update((word, stem(word)))
        if "-" in word:
            for part in word.split("-"):
                if part:
                    found.update((part, stem(part)))
    return found


def support(answer: str, sources: Iterable[str]) -> Support:
    known: set[str] = set()
    for text in sources:
        known |= terms(text)
    words = content_words(answer)
    if not words:
        return Support(1.0, 0, ())
    missing = [w for w in words if w not in known and stem(w) not in known]
    return Support(1 - len(missing) / len(words), len(words), tuple(dict.fromkeys(missing)))
