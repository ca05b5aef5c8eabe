"""Server mode for real: a `chroma run` process, reached through chromadb.HttpClient."""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.article import Article
from index.embeddings import Embedder
from index.retrieval import Retriever
from index.store import ArticleIndex, IndexConfig, IndexStoreError
from tests.server_process import free_port, running_server

CHROMA = Path(sys.executable).parent / "chroma"


def heartbeat(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    with urllib.request.urlopen(url, timeout=1) as response:
        return bool(response.status == 200)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not CHROMA.exists():
        pytest.fail(f"chroma CLI not found at {CHROMA} (install chromadb in this environment)")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    command = [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    with running_server(
        command, lambda: heartbeat(port), name="chroma run", log=data.parent / "chroma.log"
    ):
        yield port


def test_build_and_query_through_server(
    chroma_server: int, tmp_path: Path, article: Article, embedder: Embedder
) -> None:
    config = IndexConfig(path=tmp_path / "unused", host="127.0.0.1", port=chroma_server)
    index = ArticleIndex.open(config, article, embedder)
    report = index.build(progress=False)
    assert report.status == "built"
    assert f"http://127.0.0.1:{chroma_server}" in report.message
    assert not (tmp_path / "unused").exists()  # nothing written locally in server mode
    assert index.count() == len(index.passages)
    assert index.build(progress=False).status == "unchanged"

    hits = Retriever(index, embedder).search("When was the article published?", 3)
    assert hits[0].passage.id == "Introduction:0"
    index.close()

    # A second client sees the same collection as current.
    again = ArticleIndex.open(config, article, embedder)
    assert again.is_current()
    assert again.build(progress=False, force=True).status == "rebuilt"
    assert again.count() == len(again.passages)
    again.close()


def test_unreachable_server_says_how_to_fix(article: Article, embedder: Embedder) -> None:
    port = free_port()  # nothing listens here
    config = IndexConfig(path=Path("unused"), host="127.0.0.1", port=port)
    with pytest.raises(IndexStoreError) as err:
        ArticleIndex.open(config, article, embedder)
    message = str(err.value)
    assert f"http://127.0.0.1:{port}" in message
    assert "chroma run" in message and "ARTICLE_BOT_CHROMA_HOST" in message
