"""Rebuilding the index while the bot runs: real article file, real embedder, real Chroma; a
scripted model (the model is reused as it is, never reloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering import AnswerPipeline
from bot.reindexing import PipelineReindexer
from bot.settings import Settings
from index.article import load_article
from tests.fakes import ScriptedLLM


def test_reindex_reports_added_and_removed_passages_and_keeps_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.wiring as wiring

    source = Path(load_article().source)
    article_file = tmp_path / "article.txt"
    text = source.read_text(encoding="utf-8")
    article_file.write_text(text, encoding="utf-8")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, article_path=article_file, data_dir=tmp_path / "data"
    )
    llm = ScriptedLLM(lambda call: {"answer": "It says so.", "answerable": True})
    monkeypatch.setattr(wiring, "make_llm", lambda _settings: llm)
    installed: list[AnswerPipeline] = [wiring.build_answerer(settings)]
    reindexer = PipelineReindexer(settings, lambda: installed[-1], installed.append)

    unchanged = reindexer.reindex()
    assert not unchanged.rebuilt and unchanged.added == unchanged.removed == 0
    assert unchanged.message.endswith("nothing changed.")
    assert len(installed) == 2 and installed[1] is installed[0]

    # The owner edits one sentence of the last section and adds a paragraph at the end.
    last = text.rstrip().rsplit("\n", 1)[1]
    edited = text.rstrip().replace(last, last.replace(" ", " really ", 1)) + (
        "\n\nA closing remark that the owner appended to the article file today.\n"
    )
    article_file.write_text(edited, encoding="utf-8")
    changed = reindexer.reindex()
    assert changed.rebuilt and changed.added >= 1 and changed.removed >= 1
    assert changed.article.sha256 != installed[0].article.sha256
    new = installed[-1]
    assert new is not installed[0] and new.llm is llm  # the loaded model is kept
    assert "appended to the article file" in " ".join(
        p.text for p in getattr(new.retriever, "passages", [])
    )
    assert changed.message == (
        f"Rebuilt the index from the article file: {changed.passages} passages, "
        f"{changed.added} added, {changed.removed} removed."
    )
