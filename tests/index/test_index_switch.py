"""Switching articles with the real index (real Chroma, real embeddings): each article has its own
collection, keyed by its content, so switching back and forth never reads another's passages."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.wiring
from bot.cli import main
from index.article import Article, load_article, parse_article
from index.embeddings import Embedder
from index.store import ARTICLES_KEPT, ArticleIndex, IndexConfig, collection_name

CAUSEWAY = Path(__file__).resolve().parents[2] / "index" / "data" / "causeway.md"


@pytest.fixture(scope="module")
def causeway() -> Article:
    return load_article(CAUSEWAY)


def top_text(index: ArticleIndex, embedder: Embedder, question: str) -> str:
    passage, _ = index.query(embedder.encode_query(question), 1)[0]
    return passage.text


def test_switching_back_and_forth_keeps_each_articles_index(
    index_dir: Path, article: Article, causeway: Article, embedder: Embedder
) -> None:
    config = IndexConfig(path=index_dir)
    shipped = ArticleIndex.open(config, article, embedder)
    assert shipped.build(progress=False).status == "built"
    assert shipped.config.collection == f"article-{article.sha256[:12]}"

    # A bot still serving the shipped article while the other one is indexed.
    other = ArticleIndex.open(config, causeway, embedder)
    assert other.build(progress=False).status == "built"
    assert other.config.collection == collection_name("article", causeway)
    assert other.config.collection != shipped.config.collection

    question = "Who first proposed building the causeway?"
    assert "Agnes Marrow" in top_text(other, embedder, question)
    # The shipped article's reader still reads its own passages, never the new article's.
    assert "Marrow" not in top_text(shipped, embedder, question)
    assert {p.id for p, _ in shipped.query(embedder.encode_query(question), 100)} <= {
        p.id for p in shipped.passages
    }
    for p, _ in shipped.query(embedder.encode_query(question), 100):
        assert article.text[p.start : p.end] == p.text

    # Switching back, and forth again, rebuilds nothing.
    for _ in range(2):
        for chosen in (article, causeway):
            again = ArticleIndex.open(config, chosen, embedder)
            report = again.build(progress=False)
            assert report.status == "unchanged", report.message
            assert again.count() == len(again.passages)
            for p, _ in again.query(embedder.encode_query(question), 3):
                assert chosen.text[p.start : p.end] == p.text
            again.close()
    shipped.close()
    other.close()


def test_only_the_articles_built_last_are_kept(index_dir: Path, embedder: Embedder) -> None:
    config = IndexConfig(path=index_dir, min_chars=20, max_chars=80)
    articles = [
        parse_article(f"Boats number {n} sailed out. They came back at dusk.\n", f"a{n}.txt")
        for n in range(ARTICLES_KEPT + 2)
    ]
    for a in articles:
        index = ArticleIndex.open(config, a, embedder)
        index.build(progress=False)
        index.close()
    reader = ArticleIndex.open(config, articles[-1], embedder)
    names = {getattr(c, "name", c) for c in reader.client.list_collections()}
    reader.close()
    kept = {collection_name("article", a) for a in articles[-ARTICLES_KEPT:]}
    dropped = {collection_name("article", a) for a in articles[:-ARTICLES_KEPT]}
    assert kept <= names
    assert not dropped & names


@pytest.fixture
def cli_env(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(bot.wiring, "make_embedder", lambda settings: embedder)
    monkeypatch.setenv("ARTICLE_BOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARTICLE_BOT_ARTICLE_PATH", raising=False)
    monkeypatch.delenv("ARTICLE_BOT_INDEX_PATH", raising=False)
    monkeypatch.delenv("ARTICLE_BOT_COLLECTION", raising=False)
    return tmp_path


def test_index_article_option_switches_and_switches_back(
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
    causeway: Article,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    assert main(["index", "--article", str(CAUSEWAY), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"article-{causeway.sha256[:12]}" in out and "built" in out

    assert main(["search", "Who proposed the causeway?", "-k", "1", "--json",
                 "--article", str(CAUSEWAY)]) == 0  # fmt: skip
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert causeway.text[hit["start"] : hit["end"]] == hit["text"]
    assert "Marrow" in hit["text"]

    # Without the option: the shipped article, from its own index.
    assert main(["search", "Who proposed the causeway?", "-k", "1", "--json"]) == 0
    shipped_hit = json.loads(capsys.readouterr().out)["hits"][0]
    shipped = load_article()
    assert shipped.text[shipped_hit["start"] : shipped_hit["end"]] == shipped_hit["text"]
    assert "Marrow" not in shipped_hit["text"]

    # The setting does what the option does; the index built before is still current.
    monkeypatch.setenv("ARTICLE_BOT_ARTICLE_PATH", str(CAUSEWAY))
    assert main(["index", "--no-progress"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_article_option_names_a_missing_file(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = cli_env / "nope.md"
    assert main(["index", "--article", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"article-bot: --article {missing}: not found (give the path of a text or Markdown file)\n"
    )


def test_eval_of_another_article_needs_its_own_questions(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--article", str(CAUSEWAY)]) == 2
    err = capsys.readouterr().err
    assert "shipped question set is about the shipped article" in err
    assert "article-bot eval QUESTIONS.jsonl --article FILE" in err


def test_info_names_the_article_and_its_collection(cli_env: Path, causeway: Article) -> None:
    from bot.settings import load_settings
    from bot.wiring import describe_runtime

    info = describe_runtime(load_settings(article_path=CAUSEWAY))
    assert info["article"]["title"] == "The Kellwick Tidal Causeway"
    assert info["article"]["sha256"] == causeway.sha256
    assert info["index"]["collection"] == f"article-{causeway.sha256[:12]}"
    assert f"collection 'article-{causeway.sha256[:12]}'" in info["index"]["location"]
