"""BM25 keyword scoring over a small set of passages.

Hand-written: forty lines over a few dozen passages, tuned with our own tokenizer and stemmer; a
library would bring its own tokenizer and more than this to keep.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from index.words import STOPWORDS, WORD, stem


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content words; a hyphenated word ("B-end") counts whole and by part."""
    tokens: list[str] = []
    for word in WORD.findall(text.lower().replace("’", "'")):
        if "'" in word:
            word = word.split("'")[0]
        parts = word.split("-")
        if len(parts) > 1:
            tokens.append(word)
        tokens.extend(stem(p) for p in parts if p not in STOPWORDS and len(p) > 1)
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
