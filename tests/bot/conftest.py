"""The real answer pipeline (index, embedding model, GGUF model), built once for these tests."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def real_pipeline():
    from bot.settings import load_settings
    from bot.wiring import build_answerer

    # Openings saved first, so that no answer depends on how far that had got.
    return build_answerer(load_settings(), openings="wait")
