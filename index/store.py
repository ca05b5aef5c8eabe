"""The passages and their vectors in a Chroma collection: built once, rebuilt only on change.

Embedded mode keeps the collection in a directory (``chromadb.PersistentClient``); server mode talks
to ``chroma run`` over HTTP (``chromadb.HttpClient``); everything else is one code path.

Each article has a collection of its own, named by the configured name and the start of the
article's sha256 (``article-3f2a…``): switching to another article never reads the passages of the
one before, a bot still serving the old article keeps its collection, and switching back finds its
index already built. The ``ARTICLES_KEPT`` most recently built article collections are kept.

The collection's metadata carries a content hash over the article text, the embedding model's
fingerprint, the chunk settings and ``SCHEMA_VERSION``. A build whose hash and passage count match
does nothing; any difference replaces the collection whole, so passages are never duplicated.

Chroma never embeds anything itself: collections are opened with ``embedding_function=None`` and
every add and query passes vectors, so its default (downloading) embedding function cannot run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from index.article import Article
from index.embeddings import Embedder
from index.passages import Passage, make_passages

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)

# Bump when what is stored changes meaning (passage layout, embed text, metadata), so that
# existing indexes are rebuilt rather than misread.
SCHEMA_VERSION = 1
EMBED_BATCH = 16
ARTICLES_KEPT = 4
ARTICLE_KEY_CHARS = 12

BuildStatus = Literal["built", "unchanged", "rebuilt", "repaired"]
_T = TypeVar("_T")


class IndexStoreError(RuntimeError):
    """The index cannot be used (server unreachable, index missing); the message says the fix."""


@dataclass(frozen=True)
class IndexConfig:
    path: Path
    collection: str = "article"
    host: str | None = None  # set: a Chroma server; unset: embedded Chroma at ``path``
    port: int = 8000
    min_chars: int = 300
    max_chars: int = 600
    overlap_sentences: int = 1

    @property
    def location(self) -> str:
        if self.host:
            return f"Chroma server http://{self.host}:{self.port} (collection {self.collection!r})"
        return f"{self.path} (collection {self.collection!r})"


@dataclass(frozen=True)
class BuildReport:
    status: BuildStatus
    passages: int
    seconds: float
    content_hash: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "passages": self.passages,
            "seconds": round(self.seconds, 3),
            "content_hash": self.content_hash,
            "message": self.message,
        }


def content_hash(article: Article, embedder_fingerprint: str, config: IndexConfig) -> str:
    """Identity of an index's content: equal hashes mean identical passages and vectors."""
    payload = {
        "schema": SCHEMA_VERSION,
        "article": article.sha256,
        "embedder": embedder_fingerprint,
        "chunks": [config.min_chars, config.max_chars, config.overlap_sentences],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def collection_name(base: str, article: Article) -> str:
    """The collection of this article under the configured name: ``<base>-<sha256 start>``."""
    return f"{base}-{article.sha256[:ARTICLE_KEY_CHARS]}"


def _is_article_collection(name: str, base: str) -> bool:
    prefix = f"{base}-"
    key = name[len(prefix) :]
    return (
        name.startswith(prefix)
        and len(key) == ARTICLE_KEY_CHARS
        and all(c in "0123456789abcdef" for c in key)
    )


def _chroma_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def _is_not_found(exc: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) or (
        isinstance(exc, ValueError) and "does not exist" in str(exc)
    )


def _evict_shared_system(path: Path) -> None:
    # Chroma shares one system (and its sqlite handle) per directory within a process. After a
    # broken directory is moved aside, a surviving system would keep writing into the moved
    # files; drop it so the next client opens the new directory.
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", {})
    system = systems.pop(str(path), None)
    getattr(SharedSystemClient, "_identifier_to_refcount", {}).pop(str(path), None)
    if system is not None:
        try:
            system.stop()
        except Exception:  # a broken system may fail to stop; it is discarded either way
            log.debug("stopping the broken Chroma system failed", exc_info=True)


class ArticleIndex:
    """One article's passages in a Chroma collection."""

    def __init__(self, config: IndexConfig, article: Article, embedder: Embedder) -> None:
        self.base_collection = config.collection
        self.config = replace(config, collection=collection_name(config.collection, article))
        self.article = article
        self.embedder = embedder
        self.passages: list[Passage] = make_passages(
            article, config.min_chars, config.max_chars, config.overlap_sentences
        )
        self._by_id = {p.id: p for p in self.passages}
        self.content_hash = content_hash(article, embedder.fingerprint, config)
        self._client: ClientAPI | None = None
        self._collection: Collection | None = None
        self._open_error: Exception | None = None

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, config: IndexConfig, article: Article, embedder: Embedder) -> ArticleIndex:
        """Connect to the store. An unreadable embedded index is not an error here: ``build``
        repairs it. An unreachable server is (``IndexStoreError``)."""
        index = cls(config, article, embedder)
        try:
            index._client = index._make_client()
        except IndexStoreError:
            raise
        except Exception as exc:
            index._open_error = exc
        return index

    def _make_client(self) -> ClientAPI:
        import chromadb

        if self.config.host:
            try:
                return chromadb.HttpClient(
                    host=self.config.host, port=self.config.port, settings=_chroma_settings()
                )
            except Exception as exc:
                raise IndexStoreError(
                    f"Cannot reach the Chroma server at http://{self.config.host}:"
                    f"{self.config.port}: {exc} (start it with `chroma run --path <dir> --host "
                    f"{self.config.host} --port {self.config.port}`, or unset "
                    "ARTICLE_BOT_CHROMA_HOST to use an embedded index)"
                ) from None
        path = self.config.path.expanduser()
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{path} is a file, not an index directory")
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())

    @property
    def client(self) -> ClientAPI:
        if self._client is None:
            raise IndexStoreError(
                f"Index at {self.config.location} is unreadable ({self._open_error}); run "
                "`article-bot index` to rebuild it"
            )
        return self._client

    def close(self) -> None:
        client, self._client, self._collection = self._client, None, None
        close = getattr(client, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.debug("closing the Chroma client failed", exc_info=True)

    def discard(self) -> None:
        """Close, and drop Chroma's shared system for an embedded index's directory: for an index
        that will not be opened again (a benchmark's throwaway build), whose system would
        otherwise stay in memory for the life of the process."""
        self.close()
        if not self.config.host:
            _evict_shared_system(self.config.path.expanduser())

    def __enter__(self) -> ArticleIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state -------------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Changes whenever the indexed content would (same as ``content_hash``)."""
        return self.content_hash

    def _existing(self) -> Collection | None:
        """The stored collection, None if there is none; raises if the store is unreadable."""
        if self._open_error is not None:
            raise self._open_error
        try:
            return self.client.get_collection(self.config.collection, embedding_function=None)
        except Exception as exc:
            if _is_not_found(exc):
                return None
            raise

    def _matches(self, collection: Collection) -> bool:
        metadata = collection.metadata or {}
        return metadata.get("content_hash") == self.content_hash and collection.count() == len(
            self.passages
        )

    def is_current(self) -> bool:
        """Whether the stored collection holds exactly these passages and vectors."""
        try:
            collection = self._existing()
            return collection is not None and self._matches(collection)
        except Exception:
            return False

    def count(self) -> int:
        """Passages stored (0 when there is no collection yet)."""
        collection = self._existing()
        return 0 if collection is None else collection.count()

    # -- building ----------------------------------------------------------------------------------
    def build(self, progress: bool = True, force: bool = False) -> BuildReport:
        """Make the stored collection match the article: nothing to do, built, rebuilt, or (for
        an unreadable embedded index) moved aside and rebuilt. Never duplicates passages."""
        started = time.perf_counter()
        repaired_note = ""
        try:
            existing = self._existing()
            current = existing is not None and self._matches(existing)
        except Exception as exc:
            if self.config.host:
                raise IndexStoreError(
                    f"Chroma server at http://{self.config.host}:{self.config.port} failed: {exc} "
                    "(check the server's log, or unset ARTICLE_BOT_CHROMA_HOST)"
                ) from exc
            if "locked" in str(exc).lower():
                # Busy, not broken: another process is writing this index right now.
                raise IndexStoreError(
                    f"Index at {self.config.location} is in use by another process ({exc}); "
                    "try again when it has finished"
                ) from exc
            repaired_note = self._move_aside(exc)
            existing, current = None, False

        if existing is not None and current and not force:
            self._collection = existing
            return BuildReport(
                status="unchanged",
                passages=len(self.passages),
                seconds=time.perf_counter() - started,
                content_hash=self.content_hash,
                message=f"Index at {self.config.location} is up to date "
                f"({len(self.passages)} passages)",
            )

        status: BuildStatus = "repaired" if repaired_note else "rebuilt" if existing else "built"
        if existing is not None:
            self.client.delete_collection(self.config.collection)
        self._collection = self._write(progress)
        self._prune_other_articles()
        seconds = time.perf_counter() - started
        done = {
            "built": "built",
            "rebuilt": "rebuilt (forced)" if current else "rebuilt (content changed)",
            "repaired": "rebuilt",
        }[status]
        message = f"Index at {self.config.location} {done}: {len(self.passages)} passages"
        if repaired_note:
            message = f"{repaired_note}. {message}"
        log.info("%s in %.2f s", message, seconds)
        return BuildReport(
            status=status,
            passages=len(self.passages),
            seconds=seconds,
            content_hash=self.content_hash,
            message=message,
        )

    def _prune_other_articles(self) -> None:
        """Drop the collections of other articles beyond the ``ARTICLES_KEPT`` built last."""
        try:
            names = [getattr(c, "name", c) for c in self.client.list_collections()]
            others = []
            for name in names:
                if name == self.config.collection or not _is_article_collection(
                    str(name), self.base_collection
                ):
                    continue
                collection = self.client.get_collection(str(name), embedding_function=None)
                others.append((float((collection.metadata or {}).get("built_at", 0.0)), str(name)))
            for _, name in sorted(others, reverse=True)[ARTICLES_KEPT - 1 :]:
                self.client.delete_collection(name)
                log.info("dropped the index of an older article: collection %s", name)
        except Exception:  # pruning is housekeeping; the new index is built either way
            log.warning("could not prune older article collections", exc_info=True)

    def _move_aside(self, exc: Exception) -> str:
        """Move an unreadable index directory out of the way and reconnect; returns the note."""
        path = self.config.path.expanduser()
        reason = f"{type(exc).__name__}: {exc}".strip()
        self.close()
        _evict_shared_system(path)
        note = f"Index at {path} was unreadable ({reason}); rebuilding"
        if path.exists():
            base = f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}"
            aside, n = path.with_name(base), 1
            while aside.exists():
                n += 1
                aside = path.with_name(f"{base}-{n}")
            try:
                path.rename(aside)
            except OSError as move_error:
                raise IndexStoreError(
                    f"Index at {path} is unreadable ({reason}) and could not be moved aside "
                    f"({move_error}); delete it, or set ARTICLE_BOT_INDEX_PATH to another "
                    "directory"
                ) from exc
            note = f"{note} (the unreadable copy is kept at {aside})"
        log.warning("%s", note)
        self._open_error = None
        try:
            self._client = self._make_client()
        except Exception as again:
            raise IndexStoreError(
                f"Index at {path} cannot be created ({type(again).__name__}: {again}); set "
                "ARTICLE_BOT_INDEX_PATH to a writable directory"
            ) from again
        return note

    def _batches(self, progress: bool) -> Iterator[tuple[list[Passage], np.ndarray]]:
        from tqdm import tqdm

        show = progress and sys.stderr.isatty()
        with tqdm(
            total=len(self.passages),
            desc="Embedding passages",
            unit="passage",
            file=sys.stderr,
            disable=not show,
        ) as bar:
            for i in range(0, len(self.passages), EMBED_BATCH):
                batch = self.passages[i : i + EMBED_BATCH]
                vectors = self.embedder.encode([p.embed_text for p in batch])
                bar.update(len(batch))
                yield batch, vectors

    def _write(self, progress: bool) -> Collection:
        metadata: dict[str, Any] = {
            "hnsw:space": "cosine",
            "content_hash": self.content_hash,
            "schema": SCHEMA_VERSION,
            "embedder": self.embedder.fingerprint,
            "article_sha256": self.article.sha256,
            "passages": len(self.passages),
            "built_at": time.time(),
        }
        collection = self.client.create_collection(
            self.config.collection, metadata=metadata, embedding_function=None
        )
        for batch, vectors in self._batches(progress):
            collection.add(
                ids=[p.id for p in batch],
                embeddings=vectors,
                documents=[p.text for p in batch],
                metadatas=[{"section": p.section, "start": p.start, "end": p.end} for p in batch],
            )
        stored = collection.count()
        if stored != len(self.passages):
            raise IndexStoreError(
                f"Index at {self.config.location} holds {stored} passages after building, "
                f"expected {len(self.passages)} (run `article-bot index --force`)"
            )
        return collection

    # -- reading -----------------------------------------------------------------------------------
    @property
    def collection(self) -> Collection:
        if self._collection is None:
            existing = None
            try:
                existing = self._existing()
            except Exception as exc:
                raise IndexStoreError(
                    f"Index at {self.config.location} is unreadable ({exc}); run "
                    "`article-bot index` to rebuild it"
                ) from exc
            if existing is None:
                raise IndexStoreError(
                    f"No index at {self.config.location}; run `article-bot index` to build it"
                )
            self._collection = existing
        return self._collection

    def passage(self, passage_id: str) -> Passage:
        try:
            return self._by_id[passage_id]
        except KeyError:
            raise IndexStoreError(
                f"Index at {self.config.location} holds passage {passage_id!r} that this article "
                "does not have; it is out of date (run `article-bot index`)"
            ) from None

    def _read(self, action: Callable[[Collection], _T]) -> _T:
        try:
            return action(self.collection)
        except IndexStoreError:
            raise
        except Exception as exc:
            if not _is_not_found(exc):
                raise
            # Another process (`article-bot index --force`) replaced the collection since it
            # was opened here: look it up again once.
            self._collection = None
            return action(self.collection)

    def query(self, vector: np.ndarray | Sequence[float], k: int) -> list[tuple[Passage, float]]:
        """The ``k`` passages nearest to ``vector``, best first, with cosine similarity."""
        n = min(k, len(self.passages))
        if n <= 0:
            return []
        embedding = np.asarray(vector, dtype=np.float32).tolist()
        result = self._read(
            lambda c: c.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [(self.passage(pid), 1.0 - float(d)) for pid, d in zip(ids, distances, strict=True)]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given passages."""
        if not ids:
            return {}
        wanted = list(ids)
        got = self._read(lambda c: c.get(ids=wanted, include=["embeddings"]))
        embeddings = got.get("embeddings")
        if embeddings is None:
            return {}
        return {
            pid: np.asarray(vec, dtype=np.float32)
            for pid, vec in zip(got["ids"], embeddings, strict=True)
        }
