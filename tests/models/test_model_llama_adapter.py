"""The version check in front of llama-cpp-python's internals (no model loaded)."""

from __future__ import annotations

from importlib import metadata

import pytest

from models.backend import ModelLoadError
from models.llama_adapter import KNOWN_VERSIONS, check_version, load_llama_cpp


def test_the_installed_version_is_known() -> None:
    assert metadata.version("llama-cpp-python") in KNOWN_VERSIONS
    assert load_llama_cpp().__version__ in KNOWN_VERSIONS


def test_an_unknown_version_fails_with_the_version_and_the_fix() -> None:
    with pytest.raises(ModelLoadError) as info:
        check_version("0.4.0")
    message = str(info.value)
    assert "llama-cpp-python 0.4.0 is installed" in message
    assert f"llama-cpp-python=={max(KNOWN_VERSIONS)}" in message
    assert "ARTICLE_BOT_LLM_SERVER_URL" in message
