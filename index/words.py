"""Words of English text: the one stopword list and the one stemmer that keyword retrieval
(``index.keywords``) and the answer checks (``bot.answering``) share, so both meet a word the
same way."""

from __future__ import annotations

import re

# Lower-case words; a hyphen or apostrophe inside a word keeps it whole ("b-end", "don't").
# Callers lower-case and turn ’ into ' first.
WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren aren't as at be because
    been before being below between both but by can cannot could did didn didn't do does doesn
    doesn't doing don don't down during each either even ever every few for from further had has
    have having he her here hers herself him himself his how however i if in into is isn isn't it
    it's its itself just least less let like may me might more most much must my myself neither
    no nor not now of off on once one only or other our ours ourselves out over own per perhaps
    quite rather really same she should since so some such than that that's the their theirs
    them themselves then there these they this those though through thus to too under until up
    upon us very was wasn wasn't we were weren weren't what when where whether which while who
    whom whose why will with within without would yes yet you your yours yourself yourselves
    s t article author writer say says said think piece according text section mentions
    mentioned states stated suggests describes described
    """
# Function words, and the words every question about an article uses ("what does the author
# say"), which would otherwise match every passage.
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def stem(word: str) -> str:
    """Just enough stemming to let "payments"/"payment", "companies"/"company" and
    "serve"/"serves"/"served"/"serving" meet; ``word`` is lower-case."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    # A final e comes and goes with the suffix ("change", "changed"): drop it on both sides.
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word
