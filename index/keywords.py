"""BM25 keyword scoring over a small set of passages (no dependency; the article is small)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don does did doesn isn aren wasn weren article author writer say says said think piece
    """
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+(?:[-'’][a-z0-9]+)*")


def _stem(word: str) -> str:
    # Just enough stemming to let "payments"/"payment" and "embracing"/"embrace" meet.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content words; a hyphenated word ("B-end") counts whole and by part."""
    tokens: list[str] = []
    for word in _WORD.findall(text.lower().replace("’", "'")):
        if "'" in word:
            word = word.split("'")[0]
        parts = word.split("-")
        if len(parts) > 1:
            tokens.append(word)
        tokens.extend(_stem(p) for p in parts if p not in STOPWORDS and len(p) > 1)
    return tokens


class BM25:
    """Okapi BM25 (k1=1.5, b=0.75) with the always-positive idf variant."""

    def __init__(self, documents: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(tokenize(d)) for d in documents]
        self.lengths = [sum(c.values()) for c in self.docs]
        self.avg_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        df: Counter[str] = Counter()
        for counts in self.docs:
            df.update(counts.keys())
        n = len(self.docs)
        self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1.0) for t, f in df.items()}

    def scores(self, query: str) -> list[float]:
        terms = set(tokenize(query))
        result = []
        for counts, length in zip(self.docs, self.lengths, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1.0))
            total = 0.0
            for t in terms:
                tf = counts.get(t, 0)
                if tf:
                    total += self.idf[t] * tf * (self.k1 + 1) / (tf + norm)
            result.append(total)
        return result

    def normalised_scores(self, query: str) -> list[float]:
        """Scores divided by the best one, so in [0, 1] per query (all 0 if nothing matches)."""
        raw = self.scores(query)
        best = max(raw, default=0.0)
        return [s / best for s in raw] if best > 0 else [0.0] * len(raw)
