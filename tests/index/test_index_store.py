"""The Chroma store for real: build, unchanged, rebuild on change, repair, never duplicate."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index.article import Article, parse_article
from index.embeddings import Embedder
from index.store import (
    SCHEMA_VERSION,
    ArticleIndex,
    BuildReport,
    IndexConfig,
    IndexStoreError,
    content_hash,
)

SMALL = (
    "04/01 2025\n"
    "Payments are changing quickly. Wallets now dominate daily purchases in large cities.\n"
    "I\n"
    "Banks once controlled every transfer. Their fees were high and their apps were slow.\n"
    "II\n"
    "New players focus on merchants. They sell software and credit to small shops."
)


@pytest.fixture
def small_article() -> Article:
    return parse_article(SMALL, "small.txt")


def stored_ids(index: ArticleIndex) -> list[str]:
    return list(index.collection.get(include=[])["ids"])


def open_index(path: Path, article: Article, embedder: Embedder, **config: int) -> ArticleIndex:
    return ArticleIndex.open(IndexConfig(path=path, **config), article, embedder)  # type: ignore[arg-type]


def test_shared_index_built_then_unchanged(
    built_index: tuple[ArticleIndex, BuildReport], record_measure: Callable[[str], None]
) -> None:
    index, report = built_index
    assert report.status == "built"
    assert report.passages == len(index.passages) == index.count()
    assert "built" in report.message and str(index.config.path) in report.message
    assert index.is_current()
    started = time.perf_counter()
    again = index.build(progress=False)
    unchanged_s = time.perf_counter() - started
    assert again.status == "unchanged"
    assert again.content_hash == report.content_hash
    assert index.count() == len(index.passages)
    record_measure(
        f"index build, cold (model already loaded): {report.seconds:.2f} s for "
        f"{report.passages} passages; unchanged re-run: {unchanged_s * 1000:.1f} ms"
    )


def test_collection_metadata_and_contents(index: ArticleIndex) -> None:
    collection = index.collection
    metadata = collection.metadata
    assert metadata["hnsw:space"] == "cosine"
    assert metadata["content_hash"] == index.content_hash
    assert metadata["schema"] == SCHEMA_VERSION
    assert collection.configuration.get("embedding_function") is None
    got = collection.get(include=["documents", "metadatas"])
    documents, metadatas = got["documents"] or [], got["metadatas"] or []
    by_id = dict(zip(got["ids"], zip(documents, metadatas, strict=True), strict=True))
    assert sorted(by_id) == sorted(p.id for p in index.passages)
    for p in index.passages:
        document, meta = by_id[p.id]
        assert document == p.text
        assert (meta["section"], meta["start"], meta["end"]) == (p.section, p.start, p.end)


def test_query_gives_cosine_similarity(index: ArticleIndex, embedder: Embedder) -> None:
    question = "What did Alipay do with AI during the European Championship?"
    vector = embedder.encode_query(question)
    results = index.query(vector, 5)
    assert len(results) == 5
    sims = [s for _, s in results]
    assert sims == sorted(sims, reverse=True)
    assert results[0][0].section == "III"
    stored = index.vectors([p.id for p, _ in results])
    for passage, sim in results:
        assert np.isclose(float(np.dot(stored[passage.id], vector)), sim, atol=1e-4)
        expected = float(np.dot(embedder.encode([passage.embed_text])[0], vector))
        assert np.isclose(expected, sim, atol=1e-3)


def test_query_more_than_stored(index: ArticleIndex, embedder: Embedder) -> None:
    results = index.query(embedder.encode_query("payments"), 1000)
    assert len(results) == len(index.passages)
    assert len({p.id for p, _ in results}) == len(results)


def test_rebuild_on_change_never_duplicates(
    index_dir: Path, small_article: Article, embedder: Embedder
) -> None:
    first = open_index(index_dir, small_article, embedder)
    assert not first.is_current() and first.count() == 0
    assert first.build(progress=False).status == "built"
    assert first.build(progress=False).status == "unchanged"
    first.close()

    # An edited article is another article: its own collection, the old one left as it was.
    changed = parse_article(SMALL + " A new closing sentence arrives.", "small.txt")
    second = open_index(index_dir, changed, embedder)
    assert not second.is_current()
    report = second.build(progress=False)
    assert report.status == "built"
    assert second.config.collection != first.config.collection
    assert sorted(stored_ids(second)) == sorted(p.id for p in second.passages)
    assert open_index(index_dir, small_article, embedder).is_current()
    texts = second.collection.get(include=["documents"])["documents"] or []
    assert any("A new closing sentence arrives." in t for t in texts)
    assert second.build(progress=False).status == "unchanged"
    assert second.count() == len(second.passages)

    # Other chunk settings are another index content too.
    third = open_index(index_dir, changed, embedder, min_chars=50, max_chars=100)
    assert third.content_hash != second.content_hash
    report = third.build(progress=False)
    assert report.status == "rebuilt" and "changed" in report.message
    assert sorted(stored_ids(third)) == sorted(p.id for p in third.passages)
    forced = third.build(progress=False, force=True)
    assert forced.status == "rebuilt" and "forced" in forced.message
    assert third.count() == len(third.passages)
    second.close()
    third.close()


def test_missing_directory_is_built(
    tmp_path: Path, small_article: Article, embedder: Embedder
) -> None:
    path = tmp_path / "not" / "yet" / "there"
    index = open_index(path, small_article, embedder)
    report = index.build(progress=False)
    assert report.status == "built" and path.is_dir()
    assert index.count() == len(index.passages)
    index.close()


def test_query_before_build_says_how_to_fix(
    index_dir: Path, small_article: Article, embedder: Embedder
) -> None:
    index = open_index(index_dir, small_article, embedder)
    with pytest.raises(IndexStoreError, match="article-bot index"):
        index.query(embedder.encode_query("banks"), 2)
    index.close()


def _assert_repaired(path: Path, article: Article, embedder: Embedder) -> None:
    index = open_index(path, article, embedder)
    assert not index.is_current()
    report = index.build(progress=False)
    assert report.status == "repaired"
    assert f"Index at {path} was unreadable" in report.message
    assert "rebuilding" in report.message
    aside = list(path.parent.glob(f"{path.name}.unreadable-*"))
    assert len(aside) == 1
    assert index.count() == len(index.passages)
    hits = index.query(embedder.encode_query("Who controlled transfers?"), 1)
    assert hits[0][0].section == "I"
    assert index.build(progress=False).status == "unchanged"
    index.close()
    reopened = open_index(path, article, embedder)
    assert reopened.is_current()
    reopened.close()


def test_garbage_directory_is_repaired(
    index_dir: Path, small_article: Article, embedder: Embedder
) -> None:
    index_dir.mkdir()
    (index_dir / "chroma.sqlite3").write_bytes(bytes(range(256)) * 40)
    (index_dir / "stray.bin").write_bytes(b"\x00garbage")
    _assert_repaired(index_dir, small_article, embedder)


def test_truncated_sqlite_is_repaired(
    index_dir: Path, small_article: Article, embedder: Embedder
) -> None:
    good = open_index(index_dir, small_article, embedder)
    good.build(progress=False)
    good.close()
    sqlite = index_dir / "chroma.sqlite3"
    with sqlite.open("r+b") as fh:
        fh.truncate(sqlite.stat().st_size // 3)
    _assert_repaired(index_dir, small_article, embedder)


def test_file_in_place_of_directory_is_repaired(
    index_dir: Path, small_article: Article, embedder: Embedder
) -> None:
    index_dir.write_text("not an index")
    _assert_repaired(index_dir, small_article, embedder)


def test_chroma_default_embedding_function_never_runs(
    index_dir: Path,
    small_article: Article,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chromadb.utils import embedding_functions

    calls: list[str] = []

    def forbidden(self: object, *args: object, **kwargs: object) -> None:
        calls.append(type(self).__name__)
        raise AssertionError("Chroma's own embedding function ran")

    for name in ("DefaultEmbeddingFunction", "ONNXMiniLM_L6_V2"):
        cls = getattr(embedding_functions, name)
        monkeypatch.setattr(cls, "__call__", forbidden)
        monkeypatch.setattr(cls, "embed_query", forbidden, raising=False)
    index = open_index(index_dir, small_article, embedder)
    index.build(progress=False)
    assert index.query(embedder.encode_query("shops"), 2)
    assert index.collection.configuration.get("embedding_function") is None
    index.close()
    assert calls == []


def test_content_hash_covers_its_inputs(small_article: Article) -> None:
    config = IndexConfig(path=Path("unused"))
    base = content_hash(small_article, "m:384", config)
    assert base == content_hash(parse_article(SMALL), "m:384", config)
    assert base != content_hash(parse_article(SMALL + " More."), "m:384", config)
    assert base != content_hash(small_article, "other:384", config)
    assert base != content_hash(small_article, "m:384", IndexConfig(Path("x"), overlap_sentences=0))
    # Location and collection name are not content.
    assert base == content_hash(small_article, "m:384", IndexConfig(Path("y"), collection="zzz"))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(
    index_dir: Path,
    small_article: Article,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = open_index(index_dir, small_article, embedder)
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    index.build(progress=True)
    assert piped.getvalue() == ""

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    index.build(progress=True, force=True)
    n = len(index.passages)
    assert "Embedding passages" in terminal.getvalue() and f"{n}/{n}" in terminal.getvalue()

    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    index.build(progress=False, force=True)
    assert quiet.getvalue() == ""
    index.close()


def test_reader_survives_a_rebuild_elsewhere(
    index_dir: Path, small_article: Article, embedder: Embedder
) -> None:
    reader = open_index(index_dir, small_article, embedder)
    reader.build(progress=False)
    old_id = reader.collection.id
    vector = embedder.encode_query("Who controlled transfers?")
    before = reader.query(vector, 1)

    writer = open_index(index_dir, small_article, embedder)
    assert writer.build(progress=False, force=True).status == "rebuilt"
    after = reader.query(vector, 1)
    assert reader.collection.id != old_id
    assert [p.id for p, _ in after] == [p.id for p, _ in before]
    assert reader.vectors([after[0][0].id])
    reader.close()
    writer.close()


def test_uncreatable_directory_says_how_to_fix(
    tmp_path: Path, small_article: Article, embedder: Embedder
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    path = blocker / "index"
    index = open_index(path, small_article, embedder)
    assert not index.is_current()
    with pytest.raises(IndexStoreError) as err:
        index.build(progress=False)
    message = str(err.value)
    assert f"Index at {path} cannot be created" in message
    assert "ARTICLE_BOT_INDEX_PATH" in message
    assert blocker.read_text() == "in the way"


def test_a_discarded_index_leaves_no_shared_system_behind(
    tmp_path: Path, small_article: Article, embedder: Embedder
) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    path = tmp_path / "throwaway"
    index = open_index(path, small_article, embedder)
    index.build(progress=False)
    systems = SharedSystemClient._identifier_to_system
    assert str(path) in systems
    index.discard()
    assert str(path) not in systems
    # Opened again, it is read from its files as any index is.
    again = open_index(path, small_article, embedder)
    assert again.is_current() and again.count() == len(again.passages)
    again.discard()
