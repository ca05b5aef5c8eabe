"""Shared fixtures for the index tests: the real article, the real embedding model (loaded once)
and one real Chroma index built in a session temporary directory.

Measurements taken by the tests (retrieval hit@k, build and query times) are collected with
``record_measure`` and printed in the terminal summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

from index.article import Article, load_article
from index.embeddings import Embedder
from index.retrieval import Retriever
from index.store import ArticleIndex, BuildReport, IndexConfig

_MEASURES: list[str] = []


@pytest.fixture(scope="session")
def record_measure() -> Callable[[str], None]:
    def record(line: str) -> None:
        _MEASURES.append(line)
        print(line)

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _MEASURES:
        terminalreporter.section("index measurements")
        for line in _MEASURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def article() -> Article:
    return load_article()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    e = Embedder()
    e.warm()
    return e


@pytest.fixture(scope="session")
def built_index(
    tmp_path_factory: pytest.TempPathFactory, article: Article, embedder: Embedder
) -> Iterator[tuple[ArticleIndex, BuildReport]]:
    path = tmp_path_factory.mktemp("shared-index") / "index"
    index = ArticleIndex.open(IndexConfig(path=path), article, embedder)
    report = index.build(progress=False)
    yield index, report
    index.close()


@pytest.fixture(scope="session")
def index(built_index: tuple[ArticleIndex, BuildReport]) -> ArticleIndex:
    return built_index[0]


@pytest.fixture(scope="session")
def retriever(index: ArticleIndex, embedder: Embedder) -> Retriever:
    return Retriever(index, embedder)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"
