"""Server mode for real: a `chroma run` process, reached through chromadb.HttpClient."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.article import Article
from index.embeddings import Embedder
from index.retrieval import Retriever
from index.store import ArticleIndex, IndexConfig, IndexStoreError

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_heartbeat(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"chroma run did not answer {url} within {timeout} s")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not CHROMA.exists():
        pytest.fail(f"chroma CLI not found at {CHROMA} (install chromadb in this environment)")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_heartbeat(port, proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
