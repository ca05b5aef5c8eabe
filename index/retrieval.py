"""Finding the passages that answer a question: dense similarity blended with BM25 keywords.

``dense`` is the cosine similarity from Chroma and stays comparable across questions (the answer
pipeline gates on it); ``keyword`` is BM25 scaled to [0, 1] per question; the ranking uses
``score = (1 - w) * dense + w * keyword``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from index.embeddings import Embedder
from index.keywords import BM25
from index.passages import Passage
from index.store import ArticleIndex

# Chosen by measurement: 0.1 on index/data/retrieval_questions.jsonl (see index/evaluate.py);
# 0.3 once the answer's key facts were counted in three articles' question sets (the sentences
# holding them retrieved for 0.95 / 0.96 / 1.00 of answerable questions at 0.1, 1.00 / 0.96 /
# 1.00 at 0.3 and at 0.5).
DEFAULT_HYBRID_WEIGHT = 0.3
# Dense candidates fetched per question, as a multiple of k: the blend may promote passages
# that dense ranking alone put below k.
CANDIDATES_PER_K = 4
MIN_CANDIDATES = 16


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # the blend used for ranking
    dense: float  # cosine similarity of question and passage
    keyword: float  # BM25, scaled so the best passage for this question has 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.passage.id,
            "section": self.passage.section,
            "score": round(self.score, 4),
            "dense": round(self.dense, 4),
            "keyword": round(self.keyword, 4),
            "start": self.passage.start,
            "end": self.passage.end,
            "text": self.passage.text,
        }


class Retriever:
    def __init__(
        self,
        index: ArticleIndex,
        embedder: Embedder,
        hybrid_weight: float = DEFAULT_HYBRID_WEIGHT,
    ) -> None:
        if not 0.0 <= hybrid_weight <= 1.0:
            raise ValueError(f"hybrid_weight={hybrid_weight}: must be between 0 and 1")
        self.index = index
        self.embedder = embedder
        self.hybrid_weight = hybrid_weight
        self.passages = index.passages
        self._position = {p.id: i for i, p in enumerate(self.passages)}
        self._bm25 = BM25([p.embed_text for p in self.passages])
        # Stored vectors of passages that keywords promoted; they never change for this index,
        # and fetching them from Chroma again cost more than the similarity search itself.
        self._vectors: dict[str, np.ndarray] = {}

    def search(self, question: str, k: int = 4, hybrid_weight: float | None = None) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first."""
        if k <= 0 or not self.passages:
            return []
        w = self.hybrid_weight if hybrid_weight is None else hybrid_weight
        vector = self.embedder.encode_query(question)
        n_dense = min(len(self.passages), max(k * CANDIDATES_PER_K, MIN_CANDIDATES))
        dense = {p.id: sim for p, sim in self.index.query(vector, n_dense)}
        keyword = self._bm25.normalised_scores(question)

        if w > 0:
            # Passages that match many keywords but lie outside the dense candidates still
            # need their true cosine similarity to be ranked (and gated) fairly.
            by_keyword = sorted(range(len(keyword)), key=lambda i: -keyword[i])
            missing = [
                self.passages[i].id
                for i in by_keyword[:n_dense]
                if keyword[i] > 0 and self.passages[i].id not in dense
            ]
            unknown = [pid for pid in missing if pid not in self._vectors]
            if unknown:
                self._vectors.update(self.index.vectors(unknown))
            for pid in missing:
                if pid in self._vectors:
                    dense[pid] = float(np.dot(self._vectors[pid], vector))

        hits = []
        for pid, d in dense.items():
            kw = keyword[self._position[pid]]
            hits.append(
                Hit(
                    passage=self.index.passage(pid), score=(1 - w) * d + w * kw, dense=d, keyword=kw
                )
            )
        hits.sort(key=lambda h: (-h.score, -h.dense, self._position[h.passage.id]))
        return hits[:k]
