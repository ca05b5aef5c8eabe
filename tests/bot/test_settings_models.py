"""A packaged model brings the answering settings it was fitted with, where nothing sets them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import FITTED_FOR_MODEL, Settings, SettingsError, load_settings
from models.catalog import DEFAULT_MODEL, MODELS


def test_fitted_settings_name_packaged_models_and_real_fields() -> None:
    for model, fitted in FITTED_FOR_MODEL.items():
        assert model in MODELS
        # The fields' own defaults are the default model's fitting.
        assert model != DEFAULT_MODEL
        for name, value in fitted.items():
            assert name in Settings.model_fields, name
            assert Settings.model_fields[name].default != value, name
            # Each value passes the field's own validation.
            load_settings(**{name: value})


def test_choosing_a_model_applies_its_fitted_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE_BOT_MODEL", "qwen2.5-0.5b")
    settings = load_settings()
    fitted = FITTED_FOR_MODEL["qwen2.5-0.5b"]
    for name, value in fitted.items():
        assert getattr(settings, name) == value
    assert settings.fitted_for_model == fitted
    # Applied values are not taken for the user's own.
    assert not set(fitted) & settings.model_fields_set


def test_a_setting_given_wins_over_the_fitted_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE_BOT_MODEL", "qwen2.5-0.5b")
    monkeypatch.setenv("ARTICLE_BOT_JUDGE_ANSWERS", "true")
    settings = load_settings(max_answer_tokens=64)
    assert settings.judge_answers is True
    assert settings.max_answer_tokens == 64
    assert settings.evidence_sentences == FITTED_FOR_MODEL["qwen2.5-0.5b"]["evidence_sentences"]
    assert "judge_answers" not in settings.fitted_for_model


def test_default_model_keeps_the_field_defaults() -> None:
    settings = load_settings(model=DEFAULT_MODEL)
    assert settings.fitted_for_model == {}
    for name, field in Settings.model_fields.items():
        if field.default_factory is None and name in FITTED_FOR_MODEL["qwen2.5-0.5b"]:
            assert getattr(settings, name) == field.default


@pytest.mark.parametrize("other", ["model_path", "llm_server_url"])
def test_a_model_file_or_server_keeps_the_field_defaults(other: str, tmp_path: Path) -> None:
    gguf = tmp_path / "some.gguf"
    gguf.write_bytes(b"GGUF")
    value: object = gguf if other == "model_path" else "http://127.0.0.1:8001/v1"
    settings = load_settings(model="qwen2.5-0.5b", **{other: value})
    assert settings.fitted_for_model == {}
    assert settings.judge_answers is Settings.model_fields["judge_answers"].default


def test_a_bad_explicit_value_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTICLE_BOT_MODEL", "qwen2.5-0.5b")
    with pytest.raises(SettingsError, match="ARTICLE_BOT_EVIDENCE_SENTENCES"):
        load_settings(evidence_sentences=99)
