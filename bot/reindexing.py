"""Rebuilding the index from the configured article file while the bot runs.

The work runs on the answer queue's worker thread, in its turn: no answer runs beside it, and
questions asked meanwhile wait in line and are answered by the new pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.answering import AnswerPipeline
from bot.settings import Settings
from index.article import Article


@dataclass(frozen=True)
class ReindexOutcome:
    article: Article
    added: int  # passages in the new index that the old one did not have
    removed: int  # passages of the old index that are gone
    passages: int
    rebuilt: bool

    @property
    def message(self) -> str:
        if not self.rebuilt:
            return f"The index is up to date ({self.passages} passages); nothing changed."
        return (
            f"Rebuilt the index from the article file: {self.passages} passages, "
            f"{self.added} added, {self.removed} removed."
        )


class Reindexer(Protocol):
    def reindex(self) -> ReindexOutcome:
        """Rebuild (blocking) and return what changed."""


def passage_keys(pipeline: AnswerPipeline) -> set[tuple[str, str]]:
    passages = getattr(pipeline.retriever, "passages", [])
    return {(p.section, p.text) for p in passages}


class PipelineReindexer:
    """Builds a new pipeline on the refreshed index, keeping the loaded model and embedder."""

    def __init__(
        self,
        settings: Settings,
        current: Callable[[], AnswerPipeline],
        install: Callable[[AnswerPipeline], None],
    ) -> None:
        self.settings = settings
        self.current = current
        self.install = install

    def reindex(self) -> ReindexOutcome:
        from bot.wiring import rebuild_answerer

        old = self.current()
        before = passage_keys(old)
        new, rebuilt = rebuild_answerer(self.settings, old)
        after = passage_keys(new)
        self.install(new)
        return ReindexOutcome(
            article=new.article,
            added=len(after - before),
            removed=len(before - after),
            passages=len(after),
            rebuilt=rebuilt,
        )
