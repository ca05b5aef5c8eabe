"""Shared, expensive fixtures of the model tests: the real packaged GGUFs and loaded models.

The joined model files live in the bot's own model cache (``$ARTICLE_BOT_DATA_DIR/models``,
default ``~/.cache/article-bot/models``) so that joining happens once per machine, not per run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from models.catalog import DEFAULT_MODEL
from models.local import LocalLLM
from models.locate import resolve_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Short on purpose: the mechanism tests need a shared prefix, not a long one.
SYSTEM = (
    "You answer questions about the short article below, using only the article. Reply in "
    "JSON.\n\nThe article:\n[1] Alipay started in 2004 as the payment service of Taobao, the "
    "online market of Alibaba.\n[2] It became the largest mobile payment app in China.\n[3] "
    "Its strategy now is to be a super app: payments, loans, insurance and mini programs in "
    "one place.\n[4] Critics say the super app strategy makes Alipay hard to regulate.\n"
)

# maxLength keeps every string closable within the tests' max_tokens (ASCII: at most a token
# per character), so a rambling small model still produces complete JSON.
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answerable": {"type": "boolean"},
        "sentences": {
            "type": "array",
            "items": {"type": "integer", "enum": [1, 2, 3, 4]},
            "minItems": 0,
            "maxItems": 2,
        },
        "answer": {"anyOf": [{"type": "string", "maxLength": 60}, {"type": "null"}]},
    },
    "required": ["answerable", "sentences", "answer"],
    "additionalProperties": False,
}


Messages = list[dict[str, str]]


def host_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)))


@pytest.fixture(scope="session")
def ask() -> Callable[[str], Messages]:
    """``ask(question)``: the system message above plus the question."""

    def build(question: str, system: str = SYSTEM) -> Messages:
        return [{"role": "system", "content": system}, {"role": "user", "content": question}]

    return build


@pytest.fixture(scope="session")
def answer_schema() -> dict[str, Any]:
    return ANSWER_SCHEMA


@pytest.fixture(scope="session")
def model_cache() -> Path:
    base = os.environ.get("ARTICLE_BOT_DATA_DIR")
    if base:
        return Path(base).expanduser() / "models"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "article-bot" / "models"


@pytest.fixture(scope="session")
def smollm2_path(model_cache: Path) -> Path:
    return resolve_model("smollm2-135m", None, model_cache)


@pytest.fixture(scope="session")
def default_model_path(model_cache: Path) -> Path:
    return resolve_model(DEFAULT_MODEL, None, model_cache)


@pytest.fixture(scope="session")
def smollm2(smollm2_path: Path) -> Iterator[LocalLLM]:
    llm = LocalLLM(smollm2_path, n_threads=host_threads(), n_ctx=2048)
    yield llm
    llm.close()
