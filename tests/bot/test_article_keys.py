"""What the bot keeps between questions and runs is keyed by the article's content: the answer
cache (by the index's content hash), and the saved prompt state (by the prompt prefix's tokens,
which hold the whole article when it fits the prefix)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.answering.pipeline import AnswerPipeline, PipelineConfig
from bot.answering.prompt import build_prompt, curly_quotes, system_prompt
from index.article import Article, load_article, parse_article
from index.passages import make_passages
from index.retrieval import Hit
from index.store import IndexConfig, content_hash
from tests.fakes import ScriptedLLM, ScriptedRetriever, word_ranker

CAUSEWAY = Path(__file__).resolve().parents[2] / "index" / "data" / "causeway.md"


@pytest.fixture(scope="module")
def shipped() -> Article:
    return load_article()


@pytest.fixture(scope="module")
def causeway() -> Article:
    return load_article(CAUSEWAY)


def test_index_hash_and_so_the_answer_cache_key_follow_the_article(
    shipped: Article, causeway: Article
) -> None:
    config = IndexConfig(Path("index"))
    a = content_hash(shipped, "m:384", config)
    b = content_hash(causeway, "m:384", config)
    assert a != b
    assert a == content_hash(load_article(), "m:384", config)  # same text, same key
    # One changed character is another article.
    edited = parse_article(causeway.text.replace("1896", "1897", 1), "edited.md")
    assert content_hash(edited, "m:384", config) != b


def _pipeline(article: Article, version: str) -> tuple[AnswerPipeline, ScriptedLLM]:
    passages = make_passages(article)
    hits = [Hit(passage=p, score=0.6, dense=0.6, keyword=0.0) for p in passages[:2]]
    llm = ScriptedLLM(lambda call: {"answer": "It is said in the first lines.", "answerable": True})
    pipeline = AnswerPipeline(
        article,
        ScriptedRetriever(hits),
        llm,
        PipelineConfig(),
        ranker=word_ranker(article),
        index_version=version,
    )
    return pipeline, llm


def test_a_cached_answer_is_never_served_for_another_article(
    shipped: Article, causeway: Article
) -> None:
    question = "What is said at the start?"
    config = IndexConfig(Path("index"))
    first, llm = _pipeline(shipped, content_hash(shipped, "m:384", config))
    answer = first.answer(question)
    assert first.answer(question).text == answer.text and len(llm.calls) == 1  # cached

    # The same pipeline object moved to another index (the article changed under it).
    first.set_index_version(content_hash(causeway, "m:384", config))
    first.answer(question)
    assert len(llm.calls) == 2  # asked again, not served from the cache

    other, other_llm = _pipeline(causeway, content_hash(causeway, "m:384", config))
    again = other.answer(question)
    assert len(other_llm.calls) == 1
    for c in again.citations:
        assert causeway.text[c.start : c.end] == c.quote
    for c in answer.citations:
        assert shipped.text[c.start : c.end] == c.quote


def test_the_saved_prompt_state_is_keyed_by_the_prefix_that_holds_the_article(
    shipped: Article, causeway: Article, tmp_path: Path
) -> None:
    from models.prompt_state import PromptState

    # The fixed prefix holds every sentence of the article, so two articles have two prefixes.
    for article in (shipped, causeway):
        prefix = build_prompt(article, [0], "?").system
        assert prefix == system_prompt(article)
        assert all(curly_quotes(s.text) in prefix for s in article.sentences)
    assert system_prompt(shipped) != system_prompt(causeway)
    # Too long for the prefix, the article stays out of it: one prefix serves every article,
    # and the state saved for it holds nothing of any article.
    out = build_prompt(causeway, [0], "?", article_in_prefix=False).system
    assert out == build_prompt(shipped, [0], "?", article_in_prefix=False).system
    assert not any(s.text in out for s in causeway.sentences if len(s.text) > 20)

    # The state file's name is a digest of the model's identity and the prefix's tokens; the
    # key derivation runs on a stand-in for the loaded model (the model itself is not needed).
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    state = PromptState(
        None,
        SimpleNamespace(__version__="0.0-test"),
        model_path=model,
        n_ctx=4096,
        n_batch=512,
        sequences=2,
        state_dir=tmp_path / "kv-state",
    )

    def tokens(text: str) -> list[int]:
        return list(hashlib.sha256(text.encode()).digest())  # stand-in token ids

    a = state.state_file(tokens(system_prompt(shipped)))
    b = state.state_file(tokens(system_prompt(causeway)))
    assert a != b and a.parent == b.parent == tmp_path / "kv-state"
    assert a == state.state_file(tokens(system_prompt(load_article())))  # back: same file
    assert a.name.startswith("model.") and a.suffix == ".kvstate"
